"""Counts CSV: manual (or predicted) virion counts per micrograph and class.

Layout: a header ``filename,eccentric,mature,immature`` (class columns = the scheme's names),
then one row per micrograph. Reading accepts the class columns in any order and any letter
case, a ``#filename`` / ``file_name`` / ``file`` / ``image`` / ``micrograph`` column for the
name, ``,`` ``;`` or tab as separator (guessed from the header), a UTF-8 BOM, CRLF line ends and
blank lines; other columns (a ``total``, notes) are ignored. Counts must be whole numbers from 0 to
1,000,000 (``12.0`` is read as 12). Written by the one CSV writer (core.csv_files): a file
name starting like a formula gets a leading quote, which reading removes.
"""

from __future__ import annotations

import csv
import math
import numbers
from typing import Mapping

from temnet_app.core.annotations.text import PathLike, read_text_lines, where
from temnet_app.core.boxes import DEFAULT_SCHEME, ClassScheme
from temnet_app.core.csv_files import unescape_cell, write_rows
from temnet_app.core.errors import AnnotationError

FILENAME_COLUMNS: tuple[str, ...] = ("filename", "file_name", "file", "image", "micrograph")
# No micrograph holds a million virions of one class; a larger number is a typing or export
# error (and would overflow the project's 64-bit integers beyond 9.2e18).
MAX_COUNT = 1_000_000


def read_counts_csv(path: PathLike,
                    scheme: ClassScheme = DEFAULT_SCHEME) -> dict[str, dict[str, int]]:
    """Counts per file name (file order), each ``{class name: count}`` in scheme order."""
    lines = read_text_lines(path)
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise AnnotationError(f"{path} is empty (expected a header "
                              f"filename,{','.join(scheme.names)})")
    header_line = lines[header_at]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    header = [c.strip().lstrip("#").strip().lower()
              for c in _fields(header_line, delimiter, path, header_at + 1)]
    at = where(path, header_at + 1)
    name_col = next((header.index(c) for c in FILENAME_COLUMNS if c in header), None)
    if name_col is None:
        raise AnnotationError(f"{at}: the counts header has no 'filename' column")
    class_cols = {}
    for name in scheme.names:
        if name.lower() not in header:
            raise AnnotationError(f"{at}: the counts header has no {name!r} column (class "
                                  f"columns needed: {', '.join(scheme.names)})")
        class_cols[name] = header.index(name.lower())
    out: dict[str, dict[str, int]] = {}
    first_line: dict[str, int] = {}
    needed = max([name_col, *class_cols.values()]) + 1
    for line_no, line in enumerate(lines[header_at + 1:], start=header_at + 2):
        if not line.strip():
            continue
        fields = _fields(line, delimiter, path, line_no)
        if len(fields) < needed:
            raise AnnotationError(f"{where(path, line_no)}: expected {len(header)} columns, "
                                  f"found {len(fields)}")
        filename = unescape_cell(fields[name_col].strip())
        if not filename:
            raise AnnotationError(f"{where(path, line_no)}: empty file name")
        if filename in first_line:
            raise AnnotationError(f"{where(path, line_no)}: {filename} is listed twice (also "
                                  f"on line {first_line[filename]})")
        first_line[filename] = line_no
        out[filename] = {name: _count(fields[col], name, path, line_no)
                         for name, col in class_cols.items()}
    return out


def write_counts_csv(path: PathLike, counts_by_file: Mapping[str, Mapping[str, int]],
                     scheme: ClassScheme = DEFAULT_SCHEME) -> None:
    """Write ``{file name: {class name: count}}`` as a counts CSV (atomically).

    Class names are matched to ``scheme`` ignoring case; a class missing from a file's mapping
    is written as 0. Unknown class names and counts that are not whole numbers >= 0 raise
    AnnotationError.
    """
    rows = []
    for filename, counts in counts_by_file.items():
        row = {name: 0 for name in scheme.names}
        for key, value in counts.items():
            try:
                name = scheme.name(scheme.id(key))
            except ValueError:
                raise AnnotationError(f"cannot write {path}: unknown class {key!r} for "
                                      f"{filename} (known: {', '.join(scheme.names)})") from None
            if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                    or not math.isfinite(value) or value != int(value) or value < 0
                    or value > MAX_COUNT):
                raise AnnotationError(f"cannot write {path}: count {value!r} of {name} in "
                                      f"{filename} is not a whole number from 0 to "
                                      f"{MAX_COUNT:,}")
            row[name] = int(value)
        rows.append([str(filename), *(row[name] for name in scheme.names)])
    write_rows(path, ["filename", *scheme.names], rows)


def _fields(line: str, delimiter: str, path: PathLike, line_no: int) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise AnnotationError(f"{where(path, line_no)}: malformed CSV ({error})") from None


def _count(text: str, name: str, path: PathLike, line_no: int) -> int:
    text = text.strip()
    at = where(path, line_no)
    if not text:
        raise AnnotationError(f"{at}: no {name} count given")
    try:
        value = float(text)
    except ValueError:
        raise AnnotationError(f"{at}: {name} count {text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value):
        raise AnnotationError(f"{at}: {name} count {text!r} is not a whole number")
    if value < 0:
        raise AnnotationError(f"{at}: {name} count {text!r} is negative")
    if value > MAX_COUNT:
        raise AnnotationError(f"{at}: {name} count {text!r} is implausibly large (the limit "
                              f"is {MAX_COUNT:,} per micrograph and class)")
    return int(value)

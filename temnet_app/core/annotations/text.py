"""Low-level text handling shared by the annotation readers and writers.

Reading a text file with any of the encodings spreadsheet programs and VIA produce, splitting a
CSV line into fields (RFC 4180 quoting plus the unquoted-JSON cells some tools write), and the
number formatting that makes written coordinates read back exactly.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Union

from temnet_app.core.errors import AnnotationError

PathLike = Union[str, os.PathLike]

# Written coordinates are rounded to this many decimals (1/1000 pixel); integral values are
# written without a decimal point. Read coordinates are rounded to READ_DECIMALS, which removes
# the float noise of x + width so that what was written reads back exactly.
WRITE_DECIMALS = 3
READ_DECIMALS = 6

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def where(path: PathLike, line: int | None = None) -> str:
    """``"<path>, line <n>"`` (or just the path) for error messages."""
    return f"{path}, line {line}" if line is not None else f"{path}"


def read_text_lines(path: PathLike) -> list[str]:
    """Lines of a text file (UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252).

    Line ends may be LF, CRLF or CR; the returned lines carry none. Raises AnnotationError
    when the file is missing, unreadable or binary.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnnotationError(f"annotation file not found: {path}") from None
    except OSError as error:
        raise AnnotationError(f"cannot read {path}: {error.strerror or error}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise AnnotationError(f"{path} is not a readable UTF-16 text file") from None
    else:
        if b"\x00" in data:
            raise AnnotationError(f"{path} is not a text (CSV) file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise AnnotationError(f"{path} is not a UTF-8 text (CSV) file") from None
    return _LINE_BREAK.split(text)


def split_csv_line(line: str, path: PathLike, line_no: int) -> list[str]:
    """Split one CSV line into fields.

    A field is either quoted (RFC 4180: ``"..."`` with ``""`` for a quote, as VIA and Python's
    csv module write), an unquoted JSON object or array (``{...}`` / ``[...]``, commas inside
    allowed, as hand-made or script-made VIA files sometimes hold), or plain text up to the
    next comma. Fields spanning several lines are not supported (VIA never writes them).
    """
    fields: list[str] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == '"':
            value, i = _quoted(line, i, len(fields) + 1, path, line_no)
        elif i < n and line[i] in "{[":
            end = _json_end(line, i, path, line_no)
            value, i = line[i:end], end
        else:
            end = line.find(",", i)
            end = n if end < 0 else end
            fields.append(line[i:end].strip())
            if end >= n:
                return fields
            i = end + 1
            continue
        while i < n and line[i] in " \t":
            i += 1
        fields.append(value)
        if i >= n:
            return fields
        if line[i] != ",":
            raise AnnotationError(f"{where(path, line_no)}: unexpected {line[i]!r} after a "
                                  f"quoted or JSON field (column {len(fields)})")
        i += 1


def _quoted(line: str, start: int, column: int, path: PathLike,
            line_no: int) -> tuple[str, int]:
    parts = []
    i = start + 1
    while True:
        j = line.find('"', i)
        if j < 0:
            raise AnnotationError(f"{where(path, line_no)}: unterminated quoted field "
                                  f"(column {column})")
        parts.append(line[i:j])
        if j + 1 < len(line) and line[j + 1] == '"':
            parts.append('"')
            i = j + 2
        else:
            return "".join(parts), j + 1


def _json_end(line: str, start: int, path: PathLike, line_no: int) -> int:
    """Index just after the JSON object/array that starts at ``start`` (strings respected)."""
    depth, i, n = 0, start, len(line)
    in_string = False
    while i < n:
        c = line[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise AnnotationError(f"{where(path, line_no)}: unbalanced braces in an unquoted JSON field")


def csv_field(text: str, always: bool = False) -> str:
    """``text`` as a CSV field, quoted (RFC 4180) when ``always`` or when it holds a comma,
    quote, line break or surrounding blanks."""
    if always or any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def round_write(value: float) -> float:
    """``value`` rounded to WRITE_DECIMALS (``-0.0`` becomes ``0.0``)."""
    return round(float(value), WRITE_DECIMALS) + 0.0


def format_number(value: float) -> str:
    """A rounded coordinate as text: ``"12"`` when integral, else ``"12.5"`` / ``"12.345"``."""
    value = round_write(value)
    if value == int(value):
        return str(int(value))
    return f"{value:.{WRITE_DECIMALS}f}".rstrip("0")


def xywh_for_writing(x1: float, y1: float, x2: float, y2: float) -> tuple[float, ...]:
    """Rounded ``(x, y, width, height)`` of an xyxy box such that ``x + width`` read back and
    rounded to READ_DECIMALS equals ``x2`` rounded to WRITE_DECIMALS. A width or height that
    rounds to zero becomes one unit of the last decimal."""
    rx1, ry1, rx2, ry2 = (round_write(v) for v in (x1, y1, x2, y2))
    unit = 10.0 ** -WRITE_DECIMALS
    w = max(round_write(rx2 - rx1), unit)
    h = max(round_write(ry2 - ry1), unit)
    return rx1, ry1, w, h


def read_coordinate(value: float) -> float:
    """A coordinate as stored after reading: rounded to READ_DECIMALS."""
    return round(float(value), READ_DECIMALS) + 0.0


def parse_number(value: object, name: str, path: PathLike, line_no: int | None) -> float:
    """A finite number from JSON (int, float or numeric string); AnnotationError otherwise."""
    if isinstance(value, bool) or value is None:
        number = math.nan
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = math.nan
    else:
        number = math.nan
    if not math.isfinite(number):
        raise AnnotationError(f"{where(path, line_no)}: {name} is not a number: {value!r}")
    return number

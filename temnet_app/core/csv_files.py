"""The one CSV writer of every export (predict results, counts, reports, the window's exports).

Files are UTF-8, comma-separated, ``\\n`` line ends, one header row, written atomically. A text
cell that a spreadsheet would run as a formula (starting with ``= + - @``, a tab or a carriage
return) gets a leading single quote, so ``=HYPERLINK(...)`` in a file name stays text; numbers
are never escaped (``-1.5`` stays a number). Readers of our own CSVs undo the quote with
:func:`unescape_cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from temnet_app.core.atomic import atomic_write_text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    """``value`` with a leading single quote if it is text starting like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unescape_cell(text: str) -> str:
    """Undo :func:`escape_cell` on a cell read back from one of our CSVs."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """``header`` and ``rows`` as CSV text, text cells escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([escape_cell(str(h)) for h in header])
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue()


def write_rows(path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """Write ``header`` and ``rows`` as CSV to ``path`` atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, csv_text(header, rows))
    return path


def escape_text_cells(table):
    """A copy of the pandas ``table`` whose text (object / string dtype) cells are escaped with
    :func:`escape_cell`; numeric and boolean columns are left as they are."""
    import pandas as pd

    out = table.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    return out


def write_table(table, path) -> Path:
    """Write a pandas ``table`` as CSV (text cells escaped, no index) atomically."""
    path = Path(path)
    text = escape_text_cells(table).to_csv(index=False, lineterminator="\n")
    atomic_write_text(path, text)
    return path

"""Spreadsheet-safe CSV: every export that a person may open in Excel or LibreOffice goes through here.

Dutch spreadsheets split on ``;`` as readily as on ``,``, and a cell that starts with ``=``, ``+``, ``-``,
``@`` (or a tab or carriage return) is run as a formula. So every field is quoted, and a cell that would
start a formula gets a leading apostrophe, which spreadsheets show as text and never evaluate.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = ["safe_cell", "csv_lines"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never as a formula.

    >>> safe_cell("=1+1"), safe_cell(-3.5), safe_cell(None), safe_cell("Camping De Vos")
    ("'=1+1", "'-3.5", '', 'Camping De Vos')
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Sequence[int] = ()) -> Iterator[str]:
    """CSV text line by line (for streaming), every field quoted, every cell made safe.

    Columns whose index is in ``numeric`` are left as numbers (a negative change stays ``-1.5``), since a
    number is never a formula; everything else goes through :func:`safe_cell`.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    keep = set(numeric)

    def line(values: Sequence[Any]) -> str:
        writer.writerow([("" if v is None else v) if i in keep and not isinstance(v, str) else safe_cell(v)
                         for i, v in enumerate(values)])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line([safe_cell(h) for h in header])
    for row in rows:
        yield line(row)

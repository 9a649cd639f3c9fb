"""Row verdicts of a chunk: the first rejection reason per row, whole-row checks, raw rows kept as JSON."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .readers import MALFORMED_MARK, Chunk

__all__ = [
    "SURROGATE",
    "Rejections",
    "check_duplicates",
    "check_malformed",
    "check_utf8",
    "each",
    "json_safe",
]

#: Characters that stand for bytes which were not UTF-8 (read with ``surrogateescape``).
SURROGATE = re.compile(r"[\udc80-\udcff]")

#: A reason: one text, an array aligned with the chunk, or a callable phrasing the reasons for given rows.
Reason = str | np.ndarray | Callable[[np.ndarray], list[str]]


class Rejections:
    """The first failing reason per row of a chunk."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.field = np.full(n, None, dtype=object)

    @property
    def ok(self) -> np.ndarray:
        """Rows with no reason (yet)."""
        return pd.isna(self.reason)

    def add(self, mask: np.ndarray, field_name: str | None, reason: Reason) -> None:
        """Record ``reason`` for the rows in ``mask`` that have none yet.

        ``reason`` is one text, an array aligned with the chunk, or a callable that phrases the reasons for
        the given row positions only (so messages are built for the few bad rows, not the whole chunk).
        """
        mask = np.asarray(mask, dtype=bool) & self.ok
        if not mask.any():
            return
        if isinstance(reason, str):
            self.reason[mask] = reason
        elif callable(reason):
            self.reason[mask] = np.asarray(reason(np.flatnonzero(mask)), dtype=object)
        else:
            self.reason[mask] = np.asarray(reason, dtype=object)[mask]
        self.field[mask] = field_name

    def records(self, chunk: Chunk) -> list[dict[str, Any]]:
        """The rejected rows as stored: row number, field, reason and the raw row as JSON."""
        bad = np.flatnonzero(~self.ok)
        if len(bad) == 0:
            return []
        columns = [str(c) for c in chunk.frame.columns]
        # Plain Python values: a Series per row would coerce text (and choke on undecodable bytes).
        values = chunk.frame.iloc[bad].to_numpy(dtype=object).tolist()
        out = []
        for pos, row in zip(bad, values):
            first = row[0] if row else None
            raw_row: dict[str, Any]
            if isinstance(first, str) and first.startswith(MALFORMED_MARK):
                raw_row = {"fields": [json_safe(v) for v in json.loads(first.removeprefix(MALFORMED_MARK))]}
            else:
                raw_row = {k: json_safe(v) for k, v in zip(columns, row)}
            if chunk.geometry is not None:
                g = chunk.geometry[pos]
                raw_row["geometry"] = None if g is None else _truncate(g.wkt, 2000)
            out.append({
                "row_number": int(chunk.first_row + pos),
                "field": self.field[pos],
                "reason": str(self.reason[pos]),
                "raw": raw_row,
            })
        return out


def each(values: pd.Series, phrase: Callable[[Any], str]) -> Callable[[np.ndarray], list[str]]:
    """A lazy reason: ``phrase`` applied to the values at the rejected positions only."""
    return lambda positions: [phrase(v) for v in values.iloc[positions]]


def _truncate(text: str, limit: int) -> str:
    """At most ``limit`` characters, saying how long the text was."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def json_safe(value: Any) -> Any:
    """A value as it can be kept in the JSON ``raw`` column (bad bytes shown as escapes, not lost)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.loads(json.dumps(value, default=str))
    text = str(value)
    if SURROGATE.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _truncate(text, 10_000)


def check_malformed(frame: pd.DataFrame, rej: Rejections) -> None:
    """Placeholder rows for CSV lines with the wrong number of fields (see the reader)."""
    if frame.empty or frame.columns[0] is None:
        return
    first = frame.iloc[:, 0]
    if first.dtype != object:
        return
    bad = np.fromiter((isinstance(v, str) and v.startswith(MALFORMED_MARK) for v in first), dtype=bool,
                      count=len(first))
    if bad.any():
        fields = first.astype(object).map(lambda v: v.removeprefix(MALFORMED_MARK) if isinstance(v, str) else "")
        n_cols = len(frame.columns)
        rej.add(bad, None, fields.map(
            lambda f: f"row has {len(json.loads(f)) if f.startswith('[') else '?'} fields where the header has "
                      f"{n_cols}; quote values that contain the separator"
        ).to_numpy())


def check_utf8(frame: pd.DataFrame, rej: Rejections, encoding_hint: bool) -> None:
    """Rows whose text had bytes that are not UTF-8 (read with surrogate escapes) are rejected."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object:
            continue  # typed columns (numbers, or Arrow-backed text that is valid UTF-8 by construction)
        bad = np.fromiter((isinstance(v, str) and SURROGATE.search(v) is not None for v in s), dtype=bool,
                          count=len(s))
        if bad.any():
            hint = "; re-save the file as UTF-8 or pass --encoding cp1252" if encoding_hint else ""
            rej.add(bad, str(col), f"text in column {col!r} is not valid UTF-8{hint}")


def check_duplicates(ids: np.ndarray, rows: np.ndarray, seen: dict[str, int], rej: Rejections) -> None:
    """Reject a repeated id within one file, pointing at the row that had it first."""
    reasons = np.full(len(ids), None, dtype=object)
    for i, (sid, ok) in enumerate(zip(ids, rej.ok)):
        if not ok:
            continue
        first = seen.get(sid)
        if first is None:
            seen[sid] = int(rows[i])
        else:
            reasons[i] = (f"row repeats row {first} exactly (same geometry and values)" if sid.startswith("h:")
                          else f"duplicate id {sid!r} in this file (first on row {first})")
    rej.add(~pd.isna(reasons), "source_id", reasons)

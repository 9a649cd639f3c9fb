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

from ..privacy import drop_personal_traits
from ..vocab import personal_trait
from .readers import MALFORMED_MARK, Chunk

__all__ = [
    "SURROGATE",
    "Rejections",
    "SeenIds",
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
        self._ok = np.ones(n, dtype=bool)  # kept beside the reasons: asked for a dozen times per chunk

    @property
    def ok(self) -> np.ndarray:
        """Rows with no reason (yet)."""
        return self._ok.copy()

    def add(self, mask: np.ndarray, field_name: str | None, reason: Reason) -> None:
        """Record ``reason`` for the rows in ``mask`` that have none yet.

        ``reason`` is one text, an array aligned with the chunk, or a callable that phrases the reasons for
        the given row positions only (so messages are built for the few bad rows, not the whole chunk).
        """
        mask = np.asarray(mask, dtype=bool) & self._ok
        if not mask.any():
            return
        self._ok[mask] = False
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
        columns = [json_safe(str(c)) for c in chunk.frame.columns]  # a header can hold NUL or bad bytes too
        # Personal traits are dropped before anything is stored, rejected rows included; a malformed line's
        # fields cannot be told apart, so a file with a trait column keeps none of them.
        trait_columns = {c for c in columns if personal_trait(c)}  # judged once per chunk, not once per row
        traits = bool(trait_columns)
        # Plain Python values: a Series per row would coerce text (and choke on undecodable bytes).
        values = chunk.frame.iloc[bad].to_numpy(dtype=object).tolist()
        out = []
        for pos, row in zip(bad, values):
            first = row[0] if row else None
            raw_row: dict[str, Any]
            if isinstance(first, str) and first.startswith(MALFORMED_MARK):
                raw_row = ({"fields": "not kept: the file has personal-trait columns"} if traits else
                           {"fields": [json_safe(v) for v in json.loads(first.removeprefix(MALFORMED_MARK))]})
            else:
                raw_row = {k: drop_personal_traits(json_safe(v)) for k, v in zip(columns, row)
                           if k not in trait_columns}
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


#: Nesting kept in a raw row; deeper values are kept as (truncated) text.
_RAW_DEPTH = 16


def json_safe(value: Any, _depth: int = 0) -> Any:
    """A value as it can be kept in the JSON ``raw`` column (bad bytes shown as escapes, not lost).

    Strict JSON whatever comes in: infinity is kept as text, nesting is bounded (so no value can make the
    storing of its own rejection fail).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return json_safe(value.item())
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        if _depth >= _RAW_DEPTH:
            return _truncate(repr(value), 2_000)
        if isinstance(value, dict):
            return {json_safe(str(k)): json_safe(v, _depth + 1) for k, v in value.items()}
        return [json_safe(v, _depth + 1) for v in value]
    text = str(value).replace("\x00", "\\x00")  # PostgreSQL's JSONB holds no NUL
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
    values = first.tolist()
    try:
        if MALFORMED_MARK not in "\n".join(values):
            return  # one scan of the joined column instead of a test per value
    except TypeError:  # not all text
        pass
    bad = np.fromiter((isinstance(v, str) and v.startswith(MALFORMED_MARK) for v in values), dtype=bool,
                      count=len(values))
    if bad.any():
        fields = first.astype(object).map(lambda v: v.removeprefix(MALFORMED_MARK) if isinstance(v, str) else "")
        n_cols = len(frame.columns)
        rej.add(bad, None, fields.map(
            lambda f: f"row has {len(json.loads(f)) if f.startswith('[') else '?'} fields where the header has "
                      f"{n_cols}; quote values that contain the separator"
        ).to_numpy())


def _has_surrogate(values: list[Any]) -> bool:
    """Whether any text among ``values`` holds a surrogate: ASCII text cannot (``isascii`` is a flag test), so the
    regex scans only joined text with other characters."""
    try:
        joined = "\n".join(values)
    except TypeError:  # not all text: join what is
        joined = "\n".join(v for v in values if isinstance(v, str))
    return not joined.isascii() and SURROGATE.search(joined) is not None


def check_utf8(frame: pd.DataFrame, rej: Rejections, encoding_hint: bool) -> None:
    """Rows whose text had bytes that are not UTF-8 (read with surrogate escapes) are rejected."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object:
            continue  # typed columns (numbers, or Arrow-backed text that is valid UTF-8 by construction)
        values = s.tolist()
        if not _has_surrogate(values):
            continue
        bad = np.fromiter((isinstance(v, str) and SURROGATE.search(v) is not None for v in values), dtype=bool,
                          count=len(values))
        hint = "; re-save the file as UTF-8 or pass --encoding cp1252" if encoding_hint else ""
        rej.add(bad, str(col), f"text in column {col!r} is not valid UTF-8{hint}")


class SeenIds:
    """The ids a file has had so far: a set for membership (cheap for a million ids), and where each first was,
    looked up only for the rows that repeat one."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._first: dict[str, int] | None = None

    def __contains__(self, sid: object) -> bool:
        return sid in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def contains(self, ids: list[str]) -> np.ndarray:
        """Membership of each id (``map`` over the set's own method: no Python frame per id)."""
        return np.fromiter(map(self._ids.__contains__, ids), dtype=bool, count=len(ids))

    def add(self, ids: list[str], rows: np.ndarray) -> None:
        self._ids.update(ids)
        arr = np.asarray(ids, dtype=object)
        self._chunks.append((arr, np.asarray(rows)))
        if self._first is not None:
            for sid, row in zip(ids, np.asarray(rows).tolist()):
                self._first.setdefault(sid, row)

    def first_row(self, sid: str) -> int:
        if self._first is None:  # built once, the first time a row repeats an id
            self._first = {}
            for ids, rows in self._chunks:
                for k, row in zip(ids.tolist(), rows.tolist()):
                    self._first.setdefault(k, row)
        return self._first[sid]


def check_duplicates(ids: np.ndarray, rows: np.ndarray, seen: SeenIds, rej: Rejections) -> None:
    """Reject a repeated id within one file, pointing at the row that had it first (vectorised over the chunk)."""
    ok = np.flatnonzero(rej.ok)
    if not len(ok):
        return
    cand = np.asarray(ids, dtype=object)[ok]
    cand_list = cand.tolist()
    repeat = np.array(pd.Series(cand, dtype=object).duplicated(keep="first").to_numpy(), dtype=bool)
    if len(seen):
        repeat |= seen.contains(cand_list)
    firsts = ~repeat
    seen.add(cand[firsts].tolist(), np.asarray(rows)[ok[firsts]])
    if not repeat.any():
        return
    reasons = np.full(len(ids), None, dtype=object)
    for pos, sid in zip(ok[repeat].tolist(), cand[repeat].tolist()):
        first = seen.first_row(sid)
        reasons[pos] = (f"row repeats row {first} exactly (same geometry and values)" if sid.startswith("h:")
                        else f"duplicate id {sid!r} in this file (first on row {first})")
    rej.add(~pd.isna(reasons), "source_id", reasons)

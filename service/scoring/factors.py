"""Vectorised building blocks of a factor: signal columns, filters, decay, normalisation and transforms.

Everything here works on whole arrays (one call per factor, never one per park or per signal), so the engine
scales to millions of signals. Text and list fields are kept as categoricals: a filter is evaluated once per
distinct value and then looked up through the codes, which is what makes ``categories contains "drugs"``
cheap on a million rows.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..vocab import SIGNAL_TYPES
from .model import SIGNAL_FIELDS, Factor, Filter, Transform, WeightBy

__all__ = [
    "SignalFrame",
    "TYPE_CODES",
    "EPOCH",
    "day_number",
    "filter_mask",
    "signal_weights",
    "decay",
    "normalise",
    "apply_transform",
]

#: Signal type -> small integer code (the engine groups signals by type once).
TYPE_CODES: dict[str, int] = {t: i for i, t in enumerate(SIGNAL_TYPES)}
EPOCH = np.datetime64("1970-01-01", "D")
_OWN, _NEARBY = 0, 1


def day_number(values: Any) -> np.ndarray:
    """Dates (date objects, ISO text or datetime64) as int32 days since 1970-01-01."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return (arr.astype("datetime64[D]") - EPOCH).astype(np.int32)
    if len(arr) and isinstance(arr.flat[0], str):
        parsed = pd.to_datetime(pd.Series(arr), format="ISO8601").to_numpy(dtype="datetime64[D]")
        return (parsed - EPOCH).astype(np.int32)
    return (np.array(arr, dtype="datetime64[D]") - EPOCH).astype(np.int32)


_BOOL = {True: 1.0, False: 0.0, "true": 1.0, "false": 0.0, "True": 1.0, "False": 0.0, "yes": 1.0, "no": 0.0,
         "ja": 1.0, "nee": 0.0, "1": 1.0, "0": 0.0}


def _objects(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """A 1-d object array (``np.asarray`` would turn a list of equal-length lists into a 2-d array)."""
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return values.astype(object, copy=False)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _text(v: Any, kind: str) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (list, tuple, set)):
        return json.dumps(list(v)) if kind == "list" else ";".join(map(str, v))
    return str(v)


def _as_categorical(values: Sequence[Any] | np.ndarray, kind: str) -> pd.Categorical:
    """Text or list values as a categorical of text (lists as JSON text); None stays missing."""
    arr = _objects(values)
    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        if all(isinstance(u, str) for u in uniques):
            return pd.Categorical.from_codes(codes, categories=pd.Index(list(uniques), dtype=object))
    except TypeError:  # unhashable values: lists given in memory
        pass
    return _as_categorical(np.array([_text(v, kind) for v in arr], dtype=object), kind)


def _as_float(values: Sequence[Any], kind: str) -> np.ndarray:
    """Numbers and booleans as floats (booleans 1/0), missing or non-numeric as NaN."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(float)
    if not isinstance(values, np.ndarray):
        try:
            return np.array(values, dtype=float)  # the fast path for lists: numbers, bools and None (-> NaN)
        except (TypeError, ValueError):
            pass
    arr = _objects(values)
    out = np.full(len(arr), np.nan)
    present = ~pd.isna(arr)
    if not present.any():
        return out
    numeric = (bool, int, float, np.bool_, np.integer, np.floating)
    if kind != "bool" or all(isinstance(v, numeric) for v in arr[present][:1000]):
        try:  # numbers (and booleans given as numbers) convert in one go
            out[present] = arr[present].astype(float)
            return out
        except (TypeError, ValueError):
            pass
    series = pd.Series(arr, dtype=object)
    if kind == "bool":
        series = series.map(lambda v: _BOOL.get(v.strip().lower() if isinstance(v, str) else v, np.nan)
                            if v is not None else np.nan)
    else:
        series = series.map(lambda v: v.replace(",", ".") if isinstance(v, str) else v)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


@dataclass
class SignalFrame:
    """Signals as aligned arrays, sorted by id (so every sum adds in the same order in batch and incremental).

    ``nearby`` marks signals assigned to their park as *nearby* (outside every park); ``fields`` holds the
    fields the model reads: numbers and booleans as float arrays, text and lists as categoricals.
    """

    id: np.ndarray
    park_id: np.ndarray
    nearby: np.ndarray
    distance_m: np.ndarray
    type: np.ndarray
    day: np.ndarray
    fields: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.id)

    @classmethod
    def empty(cls, field_names: Iterable[str] = ()) -> SignalFrame:
        fields: dict[str, Any] = {}
        for name in field_names:
            kind = SIGNAL_FIELDS[name]
            fields[name] = pd.Categorical([]) if kind in ("text", "list") else np.empty(0)
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool), np.empty(0),
                   np.empty(0, np.int8), np.empty(0, np.int32), fields)

    @classmethod
    def from_arrays(cls, ids: np.ndarray, park_id: np.ndarray, nearby: np.ndarray, distance_m: np.ndarray,
                    type_codes: np.ndarray, days: np.ndarray, fields: Mapping[str, Sequence[Any]],
                    field_names: Iterable[str]) -> SignalFrame:
        """From typed arrays plus raw field values (converted here: floats, or categoricals of text)."""
        cols: dict[str, Any] = {}
        n = len(ids)
        for name in field_names:
            kind = SIGNAL_FIELDS[name]
            vals = fields.get(name)
            if vals is None:
                vals = [None] * n
            cols[name] = _as_categorical(vals, kind) if kind in ("text", "list") else _as_float(vals, kind)
        frame = cls(np.asarray(ids, dtype=np.int64), np.asarray(park_id, dtype=np.int64),
                    np.asarray(nearby, dtype=bool), np.asarray(distance_m, dtype=float),
                    np.asarray(type_codes, dtype=np.int8), np.asarray(days, dtype=np.int32), cols)
        if n > 1 and (np.diff(frame.id) < 0).any():
            frame = frame.take(np.argsort(frame.id, kind="stable"))
        return frame

    @classmethod
    def from_columns(cls, *, id: Sequence[Any], park_id: Sequence[Any], assignment: Sequence[str],
                     distance_m: Sequence[Any], type: Sequence[str], date: Any,
                     fields: Mapping[str, Sequence[Any]], field_names: Iterable[str]) -> SignalFrame:
        """Build from plain columns (hand-made data); unassigned signals and unknown types are dropped."""
        n = len(id)
        names = list(field_names)
        if n == 0:
            return cls.empty(names)
        parks = np.array([-1 if p is None or (isinstance(p, float) and np.isnan(p)) else int(p) for p in park_id],
                         dtype=np.int64)
        asg = np.asarray(assignment, dtype=object)
        dist = np.array([np.nan if d is None else float(d) for d in distance_m], dtype=float)
        types = np.array([TYPE_CODES.get(t, -1) for t in type], dtype=np.int8)
        frame = cls.from_arrays(np.asarray(id, dtype=np.int64), parks, asg == "nearby", dist, types,
                                day_number(date), fields, names)
        keep = np.asarray((parks >= 0) & (types >= 0) & (asg != "unassigned"))
        order = np.argsort(np.asarray(id, dtype=np.int64), kind="stable")
        return frame.take(np.flatnonzero(keep[order])) if not keep.all() else frame

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], field_names: Iterable[str]) -> SignalFrame:
        """From dicts shaped like store rows: id, park_id, assignment, distance_m, type, subtype, date, attributes."""
        recs = list(records)
        names = list(field_names)
        fields = {}
        for name in names:
            if name == "subtype":
                fields[name] = [r.get("subtype") for r in recs]
            else:
                fields[name] = [(r.get("attributes") or {}).get(name) for r in recs]
        return cls.from_columns(
            id=[r["id"] for r in recs], park_id=[r.get("park_id") for r in recs],
            assignment=[r.get("assignment", "explicit") for r in recs],
            distance_m=[r.get("distance_m") for r in recs], type=[r["type"] for r in recs],
            date=[r["date"] for r in recs], fields=fields, field_names=names,
        )

    def take(self, idx: np.ndarray) -> SignalFrame:
        fields = {k: (v[idx] if isinstance(v, np.ndarray) else v.take(idx) if len(idx) else v[:0])
                  for k, v in self.fields.items()}
        return SignalFrame(self.id[idx], self.park_id[idx], self.nearby[idx], self.distance_m[idx], self.type[idx],
                           self.day[idx], fields)

    @classmethod
    def concat(cls, parts: list[SignalFrame], field_names: Iterable[str]) -> SignalFrame:
        names = list(field_names)
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty(names)
        if len(parts) == 1:
            return parts[0]
        fields: dict[str, Any] = {}
        for name in names:
            cols = [p.fields[name] for p in parts]
            if isinstance(cols[0], np.ndarray):
                fields[name] = np.concatenate(cols)
            else:
                fields[name] = _union_categoricals(cols)
        frame = cls(np.concatenate([p.id for p in parts]), np.concatenate([p.park_id for p in parts]),
                    np.concatenate([p.nearby for p in parts]), np.concatenate([p.distance_m for p in parts]),
                    np.concatenate([p.type for p in parts]), np.concatenate([p.day for p in parts]), fields)
        if (np.diff(frame.id) < 0).any():
            frame = frame.take(np.argsort(frame.id, kind="stable"))
        return frame


def _union_categoricals(parts: list[pd.Categorical]) -> pd.Categorical:
    """Concatenate categoricals whose categories differ (or are empty), by remapping codes (vectorised)."""
    union = pd.Index(sorted({str(c) for p in parts for c in p.categories}), dtype=object)
    codes = []
    for p in parts:
        mapping = np.append(union.get_indexer(pd.Index([str(c) for c in p.categories], dtype=object)), -1)
        codes.append(mapping[np.asarray(p.codes)])  # code -1 (missing) picks the trailing -1
    return pd.Categorical.from_codes(np.concatenate(codes), categories=union)


# -- filters ------------------------------------------------------------------------------------------
def _category_hits(categories: pd.Index, test) -> np.ndarray:
    """``test`` applied to each distinct value, plus a trailing False for missing values (code -1)."""
    return np.append(np.array([bool(test(c)) for c in categories], dtype=bool), False)


def _parse_list(text: str) -> set[str]:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {p.strip() for p in str(text).replace("|", ";").replace(",", ";").split(";") if p.strip()}
    if isinstance(value, list):
        return {str(v) for v in value}
    return {str(value)}


def filter_mask(flt: Filter, frame: SignalFrame, rows: np.ndarray | slice) -> np.ndarray:
    """Which of ``rows`` meet ``flt`` (missing values never meet a condition, except through ``exists``)."""
    if flt.any_of:
        out = filter_mask(flt.any_of[0], frame, rows)
        for alt in flt.any_of[1:]:
            out = out | filter_mask(alt, frame, rows)
        return out
    col = frame.fields[flt.field]
    kind = SIGNAL_FIELDS[flt.field]
    op, value = flt.op, flt.value
    if kind in ("text", "list"):
        codes = np.asarray(col.codes)[rows]
        cats = col.categories
        if op == "exists":
            return codes >= 0
        if kind == "list":
            if op == "contains":
                lut = _category_hits(cats, lambda c: value in _parse_list(c))
            else:  # contains_any
                wanted = set(value)
                lut = _category_hits(cats, lambda c: bool(wanted & _parse_list(c)))
        else:
            tests = {
                "=": lambda c: c == value,
                "!=": lambda c: c != value,
                "in": lambda c: c in value,
                "not_in": lambda c: c not in value,
            }
            lut = _category_hits(cats, tests[op])
        return lut[codes]
    vals = col[rows]
    present = np.isfinite(vals)
    if op == "exists":
        return present
    if kind == "bool":
        target = 1.0 if value else 0.0
        return present & ((vals == target) if op == "=" else (vals != target))
    with np.errstate(invalid="ignore"):
        if op == "in":
            return present & np.isin(vals, np.asarray(value, dtype=float))
        if op == "not_in":
            return present & ~np.isin(vals, np.asarray(value, dtype=float))
        cmp = {"=": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
               ">=": np.greater_equal}[op]
        return present & cmp(vals, float(value))


def signal_weights(weight_by: WeightBy | None, frame: SignalFrame, rows: np.ndarray) -> np.ndarray:
    """Per-signal weight (1 without ``weight_by``); looked up per distinct value, like filters."""
    if weight_by is None:
        return np.ones(len(rows))
    col = frame.fields[weight_by.field]
    lut = np.append(np.array([weight_by.values.get(str(c), weight_by.default) for c in col.categories], dtype=float),
                    weight_by.default)
    return lut[np.asarray(col.codes)[rows]]


def decay(age_days: np.ndarray, half_life_days: float | None) -> np.ndarray:
    """Weight of a signal ``age_days`` old: halves every half-life (1 without a half-life)."""
    if half_life_days is None:
        return np.ones(len(age_days))
    return np.exp2(-age_days / half_life_days)


# -- normalisation and transforms ---------------------------------------------------------------------------
def normalise(values: np.ndarray, factor: Factor, unit_count: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
    """Raw values per unit, per hectare, or unchanged; small denominators are floored at ``min_units``."""
    if factor.normalise == "per_unit":
        units = np.where(np.isfinite(unit_count), unit_count, 0.0)
        return values / np.maximum(units, factor.min_units)
    if factor.normalise == "per_hectare":
        ha = np.where(np.isfinite(area_m2), area_m2 / 10_000.0, 0.0)
        return values / np.maximum(ha, factor.min_units)
    return values


def apply_transform(values: np.ndarray, t: Transform) -> np.ndarray:
    """Map normalised values onto [0, 1], non-decreasing; NaN (no value) maps to 0."""
    v = np.where(np.isfinite(values), values, 0.0)
    if t.kind == "exp":
        out = -np.expm1(-np.maximum(v, 0.0) / t.param("scale"))
    elif t.kind == "cap":
        out = np.maximum(v, 0.0) / t.param("cap")
    elif t.kind == "ramp":
        lo, hi = t.param("lo"), t.param("hi")
        out = (v - lo) / (hi - lo)
    else:  # step
        out = (v >= t.param("threshold")).astype(float)
    return np.clip(np.where(np.isfinite(values), out, 0.0), 0.0, 1.0)

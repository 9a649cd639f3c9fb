"""Column access for validation: a target field's source column as clean text, numbers, dates, ids, attributes."""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..vocab import personal_trait
from .presets import Preset
from .rows import json_safe

__all__ = [
    "Columns",
    "attributes",
    "clean_text",
    "column",
    "columns_of",
    "mapped_names",
    "numbers",
    "parse_dates",
    "row_content",
    "source_ids",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: The source column of a target field, or None when the file has none.
Columns = Callable[[str], pd.Series | None]


def column(frame: pd.DataFrame, preset: Preset, target: str, overrides: dict[str, str]) -> pd.Series | None:
    """The source column for ``target`` (override, preset mapping, or a column named like the target)."""
    name = overrides.get(target) or preset.columns.get(target) or target
    if name in frame.columns:
        return frame[name]
    return None


def columns_of(frame: pd.DataFrame, preset: Preset, overrides: dict[str, str]) -> Columns:
    """:func:`column` bound to one chunk and mapping, asked by target name."""
    return lambda target: column(frame, preset, target, overrides)


def mapped_names(preset: Preset, overrides: dict[str, str], targets: tuple[str, ...]) -> set[str]:
    """The source column names the targets are read from (the rest of the columns become attributes)."""
    return {overrides.get(t) or preset.columns.get(t) or t for t in targets}


def clean_text(series: pd.Series | None, n: int) -> pd.Series:
    """Values as stripped text with control characters removed ('' for missing)."""
    if series is None:
        return pd.Series([""] * n, dtype=object)
    out = series.astype(object)
    if pd.api.types.infer_dtype(out, skipna=False) != "string":  # CSV columns are text already: skip both
        out = out.where(series.notna(), "").map(lambda v: v if isinstance(v, str) else
                                                 (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    # Plain list passes: a regex scan of the joined column decides whether control characters need
    # removing at all, and str.strip over a list is several times faster than pandas' .str accessor.
    values = out.tolist()
    if _CONTROL.search("\n".join(values)):
        values = [_CONTROL.sub("", v) for v in values]
    return pd.Series([v.strip() for v in values], index=out.index, dtype=object)


def numbers(text: pd.Series, given: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers (decimal comma allowed); returns (values, bad) where bad marks non-numeric text.

    ``given`` (``text != ""``) may be passed by a caller that has it already."""
    values = _arrow_numbers(text)
    if values is None:
        cleaned = text.str.replace(",", ".", regex=False) if "," in "".join(text.tolist()) else text
        values = np.array(pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float), dtype=float)
    bad = ((text != "").to_numpy() if given is None else given) & ~np.isfinite(values)
    return values, bad


def _arrow_numbers(text: pd.Series) -> np.ndarray | None:
    """Every value parsed at once by Arrow (empty as NaN), or None when some value is not a plain number
    (or not valid text): then pandas parses them one by one, marking the bad ones."""
    try:
        arr = pa.array(text.to_numpy(dtype=object), type=pa.string())
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        parsed = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError, ValueError, TypeError):
        return None
    return np.array(parsed.to_numpy(zero_copy_only=False), dtype=float)


def parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates first; then Dutch day-first dates (28-06-2024, 28/06/2024)."""
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    rest = iso.isna() & (text != "")
    if rest.any():
        # A date with a time (and perhaps a zone) counts on the day it names: its own date part, so rows with
        # different zones in one file neither shift a day nor make pandas refuse the whole chunk.
        day = text[rest].str.extract(r"^(\d{4}-\d{2}-\d{2})[T ]\d", expand=False)
        iso[rest] = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
        rest = iso.isna() & (text != "")
    if rest.any():
        try:
            iso[rest] = pd.to_datetime(text[rest], format="ISO8601", errors="coerce")
        except ValueError:  # mixed zones among other ISO forms: those rows are rejected as not a date
            pass
        rest = iso.isna() & (text != "")
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        if not rest.any():
            break
        iso[rest] = pd.to_datetime(text[rest], format=fmt, errors="coerce")
        rest = iso.isna() & (text != "")
    if getattr(iso.dt, "tz", None) is not None:
        iso = iso.dt.tz_localize(None)
    return iso.dt.normalize()


def _canonical(row: dict[str, Any]) -> str:
    """A row as canonical JSON text; values JSON cannot sort or nest that deep fall back to their repr."""
    try:
        return json.dumps(row, sort_keys=True, default=str)
    except (RecursionError, TypeError, ValueError):
        return repr(sorted((str(k), repr(v)[:10_000]) for k, v in row.items()))


def row_content(frame: pd.DataFrame) -> pd.Series:
    """Each row's values as canonical JSON text (what a derived id is computed from)."""
    return pd.Series([_canonical(r) for r in frame.to_dict("records")], dtype=object)


def source_ids(given: pd.Series | None, content: Callable[[], pd.Series], n: int) -> np.ndarray:
    """Stable source ids: the given id, else a hash of the row's content (so re-imports match)."""
    ids = np.array(clean_text(given, n).to_numpy(dtype=object), dtype=object)
    missing = ids == ""
    if missing.any():
        derived = content()[missing].map(
            lambda s: "h:" + hashlib.sha1(s.encode("utf-8", "surrogateescape")).hexdigest()[:20])
        ids[missing] = derived.to_numpy(dtype=object)
    return ids


def attributes(frame: pd.DataFrame, used: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Unmapped columns as per-row attribute dicts; personal-trait columns are left out and named."""
    keep: list[str] = []
    traits: list[str] = []
    for col in frame.columns:
        if col in used:
            continue
        (traits if personal_trait(col) else keep).append(col)
    if not keep:
        return [{} for _ in range(len(frame))], traits
    sub = frame[keep]
    records = sub.to_dict("records")
    # A non-finite number stays a number here, so the strict-JSON check rejects the row rather than it
    # being stored as the text "inf".
    cleaned = [{k: v if isinstance(v, float) else json_safe(v) for k, v in r.items()
                if v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))} for r in records]
    return cleaned, traits

"""Signal validation: one chunk of raw rows to clean signal records (RD x/y, dates, outcomes) and rejections.

Every check is vectorised over the chunk and records the *first* reason a row fails, phrased so a person
can fix the source. A row is either in the clean output or in the rejections, never in neither.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..vocab import INSPECTION_CATEGORIES, SIGNAL_TYPES, personal_trait
from .columns import (
    Columns,
    attributes,
    clean_text,
    columns_of,
    mapped_names,
    numbers,
    parse_dates,
    row_content,
    source_ids,
)
from .crs_check import refuse_contradicting
from .errors import FileRefused
from .jsonvalues import KeyBudget, NotStrict, strict
from .presets import SIGNAL_FIELDS, TOPIC_PATTERNS, Preset
from .readers import Chunk
from .rows import Rejections, SeenIds, check_duplicates, check_malformed, check_utf8, each
from .signal_points import Points, locate_in_rd, read_points

__all__ = ["ParkResolver", "SignalContext", "validate_signals"]

_TRUE = {"1", "true", "yes", "ja", "j", "y", "waar"}
_FALSE = {"0", "false", "no", "nee", "n", "onwaar"}


class ParkResolver(Protocol):
    """What signal validation asks about parks (answered by the store, without loading every park)."""

    def existing(self, ids: Iterable[int]) -> set[int]: ...

    def resolve(self, refs: Iterable[str]) -> dict[str, int]: ...


@dataclass
class SignalContext:
    """What signal validation needs beyond the chunk: CRS, fixed type, and the parks it may refer to."""

    preset: Preset
    crs: str | None
    signal_type: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    #: Answers which park ids exist and which park a reference names (see ``assign.ParkLookup``).
    parks: ParkResolver | None = None
    max_name_length: int = 200
    today: dt.date = field(default_factory=dt.date.today)
    seen_ids: SeenIds = field(default_factory=SeenIds)
    ignored_columns: set[str] = field(default_factory=set)
    encoding_hint: bool = True
    #: For messages: the file's name and where its CRS came from.
    source_name: str = "the file"
    crs_from: str = "declared"
    #: Whether the coordinates still have to be checked against the CRS (the first chunk does it).
    check_crs: bool = True
    #: Keep every row's id (``--snapshot`` must know which stored signals the file still holds).
    keep_ids: bool = False
    all_ids: list[np.ndarray] = field(default_factory=list)
    keys: KeyBudget = field(default_factory=KeyBudget)


def validate_signals(chunk: Chunk, ctx: SignalContext) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Clean signal records (RD x/y, parsed dates and outcomes) and the rejected rows of one chunk.

    The steps run in this order, so a row is rejected for the first of them it fails: whole rows, type,
    date, location, park, outcomes, lengths, attributes, ids (a duplicate only of an otherwise good row).
    """
    frame, n = chunk.frame, len(chunk.frame)
    rej = Rejections(n)
    rows = np.arange(chunk.first_row, chunk.first_row + n)
    check_malformed(frame, rej)
    check_utf8(frame, rej, ctx.encoding_hint)
    col = columns_of(frame, ctx.preset, ctx.overrides)

    fixed_type = ctx.signal_type or ctx.preset.constants.get("type")
    stype = _types(col, n, fixed_type, rej)
    dates = _dates(col, n, ctx, rej)
    points = read_points(chunk, col, ctx.crs, rej)
    _check_crs(points, col, ctx, rej)
    locate_in_rd(points, rej)
    park = _explicit_parks(col, n, ctx, rej)
    _check_located(points, park, rej)
    extra = _outcomes(col, n, stype, points, rej)
    name, subtype = _names_and_subtypes(col, n, ctx, rej)
    attrs = _signal_attributes(frame, n, ctx, fixed_type, rej)
    _add_topics(frame, n, ctx, attrs)
    for k in np.flatnonzero((name != "").to_numpy()).tolist():
        attrs[k]["name"] = name.iat[k]
    for i, more in extra.items():
        attrs[i].update(more)
    _check_strict(attrs, ctx, rej)
    ids = source_ids(col("source_id"), lambda: row_content(frame), n)
    if ctx.keep_ids:
        ctx.all_ids.append(ids)
    check_duplicates(ids, rows, ctx.seen_ids, rej)

    sub = subtype.to_numpy(dtype=object).copy()
    sub[sub == ""] = None
    # Text columns stay Python objects (pandas 3 would turn them into Arrow strings and back again).
    out = pd.DataFrame({
        "source_id": pd.Series(ids, dtype=object),
        "type": pd.Series(stype.to_numpy(dtype=object), dtype=object),
        "subtype": pd.Series(sub, dtype=object),
        "date": dates.to_numpy(dtype="datetime64[D]"),
        "x": points.x,
        "y": points.y,
        "explicit_park": park,
        "attributes": pd.Series(attrs, dtype=object),
        "row_number": rows,
    })
    return out[rej.ok].reset_index(drop=True), rej.records(chunk)


def _types(col: Columns, n: int, fixed_type: str | None, rej: Rejections) -> pd.Series:
    """Signal type, fixed by the caller or preset, else from a column; only the vocabulary's types pass."""
    if fixed_type:
        stype = pd.Series([fixed_type] * n, dtype=object)
    else:
        tcol = col("type")
        if tcol is None:
            raise FileRefused("no signal type: pass --type TYPE or give the file a 'type' column")
        stype = pd.Series([t.lower() for t in clean_text(tcol, n).tolist()], dtype=object)
    unknown = ~stype.isin(SIGNAL_TYPES).to_numpy()
    rej.add(unknown, "type", each(stype, lambda t: f"unknown signal type {t!r}; known: {', '.join(SIGNAL_TYPES)}"))
    return stype


def _dates(col: Columns, n: int, ctx: SignalContext, rej: Rejections) -> pd.Series:
    """The date a signal happened: required, parseable, not in the future (scores weigh it by age)."""
    dcol = col("date")
    if dcol is None:
        raise FileRefused("missing required column 'date'")
    dtext = clean_text(dcol, n)
    dates = parse_dates(dtext)
    rej.add((dtext == "").to_numpy(), "date", "date is missing")
    rej.add(dates.isna().to_numpy(), "date", each(dtext, lambda d: f"date {d!r} is not a date (use YYYY-MM-DD)"))
    future = (dates > pd.Timestamp(ctx.today)).fillna(False).to_numpy(dtype=bool)
    rej.add(future, "date", each(dates, lambda d: f"date {d.date() if not pd.isna(d) else d} lies in the future"))
    return dates


def _explicit_parks(col: Columns, n: int, ctx: SignalContext, rej: Rejections) -> np.ndarray:
    """The park a row names, by internal id or by the park's source id (-1 for none); unknown ones rejected."""
    park = np.full(n, -1, dtype=np.int64)
    pid_c, pref_c = col("park_id"), col("park_ref")
    if pid_c is not None:
        pt = clean_text(pid_c, n)
        pv, bad = numbers(pt)
        rej.add(bad, "park_id", "park_id is not a number")
        has = np.isfinite(pv)
        wanted = np.where(has, pv, -1).astype(np.int64)
        known = ctx.parks.existing(wanted[has].tolist()) if ctx.parks is not None else set()
        missing = has & ~np.isin(wanted, np.fromiter(known, dtype=np.int64, count=len(known)))
        rej.add(missing, "park_id", each(pt, lambda v: f"park_id {v} matches no park"))
        park[has] = pv[has].astype(np.int64)
    if pref_c is not None:
        rt = clean_text(pref_c, n)
        refs = ctx.parks.resolve(set(rt.tolist()) - {""}) if ctx.parks is not None else {}
        mapped = rt.map(lambda r: refs.get(r, -1)).to_numpy(dtype=np.int64)
        rej.add((rt != "").to_numpy() & (mapped < 0), "park_ref", each(rt, lambda r: f"park_ref {r!r} matches no park"))
        park = np.where((park < 0) & (mapped >= 0), mapped, park)
    return park


def _check_located(points: Points, park: np.ndarray, rej: Rejections) -> None:
    """Reject rows with neither a location nor a park: such a signal belongs nowhere on the map."""
    nowhere = ~np.isfinite(points.x) & (park < 0)
    rej.add(nowhere, "location", "no location and no park: give lon/lat, x/y, wkt or a park_id/park_ref")


def _check_crs(points: Points, col: Columns, ctx: SignalContext, rej: Rejections) -> None:
    """On the first chunk: refuse a file whose coordinates contradict its CRS throughout (before any write)."""
    if not ctx.check_crs:
        return
    ctx.check_crs = False
    if col("lon") is not None or col("lat") is not None:
        how = "lon/lat columns"
    elif col("x") is not None or col("wkt") is not None:
        how = "--crs"
    else:
        how = ctx.crs_from
    ok = rej.ok
    refuse_contradicting(points.x[ok], points.y[ok], points.crs or "EPSG:4326", name=ctx.source_name, how=how)


def _outcomes(col: Columns, n: int, stype: pd.Series, points: Points, rej: Rejections) -> dict[int, dict[str, Any]]:
    """Outcome attributes by row: inspections need violation yes/no, registrations a resident count."""
    extra: dict[int, dict[str, Any]] = {}
    is_insp = (stype == "inspection").to_numpy()
    if is_insp.any() or col("violation") is not None or col("categories") is not None:
        is_insp, vbool, cats = _inspection_outcomes(col, n, stype, rej)
        vlist, clist = vbool.tolist(), cats.tolist()
        for i in np.flatnonzero(is_insp).tolist():
            if vlist[i] is not None:
                extra.setdefault(i, {}).update(violation=bool(vlist[i]), categories=clist[i])
    if col("residents") is not None or (stype == "registration").to_numpy().any():
        residents = _residents(col, n, stype, rej)
        for i in np.flatnonzero(np.isfinite(residents)).tolist():
            extra.setdefault(i, {})["residents"] = int(residents[i])
    for i in np.flatnonzero(~pd.isna(points.note)).tolist():
        extra.setdefault(i, {})["location_note"] = points.note[i]
    return extra


def _inspection_outcomes(col: Columns, n: int, stype: pd.Series,
                         rej: Rejections) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """(is inspection, violation, categories): an inspection without a yes/no outcome says nothing."""
    vtext = clean_text(col("violation"), n).str.lower()
    vbool = vtext.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
    is_insp = (stype == "inspection").to_numpy()
    rej.add(is_insp & vbool.isna().to_numpy(), "violation",
            each(vtext, lambda v: f"inspection outcome violation must be yes or no, not {v!r}" if v else
                 "inspection without outcome: give violation yes or no"))
    ctext = clean_text(col("categories"), n)
    cats = ctext.map(lambda c: [p.strip().lower() for p in re.split(r"[;,|]", c) if p.strip()] if c else [])
    bad_cats = cats.map(lambda cs: [c for c in cs if c not in INSPECTION_CATEGORIES])
    rej.add(bad_cats.map(bool).to_numpy(), "categories",
            each(bad_cats, lambda b: f"unknown inspection categories {b}; known: {', '.join(INSPECTION_CATEGORIES)}"))
    return is_insp, vbool, cats


def _residents(col: Columns, n: int, stype: pd.Series, rej: Rejections) -> np.ndarray:
    """Resident counts (NaN where none): whole numbers, and required for a registration."""
    residents, bad_res = numbers(clean_text(col("residents"), n))
    is_reg = (stype == "registration").to_numpy()
    rej.add(bad_res | (np.isfinite(residents) & ((residents < 0) | (residents != np.floor(residents)))),
            "residents", "residents must be a whole number of 0 or more")
    rej.add(is_reg & ~np.isfinite(residents), "residents", "registration without a resident count")
    return residents


def _names_and_subtypes(col: Columns, n: int, ctx: SignalContext, rej: Rejections) -> tuple[pd.Series, pd.Series]:
    """Name and subtype; overlong ones are rejected rather than cut, so nothing is stored half."""
    name = clean_text(col("name"), n)
    if col("name") is not None:
        rej.add((name.str.len() > ctx.max_name_length).to_numpy(), "name",
                f"name is longer than {ctx.max_name_length} characters")
    subtype = clean_text(col("subtype"), n)
    if col("subtype") is not None:
        rej.add((subtype.str.len() > 100).to_numpy(), "subtype", "subtype is longer than 100 characters")
    return name, subtype


def _given_attributes(given: Any) -> dict[str, Any] | None:
    """An ``attributes`` value as an object: a dict, or JSON text holding one (a CSV column); else None."""
    if isinstance(given, dict):
        return given
    if isinstance(given, str) and given.strip().startswith("{"):
        try:
            value = json.loads(given)
        except (ValueError, RecursionError):
            return None
        return value if isinstance(value, dict) else None
    return None


def _signal_attributes(frame: pd.DataFrame, n: int, ctx: SignalContext, fixed_type: str | None,
                       rej: Rejections) -> list[dict[str, Any]]:
    """Unmapped columns and a JSON ``attributes`` object per row, never personal traits (those are named).

    Values are made strict JSON later (:func:`_check_strict`), for every entry point alike.
    """
    used = mapped_names(ctx.preset, ctx.overrides, SIGNAL_FIELDS)
    if fixed_type and "type" not in ctx.preset.columns and "type" not in ctx.overrides:
        used.discard("type")  # a 'type' column beside --type is kept as an attribute
    attrs, traits = attributes(frame.drop(columns=["attributes"], errors="ignore"), used)
    ctx.ignored_columns.update(traits)
    if "attributes" in frame.columns:  # JSON payloads (and some files) carry an attributes object per row
        bad = np.zeros(n, dtype=bool)
        for i, given in enumerate(frame["attributes"].tolist()):
            if given is None or (isinstance(given, float) and math.isnan(given)) or \
                    (isinstance(given, str) and not given.strip()):
                continue
            obj = _given_attributes(given)
            if obj is None:
                bad[i] = True
                continue
            traits_here = [k for k in obj if personal_trait(str(k))]
            ctx.ignored_columns.update(str(k) for k in traits_here)
            attrs[i] = {**{k: v for k, v in obj.items() if k not in traits_here}, **attrs[i]}
        rej.add(bad, "attributes", "attributes must be a JSON object")
    return attrs


def _check_strict(attrs: list[dict[str, Any]], ctx: SignalContext, rej: Rejections) -> None:
    """Attributes as strict JSON within the size bounds; a row that breaks them is rejected with the reason."""
    reasons = np.full(len(attrs), None, dtype=object)
    ok = rej.ok
    for i in np.flatnonzero(ok):
        a = attrs[i]
        if not a:
            continue
        try:
            attrs[i] = strict(a)
        except NotStrict as exc:
            reasons[i] = str(exc)
            continue
        reasons[i] = ctx.keys.admit(a.keys())
    rej.add(~pd.isna(reasons), "attributes", reasons)


def _add_topics(frame: pd.DataFrame, n: int, ctx: SignalContext, attrs: list[dict[str, Any]]) -> None:
    """Topics found in a title column (a preset's ``topics_from``), so permits can be told apart."""
    if ctx.preset.topics_from and ctx.preset.topics_from in frame.columns:
        titles = clean_text(frame[ctx.preset.topics_from], n)
        for i, t in enumerate(titles):
            topics = [k for k, pat in TOPIC_PATTERNS.items() if pat.search(t)]
            if topics:
                attrs[i]["topics"] = topics

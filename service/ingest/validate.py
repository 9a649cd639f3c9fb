"""Row validation: turn a chunk of raw rows into clean park or signal records plus rejected rows.

Every check is vectorised over the chunk and records the *first* reason a row fails, phrased so a person
can fix the source. A row is either in the clean output or in the rejections, never in neither.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd
import shapely

from .. import geo
from ..vocab import INSPECTION_CATEGORIES, PARK_KINDS, SIGNAL_TYPES, personal_trait
from .errors import FileRefused
from .presets import TOPIC_PATTERNS, Preset
from .readers import MALFORMED_MARK, Chunk

__all__ = [
    "Rejections",
    "ParkContext",
    "SignalContext",
    "validate_parks",
    "validate_signals",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\udc80-\udcff]")
_TRUE = {"1", "true", "yes", "ja", "j", "y", "waar"}
_FALSE = {"0", "false", "no", "nee", "n", "onwaar"}
_KIND_MAP = {
    "bungalowpark": "bungalowpark",
    "camping": "camping",
    "kampeerterrein": "camping",
    "camping, kampeerterrein": "camping",
    "caravanpark": "caravanpark",
    "": "unknown",
    "unknown": "unknown",
    "onbekend": "unknown",
}


class Rejections:
    """The first failing reason per row of a chunk."""

    def __init__(self, n: int) -> None:
        self.reason = np.full(n, None, dtype=object)
        self.field = np.full(n, None, dtype=object)

    @property
    def ok(self) -> np.ndarray:
        return pd.isna(self.reason)

    def add(self, mask: np.ndarray, field_name: str | None,
            reason: str | np.ndarray | Callable[[np.ndarray], list[str]]) -> None:
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
        bad = np.flatnonzero(~self.ok)
        if len(bad) == 0:
            return []
        columns = [str(c) for c in chunk.frame.columns]
        # Plain Python values: a Series per row would coerce text (and choke on undecodable bytes).
        values = chunk.frame.iloc[bad].to_numpy(dtype=object).tolist()
        out = []
        for pos, row in zip(bad, values):
            first = row[0] if row else None
            if isinstance(first, str) and first.startswith(MALFORMED_MARK):
                raw_row = {"fields": [_json_safe(v) for v in json.loads(first.removeprefix(MALFORMED_MARK))]}
            else:
                raw_row = {k: _json_safe(v) for k, v in zip(columns, row)}
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


def _each(values: pd.Series, phrase: Callable[[Any], str]) -> Callable[[np.ndarray], list[str]]:
    """A lazy reason: ``phrase`` applied to the values at the rejected positions only."""
    return lambda positions: [phrase(v) for v in values.iloc[positions]]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _json_safe(value: Any) -> Any:
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
    if _SURROGATE.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _truncate(text, 10_000)


# -- column access ----------------------------------------------------------------------------------
def _column(frame: pd.DataFrame, preset: Preset, target: str, overrides: dict[str, str]) -> pd.Series | None:
    """The source column for ``target`` (override, preset mapping, or a column named like the target)."""
    name = overrides.get(target) or preset.columns.get(target) or target
    if name in frame.columns:
        return frame[name]
    return None


def _text(series: pd.Series | None, n: int) -> pd.Series:
    """Values as stripped text with control characters removed ('' for missing)."""
    if series is None:
        return pd.Series([""] * n, dtype=object)
    out = series.astype(object).where(series.notna(), "")
    if pd.api.types.infer_dtype(out, skipna=False) != "string":  # CSV columns are text already: skip the map
        out = out.map(lambda v: v if isinstance(v, str) else
                      (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    if out.str.contains(_CONTROL, regex=True).any():
        out = out.str.replace(_CONTROL, "", regex=True)
    return out.str.strip()


def _check_malformed(frame: pd.DataFrame, rej: Rejections) -> None:
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


def _check_utf8(frame: pd.DataFrame, rej: Rejections, encoding_hint: bool) -> None:
    """Rows whose text had bytes that are not UTF-8 (read with surrogate escapes) are rejected."""
    for col in frame.columns:
        s = frame[col]
        if s.dtype != object:
            continue  # typed columns (numbers, or Arrow-backed text that is valid UTF-8 by construction)
        bad = np.fromiter((isinstance(v, str) and _SURROGATE.search(v) is not None for v in s), dtype=bool,
                          count=len(s))
        if bad.any():
            hint = "; re-save the file as UTF-8 or pass --encoding cp1252" if encoding_hint else ""
            rej.add(bad, str(col), f"text in column {col!r} is not valid UTF-8{hint}")


def _numbers(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers (decimal comma allowed); returns (values, bad) where bad marks non-numeric text."""
    cleaned = text.str.replace(",", ".", regex=False)
    values = np.array(pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float), dtype=float)
    bad = (text != "").to_numpy() & ~np.isfinite(values)
    return values, bad


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO dates first; then Dutch day-first dates (28-06-2024, 28/06/2024)."""
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    rest = iso.isna() & (text != "")
    if rest.any():
        iso_long = pd.to_datetime(text[rest], format="ISO8601", errors="coerce")
        iso[rest] = iso_long
        rest = iso.isna() & (text != "")
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        if not rest.any():
            break
        iso[rest] = pd.to_datetime(text[rest], format=fmt, errors="coerce")
        rest = iso.isna() & (text != "")
    if getattr(iso.dt, "tz", None) is not None:
        iso = iso.dt.tz_localize(None)
    return iso.dt.normalize()


def _row_content(frame: pd.DataFrame) -> pd.Series:
    """Each row's values as canonical JSON text (what a derived id is computed from)."""
    return pd.Series([json.dumps(r, sort_keys=True, default=str) for r in frame.to_dict("records")], dtype=object)


def _source_ids(given: pd.Series | None, content: Callable[[], pd.Series], n: int) -> np.ndarray:
    """Stable source ids: the given id, else a hash of the row's content (so re-imports match)."""
    ids = np.array(_text(given, n).to_numpy(dtype=object), dtype=object)
    missing = ids == ""
    if missing.any():
        derived = content()[missing].map(
            lambda s: "h:" + hashlib.sha1(s.encode("utf-8", "surrogateescape")).hexdigest()[:20])
        ids[missing] = derived.to_numpy(dtype=object)
    return ids


def _duplicates(ids: np.ndarray, rows: np.ndarray, seen: dict[str, int], rej: Rejections) -> None:
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


def _attributes(frame: pd.DataFrame, used: set[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Unmapped columns as per-row attribute dicts; personal-trait columns are left out and named."""
    keep, traits = [], []
    for col in frame.columns:
        if col in used:
            continue
        (traits if personal_trait(col) else keep).append(col)
    if not keep:
        return [{} for _ in range(len(frame))], traits
    sub = frame[keep]
    records = sub.to_dict("records")
    cleaned = [{k: _json_safe(v) for k, v in r.items() if v is not None and v != "" and not (isinstance(v, float) and math.isnan(v))} for r in records]
    return cleaned, traits


# -- parks ------------------------------------------------------------------------------------------
@dataclass
class ParkContext:
    """What park validation needs to know beyond the chunk."""

    crs: str
    preset: Preset
    overrides: dict[str, str] = field(default_factory=dict)
    id_column: str | None = None
    max_name_length: int = 200
    seen_ids: dict[str, int] = field(default_factory=dict)
    ignored_columns: set[str] = field(default_factory=set)
    this_year: int = dt.date.today().year


def _municipality_codes(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    digits = text.str.upper().str.removeprefix("GM")
    good = digits.str.fullmatch(r"\d{1,4}").to_numpy(dtype=bool)
    codes = np.where(good, "GM" + digits.str.zfill(4), None)
    bad = (text != "").to_numpy() & ~good
    return codes.astype(object), bad


def validate_parks(chunk: Chunk, ctx: ParkContext) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Clean park records (RD geometry, normalised fields) and the rejected rows of one chunk."""
    frame = chunk.frame
    n = len(frame)
    rej = Rejections(n)
    rows = np.arange(chunk.first_row, chunk.first_row + n)
    _check_malformed(frame, rej)
    _check_utf8(frame, rej, encoding_hint=False)
    col = lambda target: _column(frame, ctx.preset, target, ctx.overrides)  # noqa: E731

    # Geometry: present, polygonal, repaired, in the Netherlands.
    if chunk.geometry is None:
        wkt = col("wkt") if col("wkt") is not None else col("geometry")
        if wkt is None:
            raise FileRefused("a parks file needs geometry: use a geodata file or a 'wkt' column")
        geoms = shapely.from_wkt(_text(wkt, n).replace("", None).to_numpy(), on_invalid="ignore")
    else:
        geoms = chunk.geometry
    repaired = np.full(n, None, dtype=object)
    notes = np.full(n, None, dtype=object)
    geom_reason = np.full(n, None, dtype=object)
    for i, g in enumerate(geoms):
        if g is None:
            geom_reason[i] = "row has no geometry"
            continue
        was_valid = g.is_valid
        fixed, why = geo.repair_polygonal(g)
        if fixed is None:
            geom_reason[i] = why
        else:
            repaired[i] = fixed
            if not was_valid:
                notes[i] = "invalid geometry repaired with make_valid"
    rej.add(~pd.isna(geom_reason), "geometry", geom_reason)
    ok_geom = ~pd.isna(repaired)
    if ok_geom.any() and ctx.crs != geo.RD:
        repaired[ok_geom] = shapely.transform(
            repaired[ok_geom].astype(object),
            lambda xy: np.column_stack(geo.transformer(ctx.crs, geo.RD).transform(xy[:, 0], xy[:, 1])),
        )
    if ok_geom.any():
        centroids = shapely.centroid(repaired[ok_geom].astype(object))
        lon, lat = geo.to_lonlat(shapely.get_x(centroids), shapely.get_y(centroids), geo.RD)
        outside = np.zeros(n, dtype=bool)
        outside[ok_geom] = ~geo.inside_netherlands_lonlat(lon, lat)
        rej.add(outside, "geometry", "park lies outside the Netherlands (area of use of EPSG:28992); check --crs")

    name = _text(col("name"), n)
    too_long = (name.str.len() > ctx.max_name_length).to_numpy()
    rej.add(too_long, "name", f"name is longer than {ctx.max_name_length} characters")

    kind_raw = _text(col("kind"), n).str.lower()
    kind = kind_raw.map(lambda k: _KIND_MAP.get(k, k if k in PARK_KINDS else "unknown"))

    mcode, bad_code = _municipality_codes(_text(col("municipality_code"), n))
    rej.add(bad_code, "municipality_code", "municipality code is not a CBS code such as GM0513 or 0513")

    units, bad_units = _numbers(_text(col("unit_count"), n))
    rej.add(bad_units, "unit_count", "unit count is not a number")
    neg_units = np.isfinite(units) & ((units < 0) | (units != np.floor(units)))
    rej.add(neg_units, "unit_count", "unit count must be a whole number of 0 or more")

    year, bad_year = _numbers(_text(col("takeover_year"), n))
    rej.add(bad_year, "takeover_year", "take-over year is not a number")
    out_year = np.isfinite(year) & ((year < 1900) | (year > ctx.this_year) | (year != np.floor(year)))
    rej.add(out_year, "takeover_year", f"take-over year must lie between 1900 and {ctx.this_year}")

    id_col = frame[ctx.id_column] if ctx.id_column and ctx.id_column in frame.columns else col("source_id")
    if ctx.id_column and ctx.id_column not in frame.columns:
        raise FileRefused(f"id column {ctx.id_column!r} is not in the file; columns: {', '.join(frame.columns)}")
    # Files without ids (TOP10NL extracts) get an id from the geometry (to the centimetre) and all values
    # of the row: the same polygon under two names stays two records, an exact repeat is a duplicate.
    def content() -> pd.Series:
        geom_key = pd.Series([
            "" if g is None else shapely.to_wkb(shapely.set_precision(g, 0.01), hex=True) for g in repaired
        ], dtype=object)
        return geom_key + _row_content(frame)

    ids = _source_ids(id_col, content, n)
    _duplicates(ids, rows, ctx.seen_ids, rej)

    used = {ctx.overrides.get(t) or ctx.preset.columns.get(t) or t for t in
            ("name", "kind", "municipality_code", "municipality_name", "province", "unit_count", "operator",
             "takeover_year", "source_id", "wkt", "geometry")}
    if ctx.id_column:
        used.add(ctx.id_column)
    attrs, traits = _attributes(frame, used)
    ctx.ignored_columns.update(traits)

    ok = rej.ok
    out = pd.DataFrame({
        "source_id": ids,
        "name": name.replace("", None).to_numpy(dtype=object),
        "kind": kind.to_numpy(dtype=object),
        "municipality_code": mcode,
        "municipality_name": _text(col("municipality_name"), n).replace("", None).to_numpy(dtype=object),
        "province": _text(col("province"), n).replace("", None).to_numpy(dtype=object),
        "unit_count": pd.array(np.where(np.isfinite(units), units, np.nan), dtype="Int64"),
        "operator": _text(col("operator"), n).replace("", None).to_numpy(dtype=object),
        "takeover_year": pd.array(np.where(np.isfinite(year), year, np.nan), dtype="Int64"),
        "geometry": repaired,
        "row_number": rows,
    })
    for i, note in enumerate(notes):
        if note:
            attrs[i] = {**attrs[i], "geometry_note": note}
    for i, (k_raw, k) in enumerate(zip(kind_raw, kind)):
        if k_raw and _KIND_MAP.get(k_raw) is None and k_raw not in PARK_KINDS:
            attrs[i] = {**attrs[i], "kind_source": k_raw}
    out["attributes"] = attrs
    return out[ok].reset_index(drop=True), rej.records(chunk)


# -- signals ----------------------------------------------------------------------------------------
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
    #: Answers which park ids exist and which park a reference names (see ``pipeline.ParkLookup``).
    parks: ParkResolver | None = None
    max_name_length: int = 200
    today: dt.date = field(default_factory=dt.date.today)
    seen_ids: dict[str, int] = field(default_factory=dict)
    ignored_columns: set[str] = field(default_factory=set)
    encoding_hint: bool = True


def _location_hint(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Reason text for points outside the Netherlands, naming the likely mistake."""
    swapped = geo.inside_netherlands_lonlat(lat, lon)
    metres = (np.abs(lon) > 1000) | (np.abs(lat) > 1000)
    reasons = np.full(len(lon), "coordinates lie outside the Netherlands (area of use of EPSG:28992)", dtype=object)
    reasons[swapped] = "coordinates lie outside the Netherlands; latitude and longitude look swapped"
    reasons[metres] = ("coordinates lie outside the Netherlands; they look like RD metres (EPSG:28992) "
                       "labelled as degrees: pass --crs EPSG:28992 and use x/y columns")
    return reasons


def validate_signals(chunk: Chunk, ctx: SignalContext) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Clean signal records (RD x/y, parsed dates and outcomes) and the rejected rows of one chunk."""
    frame = chunk.frame
    n = len(frame)
    rej = Rejections(n)
    rows = np.arange(chunk.first_row, chunk.first_row + n)
    _check_malformed(frame, rej)
    _check_utf8(frame, rej, ctx.encoding_hint)
    col = lambda target: _column(frame, ctx.preset, target, ctx.overrides)  # noqa: E731

    # Type: fixed by the caller or preset, else from a column.
    fixed_type = ctx.signal_type or ctx.preset.constants.get("type")
    if fixed_type:
        stype = pd.Series([fixed_type] * n, dtype=object)
    else:
        tcol = col("type")
        if tcol is None:
            raise FileRefused("no signal type: pass --type TYPE or give the file a 'type' column")
        stype = _text(tcol, n).str.lower()
    unknown = ~stype.isin(SIGNAL_TYPES).to_numpy()
    rej.add(unknown, "type", _each(stype, lambda t: f"unknown signal type {t!r}; known: {', '.join(SIGNAL_TYPES)}"))

    # Date: required, parseable, not in the future.
    dcol = col("date")
    if dcol is None:
        raise FileRefused("missing required column 'date'")
    dtext = _text(dcol, n)
    dates = _parse_dates(dtext)
    rej.add((dtext == "").to_numpy(), "date", "date is missing")
    rej.add(dates.isna().to_numpy(), "date", _each(dtext, lambda d: f"date {d!r} is not a date (use YYYY-MM-DD)"))
    future = (dates > pd.Timestamp(ctx.today)).fillna(False).to_numpy(dtype=bool)
    rej.add(future, "date", _each(dates, lambda d: f"date {d.date() if not pd.isna(d) else d} lies in the future"))

    # Location: geometry, WKT, lon/lat or x/y, reprojected to RD and checked against the Netherlands.
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    src_crs = ctx.crs
    loc_from = np.full(n, None, dtype=object)
    if chunk.geometry is not None:
        g = chunk.geometry
        present = np.array([gg is not None and not gg.is_empty for gg in g], dtype=bool)
        pts = np.array([gg if (gg is None or gg.geom_type == "Point") else gg.representative_point() for gg in g],
                       dtype=object)
        nonpoint = np.array([gg is not None and gg.geom_type != "Point" for gg in g], dtype=bool)
        loc_from[nonpoint] = "representative point of a non-point geometry"
        if present.any():
            x[present] = shapely.get_x(pts[present].astype(object))
            y[present] = shapely.get_y(pts[present].astype(object))
    else:
        lon_c, lat_c, x_c, y_c, wkt_c = col("lon"), col("lat"), col("x"), col("y"), col("wkt")
        if lon_c is not None or lat_c is not None:
            pairs = (("lon", lon_c), ("lat", lat_c))
            src_crs = src_crs or geo.WGS84
        elif x_c is not None or y_c is not None:
            pairs = (("x", x_c), ("y", y_c))
            if not src_crs:
                raise FileRefused("x/y columns need the coordinate system: pass --crs (e.g. EPSG:28992)")
        else:
            pairs = ()
        if pairs:
            (na, ca), (nb, cb) = pairs
            ta, tb = _text(ca, n), _text(cb, n)
            va, bad_a = _numbers(ta)
            vb, bad_b = _numbers(tb)
            rej.add(bad_a, na, _each(ta, lambda v: f"{na} {v!r} is not a number"))
            rej.add(bad_b, nb, _each(tb, lambda v: f"{nb} {v!r} is not a number"))
            rej.add((ta == "").to_numpy() & (tb != "").to_numpy(), na, f"{na} is missing while {nb} is given")
            rej.add((tb == "").to_numpy() & (ta != "").to_numpy(), nb, f"{nb} is missing while {na} is given")
            x, y = va, vb
        elif wkt_c is not None:
            if not src_crs:
                raise FileRefused("a 'wkt' column needs the coordinate system: pass --crs (e.g. EPSG:28992)")
            wt = _text(wkt_c, n)
            geoms = shapely.from_wkt(wt.replace("", None).to_numpy(), on_invalid="ignore")
            rej.add((wt != "").to_numpy() & pd.isna(geoms), "wkt", "wkt is not valid WKT")
            for i, gg in enumerate(geoms):
                if gg is None or gg.is_empty:
                    continue
                if gg.geom_type != "Point":
                    loc_from[i] = "representative point of a non-point geometry"
                    gg = gg.representative_point()
                x[i], y[i] = gg.x, gg.y
    located = np.isfinite(x) & np.isfinite(y) & rej.ok
    if located.any():
        if not src_crs:
            raise FileRefused("the file declares no coordinate reference system: pass --crs")
        lon, lat = geo.to_lonlat(x[located], y[located], src_crs)
        outside = np.zeros(n, dtype=bool)
        inside_nl = geo.inside_netherlands_lonlat(lon, lat)
        outside[located] = ~inside_nl
        reasons = np.full(n, None, dtype=object)
        if src_crs == geo.WGS84:
            reasons[located] = _location_hint(x[located], y[located])
        else:
            reasons[located] = f"coordinates lie outside the Netherlands (area of use of EPSG:28992) in {src_crs}"
        rej.add(outside, "location", reasons)
        rx, ry = geo.to_rd_xy(x[located], y[located], src_crs)
        x[located], y[located] = rx, ry
    x[~located] = np.nan
    y[~located] = np.nan

    # Explicit park: by internal id or by the park's source id.
    park = np.full(n, -1, dtype=np.int64)
    pid_c, pref_c = col("park_id"), col("park_ref")
    if pid_c is not None:
        pt = _text(pid_c, n)
        pv, bad = _numbers(pt)
        rej.add(bad, "park_id", "park_id is not a number")
        has = np.isfinite(pv)
        wanted = np.where(has, pv, -1).astype(np.int64)
        known = ctx.parks.existing(wanted[has].tolist()) if ctx.parks is not None else set()
        missing = has & ~np.isin(wanted, np.fromiter(known, dtype=np.int64, count=len(known)))
        rej.add(missing, "park_id", _each(pt, lambda v: f"park_id {v} matches no park"))
        park[has] = pv[has].astype(np.int64)
    if pref_c is not None:
        rt = _text(pref_c, n)
        refs = ctx.parks.resolve(set(rt.tolist()) - {""}) if ctx.parks is not None else {}
        mapped = rt.map(lambda r: refs.get(r, -1)).to_numpy(dtype=np.int64)
        rej.add((rt != "").to_numpy() & (mapped < 0), "park_ref", _each(rt, lambda r: f"park_ref {r!r} matches no park"))
        park = np.where((park < 0) & (mapped >= 0), mapped, park)
    nowhere = ~np.isfinite(x) & (park < 0)
    rej.add(nowhere, "location", "no location and no park: give lon/lat, x/y, wkt or a park_id/park_ref")

    # Outcomes: inspections need violation yes/no; registrations need a resident count.
    attrs_extra: list[dict[str, Any]] = [{} for _ in range(n)]
    vtext = _text(col("violation"), n).str.lower()
    vbool = vtext.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
    is_insp = (stype == "inspection").to_numpy()
    rej.add(is_insp & vbool.isna().to_numpy(), "violation",
            _each(vtext, lambda v: f"inspection outcome violation must be yes or no, not {v!r}" if v else
                  "inspection without outcome: give violation yes or no"))
    ctext = _text(col("categories"), n)
    cats = ctext.map(lambda c: [p.strip().lower() for p in re.split(r"[;,|]", c) if p.strip()] if c else [])
    bad_cats = cats.map(lambda cs: [c for c in cs if c not in INSPECTION_CATEGORIES])
    rej.add(bad_cats.map(bool).to_numpy(), "categories",
            _each(bad_cats, lambda b: f"unknown inspection categories {b}; known: {', '.join(INSPECTION_CATEGORIES)}"))
    rtext = _text(col("residents"), n)
    residents, bad_res = _numbers(rtext)
    is_reg = (stype == "registration").to_numpy()
    rej.add(bad_res | (np.isfinite(residents) & ((residents < 0) | (residents != np.floor(residents)))),
            "residents", "residents must be a whole number of 0 or more")
    rej.add(is_reg & ~np.isfinite(residents), "residents", "registration without a resident count")
    vlist, clist = vbool.tolist(), cats.tolist()
    for i in np.flatnonzero(is_insp):
        if vlist[i] is not None:
            attrs_extra[i]["violation"] = bool(vlist[i])
            attrs_extra[i]["categories"] = clist[i]
    for i in np.flatnonzero(np.isfinite(residents)):
        attrs_extra[i]["residents"] = int(residents[i])
    for i in np.flatnonzero(~pd.isna(loc_from)):
        attrs_extra[i]["location_note"] = loc_from[i]

    name = _text(col("name"), n)
    rej.add((name.str.len() > ctx.max_name_length).to_numpy(), "name",
            f"name is longer than {ctx.max_name_length} characters")
    subtype = _text(col("subtype"), n)
    rej.add((subtype.str.len() > 100).to_numpy(), "subtype", "subtype is longer than 100 characters")

    mapped_targets = ("source_id", "type", "subtype", "date", "lon", "lat", "x", "y", "wkt", "park_id",
                      "park_ref", "name", "violation", "categories", "residents")
    used = {ctx.overrides.get(t) or ctx.preset.columns.get(t) or t for t in mapped_targets}
    if fixed_type and "type" not in ctx.preset.columns and "type" not in ctx.overrides:
        used.discard("type")  # a 'type' column beside --type is kept as an attribute
    attrs, traits = _attributes(frame.drop(columns=["attributes"], errors="ignore"), used)
    ctx.ignored_columns.update(traits)
    if "attributes" in frame.columns:  # JSON payloads may carry an attributes object per row
        for i, extra in enumerate(frame["attributes"].tolist()):
            if isinstance(extra, dict):
                clean = {k: _json_safe(v) for k, v in extra.items() if not personal_trait(k)}
                ctx.ignored_columns.update(k for k in extra if personal_trait(k))
                attrs[i] = {**clean, **attrs[i]}
            elif extra not in (None, "") and not (isinstance(extra, float) and math.isnan(extra)):
                rej.add(np.arange(n) == i, "attributes", "attributes must be a JSON object")
    if ctx.preset.topics_from and ctx.preset.topics_from in frame.columns:
        titles = _text(frame[ctx.preset.topics_from], n)
        for i, t in enumerate(titles):
            topics = [k for k, pat in TOPIC_PATTERNS.items() if pat.search(t)]
            if topics:
                attrs[i]["topics"] = topics
    for i, nm in enumerate(name.tolist()):
        if attrs_extra[i]:
            attrs[i].update(attrs_extra[i])
        if nm:
            attrs[i]["name"] = nm

    ids = _source_ids(col("source_id"), lambda: _row_content(frame), n)
    _duplicates(ids, rows, ctx.seen_ids, rej)

    ok = rej.ok
    out = pd.DataFrame({
        "source_id": ids,
        "type": stype.to_numpy(dtype=object),
        "subtype": subtype.replace("", None).to_numpy(dtype=object),
        "date": dates.dt.date.to_numpy(dtype=object),
        "x": x,
        "y": y,
        "explicit_park": park,
        "attributes": attrs,
        "row_number": rows,
    })
    return out[ok].reset_index(drop=True), rej.records(chunk)

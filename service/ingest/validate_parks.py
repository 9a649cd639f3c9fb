"""Park validation: one chunk of raw rows to clean park records (RD geometry, normalised fields) and rejections.

Every check is vectorised over the chunk and records the *first* reason a row fails, phrased so a person
can fix the source. A row is either in the clean output or in the rejections, never in neither.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import geo
from ..vocab import PARK_KINDS
from .columns import Columns, attributes, clean_text, columns_of, mapped_names, numbers, row_content, source_ids
from .crs_check import SAMPLE_ROWS, refuse_contradicting
from .errors import FileRefused
from .jsonvalues import NotStrict, strict
from .park_geometry import GEOMETRY_ERRORS, check_area, polygons_in_rd
from .presets import PARK_FIELDS, Preset
from .readers import Chunk
from .rows import Rejections, SeenIds, check_duplicates, check_malformed, check_utf8

__all__ = ["PARK_TARGETS", "ParkContext", "validate_parks"]

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
#: Targets read from a parks file (the fields, and the columns geometry may come from); the rest are attributes.
PARK_TARGETS = PARK_FIELDS + ("wkt", "geometry")


@dataclass
class ParkContext:
    """What park validation needs to know beyond the chunk."""

    crs: str
    preset: Preset
    overrides: dict[str, str] = field(default_factory=dict)
    id_column: str | None = None
    max_name_length: int = 200
    seen_ids: SeenIds = field(default_factory=SeenIds)
    ignored_columns: set[str] = field(default_factory=set)
    this_year: int = field(default_factory=lambda: dt.date.today().year)
    #: Larger parks are refused as implausible (None: any size, ``--allow-large``).
    max_area_m2: float | None = None
    #: For messages: the file's name and where its CRS came from.
    source_name: str = "the file"
    crs_from: str = "declared"
    #: Whether the coordinates still have to be checked against the CRS (the first chunk does it).
    check_crs: bool = True
    #: Every row's id, kept for ``--snapshot`` (which stored parks the file still holds).
    keep_ids: bool = False
    all_ids: list[np.ndarray] = field(default_factory=list)


def validate_parks(chunk: Chunk, ctx: ParkContext) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Clean park records (RD geometry, normalised fields) and the rejected rows of one chunk.

    The steps run in this order, so a row is rejected for the first of them it fails: whole rows, geometry,
    fields, ids (a duplicate is only a duplicate of a row that was otherwise good).
    """
    frame, n = chunk.frame, len(chunk.frame)
    rej = Rejections(n)
    rows = np.arange(chunk.first_row, chunk.first_row + n)
    check_malformed(frame, rej)
    check_utf8(frame, rej, encoding_hint=False)
    col = columns_of(frame, ctx.preset, ctx.overrides)

    raw = _read_geometries(chunk, col, n)
    if ctx.check_crs:  # the first chunk: a file in the wrong CRS throughout is refused before any write
        ctx.check_crs = False
        x, y = _sample_xy(raw, rej)
        refuse_contradicting(x, y, ctx.crs, name=ctx.source_name, how=ctx.crs_from)
    polygons = polygons_in_rd(raw, ctx.crs, rej)
    geoms, notes = polygons.geoms, polygons.notes
    _check_inside_netherlands(geoms, rej)
    check_area(geoms, rej, ctx.max_area_m2)
    name = _names(col, n, ctx, rej)
    kind_raw, kind = _kinds(col, n)
    mcode = _municipality_codes(col, n, rej)
    units = _unit_counts(col, n, rej)
    year = _takeover_years(col, n, ctx, rej)
    ids = _park_ids(frame, col, geoms, rows, ctx, rej)
    attrs = _park_attributes(frame, ctx, notes, kind_raw)
    _strict_attributes(attrs, rej)

    out = pd.DataFrame({
        "source_id": ids,
        "name": name.replace("", None).to_numpy(dtype=object),
        "kind": kind.to_numpy(dtype=object),
        "municipality_code": mcode,
        "municipality_name": _optional_text(col("municipality_name"), n),
        "province": _optional_text(col("province"), n),
        "unit_count": pd.array(np.where(np.isfinite(units), units, np.nan), dtype="Int64"),
        "operator": _optional_text(col("operator"), n),
        "takeover_year": pd.array(np.where(np.isfinite(year), year, np.nan), dtype="Int64"),
        "geometry": geoms,
        "row_number": rows,
        "attributes": attrs,
    })
    return out[rej.ok].reset_index(drop=True), rej.records(chunk)


def _read_geometries(chunk: Chunk, col: Columns, n: int) -> np.ndarray:
    """The file's geometries, else parsed from a WKT column: a parks file without either is refused."""
    if chunk.geometry is not None:
        return chunk.geometry
    wkt = col("wkt") if col("wkt") is not None else col("geometry")
    if wkt is None:
        raise FileRefused("a parks file needs geometry: use a geodata file or a 'wkt' column")
    geoms: np.ndarray = shapely.from_wkt(clean_text(wkt, n).replace("", None).to_numpy(), on_invalid="ignore")
    return geoms


def _sample_xy(geoms: np.ndarray, rej: Rejections) -> tuple[np.ndarray, np.ndarray]:
    """A point of each of the first rows' geometries in the file's own CRS (for the whole-file CRS check)."""
    rows = np.flatnonzero(~pd.isna(geoms) & rej.ok)[:SAMPLE_ROWS]
    x, y = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for k, i in enumerate(rows):
        try:
            g = geoms[i]
            if not g.is_empty:
                x[k], y[k] = g.envelope.centroid.x, g.envelope.centroid.y
        except GEOMETRY_ERRORS:
            continue
    return x, y


def _check_inside_netherlands(geoms: np.ndarray, rej: Rejections) -> None:
    """Reject parks whose centroid lies outside the Netherlands: almost always a wrong ``--crs``."""
    ok_geom = np.flatnonzero(~pd.isna(geoms) & rej.ok)
    if not len(ok_geom):
        return
    bounds = shapely.bounds(geoms[ok_geom].astype(object))
    with np.errstate(all="ignore"):
        lon, lat = geo.to_lonlat((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2, geo.RD)
    outside = np.zeros(len(geoms), dtype=bool)
    outside[ok_geom] = ~geo.inside_netherlands_lonlat(lon, lat)
    rej.add(outside, "geometry", "park lies outside the Netherlands (area of use of EPSG:28992); check --crs")


def _names(col: Columns, n: int, ctx: ParkContext, rej: Rejections) -> pd.Series:
    """Park names; an overlong one is rejected rather than cut, so no name is stored half."""
    name = clean_text(col("name"), n)
    too_long = (name.str.len() > ctx.max_name_length).to_numpy()
    rej.add(too_long, "name", f"name is longer than {ctx.max_name_length} characters")
    return name


def _kinds(col: Columns, n: int) -> tuple[pd.Series, pd.Series]:
    """(source kind, park kind): source wording mapped onto the vocabulary, anything else ``unknown``."""
    kind_raw = clean_text(col("kind"), n).str.lower()
    kind = kind_raw.map(lambda k: _KIND_MAP.get(k, k if k in PARK_KINDS else "unknown"))
    return kind_raw, kind


def _municipality_codes(col: Columns, n: int, rej: Rejections) -> np.ndarray:
    """CBS codes as ``GM0513`` (``0513`` and ``513`` accepted), so parks join municipal figures."""
    text = clean_text(col("municipality_code"), n)
    digits = text.str.upper().str.removeprefix("GM")
    good = digits.str.fullmatch(r"\d{1,4}").to_numpy(dtype=bool)
    codes = np.asarray(np.where(good, "GM" + digits.str.zfill(4), None)).astype(object)
    bad = (text != "").to_numpy() & ~good
    rej.add(bad, "municipality_code", "municipality code is not a CBS code such as GM0513 or 0513")
    return codes


def _unit_counts(col: Columns, n: int, rej: Rejections) -> np.ndarray:
    """Number of units as a whole number of 0 or more (NaN where the source gives none)."""
    units, bad_units = numbers(clean_text(col("unit_count"), n))
    rej.add(bad_units, "unit_count", "unit count is not a number")
    neg_units = np.isfinite(units) & ((units < 0) | (units != np.floor(units)))
    rej.add(neg_units, "unit_count", "unit count must be a whole number of 0 or more")
    return units


def _takeover_years(col: Columns, n: int, ctx: ParkContext, rej: Rejections) -> np.ndarray:
    """Take-over year between 1900 and this year (NaN where the source gives none); others are typos."""
    year, bad_year = numbers(clean_text(col("takeover_year"), n))
    rej.add(bad_year, "takeover_year", "take-over year is not a number")
    out_year = np.isfinite(year) & ((year < 1900) | (year > ctx.this_year) | (year != np.floor(year)))
    rej.add(out_year, "takeover_year", f"take-over year must lie between 1900 and {ctx.this_year}")
    return year


def _park_ids(frame: pd.DataFrame, col: Columns, geoms: np.ndarray, rows: np.ndarray, ctx: ParkContext,
              rej: Rejections) -> np.ndarray:
    """Source ids (given, or derived from geometry and values) so a re-import matches; repeats rejected."""
    id_col = frame[ctx.id_column] if ctx.id_column and ctx.id_column in frame.columns else col("source_id")
    if ctx.id_column and ctx.id_column not in frame.columns:
        raise FileRefused(f"id column {ctx.id_column!r} is not in the file; columns: {', '.join(frame.columns)}")

    # Files without ids (TOP10NL extracts) get an id from the geometry (to the centimetre) and all values
    # of the row: the same polygon under two names stays two records, an exact repeat is a duplicate.
    def content() -> pd.Series:
        return pd.Series([_geometry_key(g) for g in geoms], dtype=object) + row_content(frame)

    ids = source_ids(id_col, content, len(frame))
    if ctx.keep_ids:
        ctx.all_ids.append(ids)
    check_duplicates(ids, rows, ctx.seen_ids, rej)
    return ids


def _geometry_key(g: Any) -> str:
    """The geometry to the centimetre as hex WKB ('' for none, or one GEOS cannot snap to that grid)."""
    if g is None:
        return ""
    try:
        return str(shapely.to_wkb(shapely.set_precision(g, 0.01), hex=True))
    except GEOMETRY_ERRORS:
        return ""


def _strict_attributes(attrs: list[dict[str, Any]], rej: Rejections) -> None:
    """Attributes as strict JSON (RFC 8259); a value JSON cannot hold is the row's rejection."""
    reasons = np.full(len(attrs), None, dtype=object)
    for i in np.flatnonzero(rej.ok):
        if attrs[i]:
            try:
                attrs[i] = strict(attrs[i])
            except NotStrict as exc:
                reasons[i] = str(exc)
    rej.add(~pd.isna(reasons), "attributes", reasons)


def _park_attributes(frame: pd.DataFrame, ctx: ParkContext, notes: np.ndarray,
                     kind_raw: pd.Series) -> list[dict[str, Any]]:
    """Unmapped columns (never personal traits) plus repair notes and an unrecognised source kind."""
    used = mapped_names(ctx.preset, ctx.overrides, PARK_TARGETS)
    if ctx.id_column:
        used.add(ctx.id_column)
    attrs, traits = attributes(frame, used)
    ctx.ignored_columns.update(traits)
    for i, note in enumerate(notes):
        if note:
            attrs[i] = {**attrs[i], "geometry_note": note}
    for i, k_raw in enumerate(kind_raw):
        if k_raw and _KIND_MAP.get(k_raw) is None and k_raw not in PARK_KINDS:
            attrs[i] = {**attrs[i], "kind_source": k_raw}
    return attrs


def _optional_text(series: pd.Series | None, n: int) -> np.ndarray:
    """Clean text with None for empty, as stored."""
    return clean_text(series, n).replace("", None).to_numpy(dtype=object)

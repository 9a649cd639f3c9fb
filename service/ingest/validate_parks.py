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
from .errors import FileRefused
from .presets import PARK_FIELDS, Preset
from .readers import Chunk
from .rows import Rejections, check_duplicates, check_malformed, check_utf8

__all__ = ["ParkContext", "validate_parks"]

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
_PARK_TARGETS = PARK_FIELDS + ("wkt", "geometry")


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
    this_year: int = field(default_factory=lambda: dt.date.today().year)


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

    geoms, notes = _repair_geometries(_read_geometries(chunk, col, n), rej)
    geoms = _to_rd(geoms, ctx.crs)
    _check_inside_netherlands(geoms, rej)
    name = _names(col, n, ctx, rej)
    kind_raw, kind = _kinds(col, n)
    mcode = _municipality_codes(col, n, rej)
    units = _unit_counts(col, n, rej)
    year = _takeover_years(col, n, ctx, rej)
    ids = _park_ids(frame, col, geoms, rows, ctx, rej)
    attrs = _park_attributes(frame, ctx, notes, kind_raw)

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


def _repair_geometries(geoms: np.ndarray, rej: Rejections) -> tuple[np.ndarray, np.ndarray]:
    """Polygonal, valid geometries (repaired where possible, with a note); rows without one are rejected."""
    n = len(geoms)
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
    return repaired, notes


def _to_rd(geoms: np.ndarray, crs: str) -> np.ndarray:
    """The geometries reprojected to RD New (EPSG:28992), in which parks are stored and measured."""
    ok_geom = ~pd.isna(geoms)
    if ok_geom.any() and crs != geo.RD:
        geoms[ok_geom] = shapely.transform(
            geoms[ok_geom].astype(object),
            lambda xy: np.column_stack(geo.transformer(crs, geo.RD).transform(xy[:, 0], xy[:, 1])),
        )
    return geoms


def _check_inside_netherlands(geoms: np.ndarray, rej: Rejections) -> None:
    """Reject parks whose centroid lies outside the Netherlands: almost always a wrong ``--crs``."""
    ok_geom = ~pd.isna(geoms)
    if not ok_geom.any():
        return
    centroids = shapely.centroid(geoms[ok_geom].astype(object))
    lon, lat = geo.to_lonlat(shapely.get_x(centroids), shapely.get_y(centroids), geo.RD)
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
        geom_key = pd.Series([
            "" if g is None else shapely.to_wkb(shapely.set_precision(g, 0.01), hex=True) for g in geoms
        ], dtype=object)
        return geom_key + row_content(frame)

    ids = source_ids(id_col, content, len(frame))
    check_duplicates(ids, rows, ctx.seen_ids, rej)
    return ids


def _park_attributes(frame: pd.DataFrame, ctx: ParkContext, notes: np.ndarray,
                     kind_raw: pd.Series) -> list[dict[str, Any]]:
    """Unmapped columns (never personal traits) plus repair notes and an unrecognised source kind."""
    used = mapped_names(ctx.preset, ctx.overrides, _PARK_TARGETS)
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

"""Polygons row by row: checked, repaired, reprojected to RD New and measured, never raising out of a row.

GEOS and PROJ raise on geometry nobody here made: ``make_valid`` on a mixed collection ("Overlay input is
mixed-dimension"), ``getX`` on a point that reprojection emptied, coordinates PROJ cannot transform. Every
step runs vectorised over the chunk first; when that raises, it runs again row by row, and the rows that
raise become rejections with the library's message ("geometry could not be repaired: ..."), so one bad
feature never costs the other 11,000 of a public file. A repair that leaves no area (a ring collapsed to a
line or a point) is a rejection too, not a silent change.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException
from shapely.geometry.base import BaseGeometry

from .. import geo
from .rows import Rejections

__all__ = ["MAX_VERTICES", "GEOMETRY_ERRORS", "Polygons", "polygons_in_rd", "check_area", "representative_lonlat"]

#: Vertices a polygon may have; the most detailed of the 3,770 real parks has 2,493.
MAX_VERTICES = 100_000
#: What GEOS, PROJ and numpy raise on hostile geometry (all caught per row).
GEOMETRY_ERRORS = (GEOSException, ValueError, TypeError, OverflowError, FloatingPointError, RuntimeError,
                   MemoryError)
_POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass
class Polygons:
    """A chunk's geometries in RD New (None for rejected rows) and a repair note per row (None: untouched)."""

    geoms: np.ndarray
    notes: np.ndarray


def _per_row(geoms: np.ndarray, rows: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], rej: Rejections,
             what: str) -> np.ndarray:
    """``fn`` over ``geoms[rows]`` at once; if that raises, row by row, rejecting the rows that raise."""
    out = np.full(len(rows), None, dtype=object)
    if not len(rows):
        return out
    try:
        out[:] = fn(geoms[rows])
        return out
    except GEOMETRY_ERRORS:
        pass
    bad = np.zeros(len(geoms), dtype=bool)
    reasons = np.full(len(geoms), None, dtype=object)
    for k, i in enumerate(rows):
        try:
            out[k] = fn(geoms[i:i + 1])[0]
        except GEOMETRY_ERRORS as exc:
            bad[i] = True
            reasons[i] = f"geometry could not be {what}: {_message(exc)}"
    rej.add(bad, "geometry", reasons)
    return out


def _message(exc: BaseException) -> str:
    """The library's own words, on one line and not too long."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."


def _check_coordinates(geoms: np.ndarray, rej: Rejections) -> np.ndarray:
    """Rows with a geometry whose vertices are finite and not too many; returns the positions still ok."""
    present = np.flatnonzero(~pd.isna(geoms) & rej.ok)
    if not len(present):
        return present
    counts = shapely.get_num_coordinates(geoms[present])
    many = present[counts > MAX_VERTICES]
    too_many = np.zeros(len(geoms), dtype=bool)
    too_many[many] = True
    rej.add(too_many, "geometry", lambda pos: [
        f"geometry has {int(shapely.get_num_coordinates(geoms[p])):,} vertices, more than the {MAX_VERTICES:,} "
        "a park may have; simplify it first" for p in pos])
    present = present[counts <= MAX_VERTICES]
    coords, owner = shapely.get_coordinates(geoms[present], return_index=True)
    nonfinite = np.zeros(len(present), dtype=bool)
    if len(coords):
        nonfinite[np.unique(owner[~np.isfinite(coords).all(axis=1)])] = True
    bad = np.zeros(len(geoms), dtype=bool)
    bad[present[nonfinite]] = True
    rej.add(bad, "geometry", "geometry has coordinates that are not numbers (NaN or infinity)")
    return present[~nonfinite]


def _make_valid(g: BaseGeometry) -> BaseGeometry:
    """``make_valid``, falling back on its "structure" method where the default one raises.

    GEOS's default (linework) method fails with "Overlay input is mixed-dimension" on a ring with too few
    points, as in 16 of the 393 CBS 2015 municipality boundaries; the structure method repairs those.
    """
    try:
        return shapely.make_valid(g)
    except GEOMETRY_ERRORS:
        return shapely.make_valid(g, method="structure", keep_collapsed=False)


def _repair(g: BaseGeometry) -> tuple[BaseGeometry | None, str | None, str | None]:
    """(polygonal geometry, note, reason it cannot serve): invalid rings repaired, collapses refused."""
    kind = g.geom_type
    if kind not in _POLYGONAL | {"GeometryCollection"}:
        return None, None, f"a park must be a Polygon or MultiPolygon, not a {kind}"
    if g.is_empty:
        return None, None, "geometry is empty"
    if g.has_z:
        g = shapely.force_2d(g)
    note = None
    if not g.is_valid:
        g = _make_valid(g)
        note = "invalid geometry repaired with make_valid"
    parts = list(getattr(g, "geoms", [g])) if g.geom_type not in _POLYGONAL else [g]
    polygons = [p for p in parts if p.geom_type in _POLYGONAL and not p.is_empty]
    dropped = sorted({p.geom_type for p in parts if p.geom_type not in _POLYGONAL and not p.is_empty})
    if not polygons:
        what = " and ".join(dropped) or "nothing"
        return None, None, (f"geometry collapses to {what} when repaired; a park needs an area (fix the polygon "
                            "in the source)" if note else "geometry holds no polygon")
    merged = shapely.union_all(polygons) if len(polygons) > 1 else polygons[0]
    if merged.is_empty or merged.area <= 0:
        return None, None, "geometry has no area"
    if dropped:
        note = (note or "geometry collection") + f"; parts without area dropped ({', '.join(dropped)})"
    return merged, note, None


def polygons_in_rd(geoms: np.ndarray, crs: str, rej: Rejections) -> Polygons:
    """Valid (Multi)Polygons in RD New for the rows that can have one; every other row gets its reason."""
    n = len(geoms)
    out = np.full(n, None, dtype=object)
    notes = np.full(n, None, dtype=object)
    rej.add(pd.isna(geoms), "geometry", "row has no geometry")
    ok = _check_coordinates(geoms, rej)
    reasons = np.full(n, None, dtype=object)
    for i in ok:
        try:
            fixed, note, why = _repair(geoms[i])
        except GEOMETRY_ERRORS as exc:
            fixed, note, why = None, None, f"geometry could not be repaired: {_message(exc)}"
        out[i], notes[i], reasons[i] = fixed, note, why
    rej.add(~pd.isna(reasons), "geometry", reasons)
    ok = np.flatnonzero(~pd.isna(out) & rej.ok)
    if len(ok) and crs != geo.RD:
        t = geo.transformer(crs, geo.RD)
        out[ok] = _per_row(out, ok, lambda g: shapely.transform(
            g, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))), rej, "reprojected to RD New")
        ok = np.flatnonzero(~pd.isna(out) & rej.ok)
        moved = _check_coordinates(out, rej)  # PROJ answers inf for what it cannot transform
        lost = np.setdiff1d(ok, moved)
        if len(lost):
            out[lost] = None
        ok = moved
        # Reprojection bends edges; a ring that touched itself may now cross: repair once more.
        invalid = ok[~shapely.is_valid(out[ok].astype(object))] if len(ok) else ok
        for i in invalid:
            try:
                fixed, note, why = _repair(out[i])
            except GEOMETRY_ERRORS as exc:
                fixed, note, why = None, None, f"geometry could not be repaired: {_message(exc)}"
            out[i] = fixed
            notes[i] = notes[i] or note
            if why:
                only = np.zeros(n, dtype=bool)
                only[i] = True
                rej.add(only, "geometry", f"after reprojection to RD New: {why}")
    out[~rej.ok] = None
    return Polygons(out, notes)


def check_area(geoms: np.ndarray, rej: Rejections, max_m2: float | None, what: str = "park") -> np.ndarray:
    """Areas in m² (NaN for rejected rows); a polygon larger than ``max_m2`` is refused as implausible."""
    area = np.full(len(geoms), np.nan)
    ok = np.flatnonzero(~pd.isna(geoms) & rej.ok)
    area[ok] = shapely.area(geoms[ok].astype(object))
    if max_m2 is not None:
        large = np.isfinite(area) & (area > max_m2)
        rej.add(large, "geometry", lambda pos: [
            f"{what} covers {area[p] / 1e6:,.2f} km², more than the {max_m2 / 1e6:g} km² a holiday park can "
            "plausibly have (the largest of the 3,770 Dutch parks is 1.3 km²); check the geometry, or pass "
            "--allow-large if it is right" for p in pos])
    return area


def representative_lonlat(geoms: np.ndarray, crs: str, rej: Rejections | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A point on each geometry as lon/lat (NaN where there is none or it cannot be computed)."""
    n = len(geoms)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    ok = np.flatnonzero(~pd.isna(geoms) if rej is None else (~pd.isna(geoms) & rej.ok))
    for i in ok:
        try:
            g = geoms[i]
            if g.is_empty:
                continue
            p = g.representative_point() if g.geom_type != "Point" else g
            if not p.is_empty:
                x[i], y[i] = p.x, p.y
        except GEOMETRY_ERRORS:
            continue
    with np.errstate(all="ignore"):
        lon, lat = geo.to_lonlat(x, y, crs)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

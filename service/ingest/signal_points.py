"""Signal locations: points from a geometry, lon/lat or x/y columns, or WKT, checked and brought to RD."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from .. import geo
from .columns import Columns, clean_text, numbers
from .errors import FileRefused
from .park_geometry import GEOMETRY_ERRORS
from .readers import Chunk
from .rows import Rejections, each

__all__ = ["Points", "locate_in_rd", "read_points"]

_DERIVED = "representative point of a non-point geometry"


@dataclass
class Points:
    """A chunk's signal locations in ``crs`` (NaN where none), with a note where a point was derived."""

    x: np.ndarray
    y: np.ndarray
    crs: str | None
    note: np.ndarray


def read_points(chunk: Chunk, col: Columns, crs: str | None, rej: Rejections) -> Points:
    """Points from the file's geometry, else lon/lat, else x/y, else a WKT column (the first present)."""
    n = len(chunk.frame)
    if chunk.geometry is not None:
        return _geometry_points(chunk.geometry, crs, rej)
    lon_c, lat_c, x_c, y_c, wkt_c = col("lon"), col("lat"), col("x"), col("y"), col("wkt")
    if lon_c is not None or lat_c is not None:
        return _coordinate_points(("lon", lon_c), ("lat", lat_c), n, crs or geo.WGS84, rej)
    if x_c is not None or y_c is not None:
        if not crs:
            raise FileRefused("x/y columns need the coordinate system: pass --crs (e.g. EPSG:28992)")
        return _coordinate_points(("x", x_c), ("y", y_c), n, crs, rej)
    if wkt_c is not None:
        if not crs:
            raise FileRefused("a 'wkt' column needs the coordinate system: pass --crs (e.g. EPSG:28992)")
        return _wkt_points(wkt_c, n, crs, rej)
    return Points(np.full(n, np.nan), np.full(n, np.nan), crs, np.full(n, None, dtype=object))


def _xy(g: BaseGeometry) -> tuple[float, float] | None:
    """A geometry's point (a point itself, else its representative point), or None when it has none."""
    if g is None or g.is_empty:
        return None
    p = g if g.geom_type == "Point" else g.representative_point()
    return None if p.is_empty else (p.x, p.y)


def _geometry_points(g: np.ndarray, crs: str | None, rej: Rejections) -> Points:
    """Each geometry's point; a line or polygon stands for its representative point (and says so).

    Points go through shapely at once; anything else, and any geometry GEOS refuses, row by row, where a
    geometry that raises is that row's rejection with the library's message.
    """
    n = len(g)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    note = np.full(n, None, dtype=object)
    types = shapely.get_type_id(g)
    simple = np.flatnonzero((types == 0) & ~shapely.is_empty(g))
    if len(simple):
        xy = shapely.get_coordinates(g[simple])
        if len(xy) == len(simple):
            x[simple], y[simple] = xy[:, 0], xy[:, 1]
    others = np.flatnonzero((types > 0) & ~shapely.is_empty(g))
    reasons = np.full(n, None, dtype=object)
    for i in others:
        try:
            found = _xy(g[i])
        except GEOMETRY_ERRORS as exc:
            reasons[i] = f"geometry could not be used as a location: {' '.join(str(exc).split())[:300]}"
            continue
        if found is not None:
            x[i], y[i] = found
            note[i] = _DERIVED
    rej.add(~pd.isna(reasons), "geometry", reasons)
    given = np.zeros(n, dtype=bool)
    given[simple] = True
    given[others] = True
    rej.add(given & ~(np.isfinite(x) & np.isfinite(y)), "geometry",
            "the geometry gives no usable location (coordinates that are not numbers, NaN or infinity)")
    return Points(x, y, crs, note)


def _coordinate_points(first: tuple[str, pd.Series | None], second: tuple[str, pd.Series | None], n: int,
                       crs: str, rej: Rejections) -> Points:
    """Points from two number columns; a half-given pair or a non-number is rejected by column name."""
    (na, ca), (nb, cb) = first, second
    ta, tb = clean_text(ca, n), clean_text(cb, n)
    ga, gb = (ta != "").to_numpy(), (tb != "").to_numpy()  # each compared once: a million-row import
    va, bad_a = numbers(ta, ga)
    vb, bad_b = numbers(tb, gb)
    rej.add(bad_a, na, each(ta, lambda v: f"{na} {v!r} is not a number"))
    rej.add(bad_b, nb, each(tb, lambda v: f"{nb} {v!r} is not a number"))
    rej.add(~ga & gb, na, f"{na} is missing while {nb} is given")
    rej.add(~gb & ga, nb, f"{nb} is missing while {na} is given")
    return Points(va, vb, crs, np.full(n, None, dtype=object))


def _wkt_points(wkt_c: pd.Series, n: int, crs: str, rej: Rejections) -> Points:
    """Points from a WKT column (representative point for other shapes); invalid WKT is rejected."""
    wt = clean_text(wkt_c, n)
    with np.errstate(all="ignore"):
        geoms = shapely.from_wkt(wt.replace("", None).to_numpy(), on_invalid="ignore")
    rej.add((wt != "").to_numpy() & pd.isna(geoms), "wkt", "wkt is not valid WKT")
    return _geometry_points(np.asarray(geoms, dtype=object), crs, rej)


def locate_in_rd(points: Points, rej: Rejections) -> None:
    """Check the points of good rows against the Netherlands and bring them to RD; others become NaN."""
    located = np.isfinite(points.x) & np.isfinite(points.y) & rej.ok
    if located.any():
        if not points.crs:
            raise FileRefused("the file declares no coordinate reference system: pass --crs")
        _check_inside_netherlands(points, points.crs, located, rej)
        located &= rej.ok
        with np.errstate(all="ignore"):
            rx, ry = geo.to_rd_xy(points.x[located], points.y[located], points.crs)
        points.x[located], points.y[located] = rx, ry
        failed = located & ~(np.isfinite(points.x) & np.isfinite(points.y))
        rej.add(failed, "location", f"coordinates cannot be reprojected from {points.crs} to RD New (EPSG:28992)")
        located &= ~failed
    points.x[~located] = np.nan
    points.y[~located] = np.nan


def _check_inside_netherlands(points: Points, crs: str, located: np.ndarray, rej: Rejections) -> None:
    """Reject points outside the Netherlands, naming the likely mistake (swapped or mislabelled axes)."""
    n = len(points.x)
    outside = np.zeros(n, dtype=bool)
    outside[located] = ~_inside_netherlands(points.x[located], points.y[located], crs)
    reasons = np.full(n, None, dtype=object)
    if crs == geo.WGS84:
        reasons[located] = _location_hint(points.x[located], points.y[located])
    else:
        reasons[located] = f"coordinates lie outside the Netherlands (area of use of EPSG:28992) in {crs}"
    rej.add(outside, "location", reasons)


@lru_cache(maxsize=1)
def _rd_inner_box() -> tuple[float, float, float, float]:
    """An RD New rectangle that lies wholly inside the area of use (its lon/lat box bends in RD)."""
    west, south, east, north = geo.NL_BOUNDS_LONLAT
    t = np.linspace(0.0, 1.0, 512)
    lon_w, lat_w = geo.to_rd_xy(np.full_like(t, west), south + t * (north - south), geo.WGS84)
    lon_e, _ = geo.to_rd_xy(np.full_like(t, east), south + t * (north - south), geo.WGS84)
    _, lat_s = geo.to_rd_xy(west + t * (east - west), np.full_like(t, south), geo.WGS84)
    _, lat_n = geo.to_rd_xy(west + t * (east - west), np.full_like(t, north), geo.WGS84)
    margin = 10.0
    return (float(np.max(lon_w)) + margin, float(np.max(lat_s)) + margin, float(np.min(lon_e)) - margin,
            float(np.min(lat_n)) - margin)


def _inside_netherlands(x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
    """Whether each point lies in the area of use of RD New; points well inside it need no reprojection."""
    if crs == geo.WGS84:
        return geo.inside_netherlands_lonlat(x, y)
    inside = np.zeros(len(x), dtype=bool)
    todo = np.ones(len(x), dtype=bool)
    if crs == geo.RD:
        x0, y0, x1, y1 = _rd_inner_box()
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        todo = ~inside
    if todo.any():
        with np.errstate(all="ignore"):
            lon, lat = geo.to_lonlat(x[todo], y[todo], crs)
        inside[todo] = geo.inside_netherlands_lonlat(lon, lat)
    return inside


def _location_hint(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Reason text for points outside the Netherlands, naming the likely mistake."""
    swapped = geo.inside_netherlands_lonlat(lat, lon)
    metres = (np.abs(lon) > 1000) | (np.abs(lat) > 1000)
    reasons = np.full(len(lon), "coordinates lie outside the Netherlands (area of use of EPSG:28992)", dtype=object)
    reasons[swapped] = "coordinates lie outside the Netherlands; latitude and longitude look swapped"
    reasons[metres] = ("coordinates lie outside the Netherlands; they look like RD metres (EPSG:28992) "
                       "labelled as degrees: pass --crs EPSG:28992 and use x/y columns")
    return reasons

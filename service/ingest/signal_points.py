"""Signal locations: points from a geometry, lon/lat or x/y columns, or WKT, checked and brought to RD."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .. import geo
from .columns import Columns, clean_text, numbers
from .errors import FileRefused
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
        return _geometry_points(chunk.geometry, crs)
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


def _geometry_points(g: np.ndarray, crs: str | None) -> Points:
    """Each geometry's point; a line or polygon stands for its representative point (and says so)."""
    n = len(g)
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    note = np.full(n, None, dtype=object)
    present = np.array([gg is not None and not gg.is_empty for gg in g], dtype=bool)
    pts = np.array([gg if (gg is None or gg.geom_type == "Point") else gg.representative_point() for gg in g],
                   dtype=object)
    nonpoint = np.array([gg is not None and gg.geom_type != "Point" for gg in g], dtype=bool)
    note[nonpoint] = _DERIVED
    if present.any():
        x[present] = shapely.get_x(pts[present].astype(object))
        y[present] = shapely.get_y(pts[present].astype(object))
    return Points(x, y, crs, note)


def _coordinate_points(first: tuple[str, pd.Series | None], second: tuple[str, pd.Series | None], n: int,
                       crs: str, rej: Rejections) -> Points:
    """Points from two number columns; a half-given pair or a non-number is rejected by column name."""
    (na, ca), (nb, cb) = first, second
    ta, tb = clean_text(ca, n), clean_text(cb, n)
    va, bad_a = numbers(ta)
    vb, bad_b = numbers(tb)
    rej.add(bad_a, na, each(ta, lambda v: f"{na} {v!r} is not a number"))
    rej.add(bad_b, nb, each(tb, lambda v: f"{nb} {v!r} is not a number"))
    rej.add((ta == "").to_numpy() & (tb != "").to_numpy(), na, f"{na} is missing while {nb} is given")
    rej.add((tb == "").to_numpy() & (ta != "").to_numpy(), nb, f"{nb} is missing while {na} is given")
    return Points(va, vb, crs, np.full(n, None, dtype=object))


def _wkt_points(wkt_c: pd.Series, n: int, crs: str, rej: Rejections) -> Points:
    """Points from a WKT column (representative point for other shapes); invalid WKT is rejected."""
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    note = np.full(n, None, dtype=object)
    wt = clean_text(wkt_c, n)
    geoms = shapely.from_wkt(wt.replace("", None).to_numpy(), on_invalid="ignore")
    rej.add((wt != "").to_numpy() & pd.isna(geoms), "wkt", "wkt is not valid WKT")
    for i, gg in enumerate(geoms):
        if gg is None or gg.is_empty:
            continue
        if gg.geom_type != "Point":
            note[i] = _DERIVED
            gg = gg.representative_point()
        x[i], y[i] = gg.x, gg.y
    return Points(x, y, crs, note)


def locate_in_rd(points: Points, rej: Rejections) -> None:
    """Check the points of good rows against the Netherlands and bring them to RD; others become NaN."""
    located = np.isfinite(points.x) & np.isfinite(points.y) & rej.ok
    if located.any():
        if not points.crs:
            raise FileRefused("the file declares no coordinate reference system: pass --crs")
        _check_inside_netherlands(points, points.crs, located, rej)
        rx, ry = geo.to_rd_xy(points.x[located], points.y[located], points.crs)
        points.x[located], points.y[located] = rx, ry
    points.x[~located] = np.nan
    points.y[~located] = np.nan


def _check_inside_netherlands(points: Points, crs: str, located: np.ndarray, rej: Rejections) -> None:
    """Reject points outside the Netherlands, naming the likely mistake (swapped or mislabelled axes)."""
    n = len(points.x)
    lon, lat = geo.to_lonlat(points.x[located], points.y[located], crs)
    outside = np.zeros(n, dtype=bool)
    outside[located] = ~geo.inside_netherlands_lonlat(lon, lat)
    reasons = np.full(n, None, dtype=object)
    if crs == geo.WGS84:
        reasons[located] = _location_hint(points.x[located], points.y[located])
    else:
        reasons[located] = f"coordinates lie outside the Netherlands (area of use of EPSG:28992) in {crs}"
    rej.add(outside, "location", reasons)


def _location_hint(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Reason text for points outside the Netherlands, naming the likely mistake."""
    swapped = geo.inside_netherlands_lonlat(lat, lon)
    metres = (np.abs(lon) > 1000) | (np.abs(lat) > 1000)
    reasons = np.full(len(lon), "coordinates lie outside the Netherlands (area of use of EPSG:28992)", dtype=object)
    reasons[swapped] = "coordinates lie outside the Netherlands; latitude and longitude look swapped"
    reasons[metres] = ("coordinates lie outside the Netherlands; they look like RD metres (EPSG:28992) "
                       "labelled as degrees: pass --crs EPSG:28992 and use x/y columns")
    return reasons

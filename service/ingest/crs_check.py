"""Files whose coordinates contradict their coordinate system, refused as a whole before anything is written.

A GeoJSON is WGS84 by definition (RFC 7946), so one whose coordinates are in the hundreds of thousands is in
metres; a signals file whose lon/lat are swapped throughout puts every point in the sea off Somalia. Row by
row such a file would be rejected a million times with the same reason; as a whole it is refused once, with
the likely fix. A file where only some rows are off (a mixed file) keeps its row-by-row rejections.
"""
from __future__ import annotations

import numpy as np
from pyproj import CRS

from .. import geo
from .errors import FileRefused

__all__ = ["SAMPLE_ROWS", "THROUGHOUT", "refuse_contradicting"]

#: Located rows of the first chunk looked at.
SAMPLE_ROWS = 2_000
#: Share of those rows that must fit the explanation before the whole file is refused.
THROUGHOUT = 0.9
#: RD New coordinates of the Netherlands, generously (metres).
_RD_BOX = (-10_000.0, 290_000.0, 310_000.0, 640_000.0)


def _is(crs: str, epsg: int) -> bool:
    try:
        return bool(CRS.from_user_input(crs) == CRS.from_epsg(epsg))
    except Exception:  # pyproj raises CRSError (a plain Exception subclass) for what it cannot read
        return False


def _share(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else 0.0


def refuse_contradicting(x: np.ndarray, y: np.ndarray, crs: str, *, name: str, how: str) -> None:
    """Raise :class:`FileRefused` when (nearly) all sample points contradict ``crs`` in a recognisable way.

    ``x``/``y`` are a sample of the file's coordinates in its own CRS (NaN where a row has none); ``how`` says
    where the CRS came from ("GeoJSON", "declared", "--crs", "lon/lat columns"), for the message.
    """
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = np.asarray(x, dtype=float)[finite][:SAMPLE_ROWS], np.asarray(y, dtype=float)[finite][:SAMPLE_ROWS]
    if not len(x):
        return
    try:
        with np.errstate(all="ignore"):
            lon, lat = geo.to_lonlat(x, y, crs)
    except Exception:  # a CRS PROJ cannot take to WGS84 here: the rows' own checks will say so
        return
    outside = ~geo.inside_netherlands_lonlat(lon, lat)
    if _share(outside) < THROUGHOUT:
        return
    west, south, east, north = _RD_BOX
    if _is(crs, 4326):
        if _share((x >= west) & (x <= east) & (y >= south) & (y <= north)) >= THROUGHOUT:
            defined = "is WGS84 (lon/lat degrees) by definition (RFC 7946)" if how == "GeoJSON" else \
                f"says WGS84 (lon/lat degrees) ({how})"
            raise FileRefused(f"{name} {defined}, but its coordinates are in the hundreds of thousands: they look "
                              "like RD New (EPSG:28992); pass --crs EPSG:28992")
        if _share(geo.inside_netherlands_lonlat(y, x)) >= THROUGHOUT:
            fix = ("swap the two columns, or map them the other way: --map lon=<latitude column> "
                   "--map lat=<longitude column>") if how == "lon/lat columns" else \
                "write them as longitude, latitude (RFC 7946 order)"
            raise FileRefused(f"{name}: longitude and latitude look swapped throughout (every point lies outside "
                              f"the Netherlands, and inside it with the axes swapped); {fix}")
    if _is(crs, 28992):
        if _share(geo.inside_netherlands_lonlat(x, y)) >= THROUGHOUT:
            raise FileRefused(f"{name} is read as RD New (EPSG:28992, metres) ({how}), but its coordinates look "
                              "like WGS84 degrees; pass --crs EPSG:4326 (or leave out --crs when the file "
                              "declares its system)")
        if _share((y >= west) & (y <= east) & (x >= south) & (x <= north)) >= THROUGHOUT:
            raise FileRefused(f"{name}: x and y look swapped throughout (RD New has x east, y north); swap the "
                              "columns or map them the other way")

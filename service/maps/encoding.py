"""Compact, safe map data: park outlines as polyline-encoded offsets within 2 m, and JSON safe in ``<script>``.

Park outlines are simplified in RD metres and sent as polyline-encoded integer offsets (Google's algorithm);
the national page is a fraction of a naive ``folium.GeoJson`` page (``bench/maps.py``) while no boundary moves
by more than :data:`MAX_SHIFT_M` (see :func:`encode_geometries`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .. import geo

__all__ = [
    "COORD_PRECISION",
    "MAX_SHIFT_M",
    "SIMPLIFY_TOLERANCE_M",
    "decode_geometry",
    "decode_polyline",
    "encode_geometries",
    "encode_polyline",
    "js_json",
]

#: Coordinates are sent as integers of 1e-6 degree (0.11 m north-south, 0.07 m east-west at 52.5 N).
COORD_PRECISION = 6
#: Douglas-Peucker tolerance in RD metres; with the rounding above, no boundary moves more than 2 m.
SIMPLIFY_TOLERANCE_M = 1.8
#: The promise: the Hausdorff distance between a stored park and what the map draws (tests check it).
MAX_SHIFT_M = 2.0

# -- JSON in a script block -------------------------------------------------------------------------------
_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JS_ESCAPE_RE = re.compile("[<>&'\u2028\u2029]")


def js_json(value: Any) -> str:
    """Compact JSON safe inside an HTML ``<script>`` block: no ``</script>``, no ``<!--``, no line separators."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _JS_ESCAPE_RE.sub(lambda m: _JS_ESCAPES[m.group(0)], text)


# -- polylines --------------------------------------------------------------------------------------------
_MAX_CHUNKS = 7  # 5 bits each: enough for any zigzagged 32-bit offset


def encode_polyline(latlon: np.ndarray, precision: int = COORD_PRECISION) -> str:
    """Google's polyline encoding of (lat, lon) rows at ``10**-precision`` degrees.

    Each coordinate becomes the zigzagged difference from the previous one, written 5 bits per character;
    small steps between neighbouring vertices take 2-4 characters instead of ~10 digits of JSON.
    """
    return _encode_many([np.asarray(latlon, dtype=float)], precision)[0]


def decode_polyline(text: str, precision: int = COORD_PRECISION) -> np.ndarray:
    """The (lat, lon) rows of an encoded polyline (the inverse of :func:`encode_polyline`; tests use it)."""
    values: list[int] = []
    result = shift = 0
    for ch in text:
        b = ord(ch) - 63
        result |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            values.append(~(result >> 1) if result & 1 else result >> 1)
            result = shift = 0
    arr = np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0)
    return arr / 10 ** precision


def _encode_many(rings: Sequence[np.ndarray], precision: int) -> list[str]:
    """Encode many (n, 2) lat/lon arrays in one vectorised pass."""
    if not rings:
        return []
    lengths = np.array([len(r) for r in rings], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    deltas = _ring_deltas(rings, lengths, starts, precision)
    flat, nchunks = _polyline_chars(deltas.reshape(-1))
    return _split_rings(flat, nchunks, lengths, starts)


def _ring_deltas(rings: Sequence[np.ndarray], lengths: np.ndarray, starts: np.ndarray, precision: int) -> np.ndarray:
    """All vertices as integer steps from the previous vertex; each ring starts from absolute values."""
    scale = 10 ** precision
    if lengths.sum():
        allpts = np.concatenate([np.asarray(r, dtype=float).reshape(-1, 2) for r in rings])
    else:
        allpts = np.empty((0, 2))
    ints = np.round(allpts * scale).astype(np.int64)
    deltas = ints.copy()
    deltas[1:] -= ints[:-1]
    nonempty = lengths > 0
    deltas[starts[nonempty]] = ints[starts[nonempty]]
    return deltas


def _polyline_chars(values: np.ndarray) -> tuple[str, np.ndarray]:
    """The zigzagged ``values`` written 5 bits per character, and how many characters each value took."""
    z = np.where(values < 0, ~(values << 1), values << 1).astype(np.int64)
    shifts = np.arange(_MAX_CHUNKS, dtype=np.int64) * 5
    parts = (z[:, None] >> shifts[None, :]) & 31
    rest = z[:, None] >> (shifts[None, :] + 5)
    nchunks = np.maximum(1, (rest > 0).sum(axis=1) + 1)
    used = shifts[None, :] < (nchunks[:, None] * 5)
    cont = (rest > 0) & used
    chars = (parts | np.where(cont, 0x20, 0)) + 63
    return chars[used].astype(np.uint8).tobytes().decode("ascii"), nchunks


def _split_rings(flat: str, nchunks: np.ndarray, lengths: np.ndarray, starts: np.ndarray) -> list[str]:
    """Cut the characters of all rings back into one string per ring (empty rings give "")."""
    nonempty = lengths > 0
    # Characters per ring: two values per vertex, each with its own chunk count.
    per_value = nchunks.reshape(-1, 2).sum(axis=1)
    ends = np.cumsum(np.add.reduceat(per_value, starts[nonempty])) if nonempty.any() else np.array([], dtype=np.int64)
    out: list[str] = []
    pos = 0
    it = iter(ends.tolist())
    for n in lengths.tolist():
        if n == 0:
            out.append("")
            continue
        end = next(it)
        out.append(flat[pos:end])
        pos = end
    return out


# -- park geometries --------------------------------------------------------------------------------------
def encode_geometries(geoms_rd: np.ndarray | Sequence[BaseGeometry | None], tolerance_m: float = SIMPLIFY_TOLERANCE_M,
                      precision: int = COORD_PRECISION) -> list[list[list[str]]]:
    """Park polygons (RD) as encoded polygons: per park a list of polygons, each a list of rings (outer first).

    Simplified in metres with :func:`service.geo.simplify_for_web` (topology preserved), reprojected to WGS84,
    rounded to ``10**-precision`` degrees. The shift is bounded by the tolerance plus half a rounding step.
    """
    geoms = np.asarray(geoms_rd, dtype=object)
    if len(geoms) == 0:
        return []
    wgs = geo.to_wgs84(geo.simplify_for_web(geoms, tolerance_m))
    rings, shape = _latlon_rings(wgs)
    return _group_rings(_encode_many(rings, precision), shape)


def decode_geometry(encoded: list[list[str]], precision: int = COORD_PRECISION) -> BaseGeometry:
    """An encoded park back to a WGS84 (Multi)Polygon (lon/lat): what the browser draws."""
    polys = []
    for rings in encoded:
        coords = [decode_polyline(r, precision)[:, ::-1] for r in rings]
        polys.append(shapely.Polygon(coords[0], coords[1:]))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _latlon_rings(wgs: np.ndarray) -> tuple[list[np.ndarray], list[list[int]]]:
    """Every polygon ring as open (lat, lon) rows, and per park the ring count of each of its polygons."""
    rings: list[np.ndarray] = []
    shape: list[list[int]] = []
    for g in wgs:
        polys = [] if g is None or g.is_empty else list(getattr(g, "geoms", [g]))
        counts = []
        for poly in polys:
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            rs = [poly.exterior, *poly.interiors]
            for r in rs:
                xy = np.asarray(r.coords)[:-1]  # Leaflet closes rings itself
                rings.append(xy[:, ::-1])
            counts.append(len(rs))
        shape.append(counts)
    return rings, shape


def _group_rings(encoded: list[str], shape: list[list[int]]) -> list[list[list[str]]]:
    """The flat list of encoded rings regrouped per park and polygon (the inverse of :func:`_latlon_rings`)."""
    out: list[list[list[str]]] = []
    i = 0
    for counts in shape:
        park = []
        for c in counts:
            park.append(encoded[i:i + c])
            i += c
        out.append(park)
    return out

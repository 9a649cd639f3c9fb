"""The two maps the officers' pages show: the risk map of all parks and the small map of one park."""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import folium
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .. import geo
from ..vocab import RISK_CLASSES
from .assets import localise_assets
from .elements import (
    HotspotsLayer,
    Legend,
    MarkReady,
    OutlinesLayer,
    ParkMap,
    ParksLayer,
    SignalsLayer,
)
from .encoding import COORD_PRECISION, encode_geometries
from .records import MapLabels, ParkFeature, SignalPoint
from .styles import RISK_COLOURS, SIGNAL_COLOURS, basemap_order

__all__ = ["build_park_map", "build_risk_map", "hotspot_areas"]

#: Rough bounds of the Netherlands for an empty map.
_NL_BOUNDS = [[50.75, 3.36], [53.55, 7.23]]


def build_risk_map(parks: Sequence[ParkFeature], *, labels: MapLabels | None = None, basemap: str = "pdok",
                   signals: Sequence[SignalPoint] | None = (),
                   municipalities: Sequence[tuple[str, BaseGeometry]] | None = None,
                   park_url: str = "/parks/", static_url: str = "/static", url_suffix: str = "",
                   fit: Sequence[ParkFeature] | None = None, hotspot_radius_m: float = 1000.0) -> ParkMap:
    """The risk map: parks coloured by class, signals (clustered), Gi* hot spots, municipality outlines.

    ``municipalities`` (name, RD geometry) adds the boundary layer; ``None`` (no source loaded) leaves it out
    (as ``signals=None`` leaves out the signal layer). The map fits ``fit`` (default: ``parks``); with no parks
    it shows the Netherlands. Hot spots are drawn as areas (parks of one Gi* cluster within ``hotspot_radius_m``
    of each other, merged), below the parks so that a park inside a hot spot can still be clicked.
    """
    labels = labels or MapLabels()
    m = ParkMap(location=[52.2, 5.3], zoom_start=8, tiles=None, control_scale=True, prefer_canvas=False,
                css_class="pw-map pw-map-large")
    _add_basemaps(m, basemap, labels)
    HotspotsLayer({"labels": labels.as_js(), "precision": COORD_PRECISION,
                   "areas": hotspot_areas(parks, hotspot_radius_m)}, name=labels.hotspots, show=True).add_to(m)
    _add_parks(m, parks, labels, park_url, url_suffix)
    if signals is not None:
        SignalsLayer(_signal_payload(signals, labels), name=labels.signals, show=False, cluster=True).add_to(m)
    if municipalities is not None:
        _add_municipalities(m, municipalities, labels)
    _add_risk_legend(m, labels)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    target = parks if fit is None else fit
    return _finish(m, _bounds([p.geom_rd for p in target]), static_url)


def build_park_map(park: ParkFeature, signals: Sequence[SignalPoint], *, labels: MapLabels | None = None,
                   basemap: str = "pdok", static_url: str = "/static") -> ParkMap:
    """The small map of one park: its outline (unsimplified beyond 1e-6 degrees) and its signals by type."""
    labels = labels or MapLabels()
    m = ParkMap(location=[52.2, 5.3], zoom_start=14, tiles=None, control_scale=True, css_class="pw-map pw-map-small")
    _add_basemaps(m, basemap, labels)
    enc = encode_geometries(np.array([park.geom_rd], dtype=object), tolerance_m=0.0)
    ParksLayer(_parks_data(labels, [_park_row(park, [], enc[0])], factors=[], url=None, suffix=""),
               name=labels.parks).add_to(m)
    payload = _signal_payload(signals, labels)
    SignalsLayer(payload, name=labels.signals, show=True, cluster=False).add_to(m)
    present = sorted({p[2] for p in payload["points"]})
    if present:
        types = payload["types"]
        Legend(labels.signal_types_title, [(types[i][0], types[i][1], "dot") for i in present]).add_to(m)
    geoms = [park.geom_rd] + [shapely.Point(s.x, s.y) for s in signals]
    return _finish(m, _bounds(geoms, pad_m=30.0), static_url)


def hotspot_areas(parks: Sequence[ParkFeature], radius_m: float = 1000.0) -> list[list[Any]]:
    """Regional Gi* clusters as areas: [hot (1/0), park count, smallest p, up to 5 names, encoded outline].

    One ring per park would bury the map under circles; what officers need is *where* the clusters are.
    Each area is the union of ``radius_m`` discs around the cluster's parks (parks of one cluster lie within
    the Gi* distance band of each other, so half that band merges them into one area).
    """
    out: list[list[Any]] = []
    for label, flag in (("hot", 1), ("cold", 0)):
        members = [p for p in parks if p.hotspot == label]
        if members:
            out.extend(_cluster_areas(members, flag, radius_m))
    return out


# -- steps ------------------------------------------------------------------------------------------------
def _add_basemaps(m: folium.Map, basemap: str, labels: MapLabels) -> None:
    """The tile layers, the chosen one shown (none when offline)."""
    for i, spec in enumerate(basemap_order(basemap)):
        folium.TileLayer(tiles=spec.url, attr=spec.attribution, name=getattr(labels, spec.key), max_zoom=spec.max_zoom,
                         max_native_zoom=spec.max_native_zoom, show=(i == 0), overlay=False, control=True).add_to(m)


def _add_parks(m: folium.Map, parks: Sequence[ParkFeature], labels: MapLabels, park_url: str, url_suffix: str) -> None:
    """The park layer of the risk map; factor labels are sent once and referred to by index."""
    factor_index: dict[str, int] = {}
    rows = []
    encoded = encode_geometries(np.array([p.geom_rd for p in parks], dtype=object))
    for p, enc in zip(parks, encoded):
        tops = [[factor_index.setdefault(label, len(factor_index)), _round(points)] for label, points in p.top_factors]
        rows.append(_park_row(p, tops, enc))
    ParksLayer(_parks_data(labels, rows, factors=list(factor_index), url=park_url, suffix=url_suffix),
               name=labels.parks).add_to(m)


def _park_row(park: ParkFeature, tops: list[list[Any]], enc: list[list[str]]) -> list[Any]:
    """[id, name, score, class index (-1: none), top factors, encoded outline] as ``static/map.js`` reads it."""
    cls = RISK_CLASSES.index(park.risk_class) if park.risk_class in RISK_CLASSES else -1
    return [park.id, park.name or "", _round(park.score), cls, tops, enc]


def _parks_data(labels: MapLabels, rows: list[list[Any]], *, factors: list[str], url: str | None,
                suffix: str) -> dict[str, Any]:
    """The data of a :class:`ParksLayer`: labels, class colours (the last for unscored parks) and the rows."""
    return {"labels": labels.as_js(), "classes": list(RISK_CLASSES),
            "colors": [RISK_COLOURS[c] for c in RISK_CLASSES] + [RISK_COLOURS[None]],
            "factors": factors, "url": url, "suffix": suffix, "precision": COORD_PRECISION, "parks": rows}


def _add_municipalities(m: folium.Map, municipalities: Sequence[tuple[str, BaseGeometry]], labels: MapLabels) -> None:
    """Municipality boundaries as named outlines, simplified with a 10 m tolerance."""
    names = [n for n, _ in municipalities]
    enc = encode_geometries(np.array([g for _, g in municipalities], dtype=object), tolerance_m=10.0)
    OutlinesLayer({"precision": COORD_PRECISION, "items": [[n, e] for n, e in zip(names, enc)]},
                  name=labels.municipalities, show=True).add_to(m)


def _add_risk_legend(m: folium.Map, labels: MapLabels) -> None:
    """The legend of the risk map: the classes, unscored parks, hot and cold spots."""
    Legend(labels.legend_title,
           [(labels.classes.get(c, c), RISK_COLOURS[c], "box") for c in RISK_CLASSES]
           + [(labels.no_score, RISK_COLOURS[None], "box"), (labels.hot, "#b2182b", "area"),
              (labels.cold, "#2166ac", "area")]).add_to(m)


def _finish(m: ParkMap, bounds: list[list[float]] | None, static_url: str) -> ParkMap:
    """Fit ``bounds`` (the Netherlands if none), mark the page ready once drawn, serve every asset locally."""
    m.fit_bounds(bounds or _NL_BOUNDS)
    MarkReady().add_to(m)
    localise_assets(m.get_root(), static_url)
    return m


def _signal_payload(signals: Sequence[SignalPoint], labels: MapLabels, precision: int = 5) -> dict[str, Any]:
    """Signals as [lat, lon (integers of ``10**-precision`` degrees), type index, date, subtype] with the types."""
    types = list(SIGNAL_COLOURS)
    lat, lon = _signal_latlon(signals)
    scale = 10 ** precision
    pts = []
    for s, la, lo in zip(signals, np.round(lat * scale).astype(np.int64).tolist(),
                         np.round(lon * scale).astype(np.int64).tolist()):
        t = types.index(s.type) if s.type in SIGNAL_COLOURS else types.index("other")
        pts.append([la, lo, t, s.date, s.subtype or ""])
    return {"scale": scale, "types": [[labels.signal_types.get(t, t), SIGNAL_COLOURS[t]] for t in types],
            "points": pts}


def _signal_latlon(signals: Sequence[SignalPoint]) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 latitudes and longitudes of the signals (RD in)."""
    if not signals:
        return np.empty(0), np.empty(0)
    xs = np.array([s.x for s in signals], dtype=float)
    ys = np.array([s.y for s in signals], dtype=float)
    lon, lat = geo.transformer(geo.RD, geo.WGS84).transform(xs, ys)
    return np.asarray(lat), np.asarray(lon)


def _cluster_areas(members: Sequence[ParkFeature], flag: int, radius_m: float) -> list[list[Any]]:
    """The areas of one kind of cluster (hot or cold): discs around its parks, merged where they touch."""
    pts = shapely.point_on_surface(np.array([p.geom_rd for p in members], dtype=object))
    union = shapely.union_all(shapely.buffer(pts, radius_m, quad_segs=8))
    areas = list(getattr(union, "geoms", [union]))
    tree = shapely.STRtree(pts)
    encoded = encode_geometries(np.array(areas, dtype=object), tolerance_m=20.0)
    out: list[list[Any]] = []
    for area, enc in zip(areas, encoded):
        idx = tree.query(area, predicate="intersects")
        inside = sorted((members[i] for i in idx), key=lambda p: (-(p.score or 0), p.id))
        ps = [p.hotspot_p for p in inside if p.hotspot_p is not None]
        out.append([flag, len(inside), _round(min(ps), 3) if ps else None, [p.name or "" for p in inside[:5]], enc])
    return out


def _bounds(geoms_rd: Sequence[BaseGeometry], pad_m: float = 50.0) -> list[list[float]] | None:
    """[[south, west], [north, east]] of RD geometries, padded a little."""
    if not len(geoms_rd):
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms_rd, dtype=object))
    lon, lat = geo.transformer(geo.RD, geo.WGS84).transform([minx - pad_m, maxx + pad_m], [miny - pad_m, maxy + pad_m])
    return [[round(min(lat), 6), round(min(lon), 6)], [round(max(lat), 6), round(max(lon), 6)]]


def _round(v: float | None, nd: int = 2) -> float | None:
    """``v`` rounded for the page; ``None`` for missing or non-finite values (JSON has no NaN)."""
    return None if v is None or not math.isfinite(v) else round(float(v), nd)

"""Folium map builders for the officers' pages: the risk map of all parks and the small map of one park.

The core of the web maps; it never imports Flask. Three choices shape it (each measured or required):

* **Local assets only.** Folium links Leaflet, jQuery, Bootstrap and its plugins from public CDNs, so offline
  it draws nothing. Every element's ``default_js``/``default_css`` is rewritten to ``/static/vendor/...``
  before rendering (:func:`localise_assets`); an asset with no local copy stops the build instead of
  silently reaching the internet.
* **Nothing from the data is ever parsed as HTML or code.** Folium's ``Tooltip``/``Popup``/``GeoJsonTooltip``
  paste text into JavaScript template literals and ``innerHTML`` (a park called ``${alert(1)}`` or
  ``<img onerror=...>`` would run). Parkwacht's layers instead embed their data as JSON escaped for a
  ``<script>`` block and build tooltips and popups in the browser with ``textContent`` (``static/map.js``).
* **Small pages.** Park outlines are simplified in RD metres and sent as polyline-encoded integer offsets
  (Google's algorithm); the national page is a fraction of a naive ``folium.GeoJson`` page (``bench/maps.py``)
  while no boundary moves by more than :data:`MAX_SHIFT_M` (see :func:`encode_geometries`).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template
from shapely.geometry.base import BaseGeometry

from . import geo
from .vocab import RISK_CLASSES

__all__ = [
    "BASEMAPS",
    "RISK_CLASSES",
    "RISK_COLOURS",
    "SIGNAL_COLOURS",
    "COORD_PRECISION",
    "SIMPLIFY_TOLERANCE_M",
    "MAX_SHIFT_M",
    "VENDOR_FILES",
    "FOLIUM_ASSETS",
    "AssetNotVendored",
    "MapLabels",
    "ParkFeature",
    "SignalPoint",
    "MapParts",
    "TileSpec",
    "encode_polyline",
    "decode_polyline",
    "encode_geometries",
    "decode_geometry",
    "localise_assets",
    "tile_hosts",
    "hotspot_areas",
    "build_risk_map",
    "build_park_map",
    "render_parts",
    "script_hashes",
    "js_json",
]

# -- constants ----------------------------------------------------------------------------------------
#: Traffic-light colours officers read at a glance; grey for parks without a score.
RISK_COLOURS = {"laag": "#1a9641", "verhoogd": "#f39c12", "hoog": "#d7191c", None: "#8c8c8c"}
#: One colour per signal type (ColorBrewer Set1/Dark2, distinguishable on the grey PDOK map).
SIGNAL_COLOURS = {
    "permit": "#377eb8", "ownership_change": "#984ea3", "inspection": "#4daf4a", "registration": "#a65628",
    "complaint": "#ff7f00", "incident": "#e41a1c", "bibob": "#000000", "energy_anomaly": "#f781bf",
    "other": "#999999",
}
#: Coordinates are sent as integers of 1e-6 degree (0.11 m north-south, 0.07 m east-west at 52.5 N).
COORD_PRECISION = 6
#: Douglas-Peucker tolerance in RD metres; with the rounding above, no boundary moves more than 2 m.
SIMPLIFY_TOLERANCE_M = 1.8
#: The promise: the Hausdorff distance between a stored park and what the map draws (tests check it).
MAX_SHIFT_M = 2.0


@dataclass(frozen=True)
class TileSpec:
    """A raster basemap: Leaflet URL template, attribution, the zoom it is drawn to."""

    key: str
    url: str
    attribution: str
    max_zoom: int = 19
    max_native_zoom: int = 19

    @property
    def host(self) -> str:
        return re.match(r"^(https?://[^/]+)", self.url).group(1)  # type: ignore[union-attr]


BASEMAPS: dict[str, TileSpec] = {
    "pdok": TileSpec("pdok", "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/grijs/EPSG:3857/{z}/{x}/{y}.png",
                     "Kadaster / PDOK", max_zoom=19, max_native_zoom=19),
    "osm": TileSpec("osm", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    "&copy; OpenStreetMap contributors", max_zoom=19, max_native_zoom=19),
}


def tile_hosts(basemap: str) -> list[str]:
    """The origins a page with ``basemap`` loads tiles from (for the CSP ``img-src``); none when offline."""
    if basemap == "none":
        return []
    return [spec.host for spec in _basemap_order(basemap)]


def _basemap_order(basemap: str) -> list[TileSpec]:
    """The chosen basemap first (shown), the other as the alternative a user can switch to."""
    if basemap == "none":
        return []
    first = BASEMAPS[basemap]
    return [first] + [spec for key, spec in BASEMAPS.items() if key != basemap]


# -- local assets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VendorFile:
    """A file copied from an npm package (``node_modules``) or a Python package into ``static/vendor``."""

    origin: str  # "npm:<package>" or "py:<module>"
    source: str  # path inside the package (a trailing "/" copies a folder)
    target: str  # path under static/vendor


#: Every file the pages may load, with where it comes from (exact versions in package.json / package-lock.json).
VENDOR_FILES: tuple[VendorFile, ...] = (
    VendorFile("npm:leaflet", "dist/leaflet.js", "leaflet/leaflet.js"),
    VendorFile("npm:leaflet", "dist/leaflet.js.map", "leaflet/leaflet.js.map"),
    VendorFile("npm:leaflet", "dist/leaflet.css", "leaflet/leaflet.css"),
    VendorFile("npm:leaflet", "dist/images/", "leaflet/images/"),
    VendorFile("npm:jquery", "dist/jquery.min.js", "jquery/jquery.min.js"),
    VendorFile("npm:jquery", "dist/jquery.min.map", "jquery/jquery.min.map"),
    VendorFile("npm:bootstrap", "dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js"),
    VendorFile("npm:bootstrap", "dist/js/bootstrap.bundle.min.js.map", "bootstrap/bootstrap.bundle.min.js.map"),
    VendorFile("npm:bootstrap", "dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"),
    VendorFile("npm:bootstrap", "dist/css/bootstrap.min.css.map", "bootstrap/bootstrap.min.css.map"),
    VendorFile("npm:leaflet.awesome-markers", "dist/leaflet.awesome-markers.js", "awesome-markers/leaflet.awesome-markers.js"),
    VendorFile("npm:leaflet.awesome-markers", "dist/leaflet.awesome-markers.css", "awesome-markers/leaflet.awesome-markers.css"),
    VendorFile("npm:leaflet.awesome-markers", "dist/images/", "awesome-markers/images/"),
    VendorFile("npm:@fortawesome/fontawesome-free", "css/all.min.css", "fontawesome/css/all.min.css"),
    VendorFile("npm:@fortawesome/fontawesome-free", "webfonts/", "fontawesome/webfonts/"),
    VendorFile("npm:leaflet.markercluster", "dist/leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
    VendorFile("npm:leaflet.markercluster", "dist/leaflet.markercluster.js.map", "markercluster/leaflet.markercluster.js.map"),
    VendorFile("npm:leaflet.markercluster", "dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    VendorFile("npm:leaflet.markercluster", "dist/MarkerCluster.Default.css", "markercluster/MarkerCluster.Default.css"),
    VendorFile("py:folium", "templates/leaflet_heat.min.js", "leaflet-heat/leaflet_heat.min.js"),
)

#: Folium's asset names (``Map.default_js``/``default_css`` and the plugins') -> local file under vendor/.
FOLIUM_ASSETS: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "bootstrap": "bootstrap/bootstrap.bundle.min.js",
    "awesome_markers": "awesome-markers/leaflet.awesome-markers.js",
    "leaflet_css": "leaflet/leaflet.css",
    "bootstrap_css": "bootstrap/bootstrap.min.css",
    "awesome_markers_font_css": "fontawesome/css/all.min.css",
    "awesome_markers_css": "awesome-markers/leaflet.awesome-markers.css",
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
    "leaflet-heat.js": "leaflet-heat/leaflet_heat.min.js",
}
#: Folium asset names deliberately left out: Bootstrap 3's glyphicons and a rotation helper, both only for
#: ``folium.Icon(prefix="glyphicon")``/``angle``; Parkwacht draws no such icons (use ``prefix="fa"``).
DROPPED_ASSETS = frozenset({"glyphicons_css", "awesome_rotate_css"})


class AssetNotVendored(RuntimeError):
    """A map element asked for a script or stylesheet Parkwacht does not serve itself."""


def _own_asset(name: str, static_url: str) -> str | None:
    """URLs of Parkwacht's own map script and stylesheet (``service/static``)."""
    return {"parkwacht_map_js": f"{static_url}/map.js", "parkwacht_map_css": f"{static_url}/map.css"}.get(name)


def localise_assets(root: Element, static_url: str = "/static") -> None:
    """Point every element's scripts and stylesheets at the app's own copies (``{static_url}/vendor/...``).

    Runs over the whole element tree just before rendering, so plugins added anywhere are covered. Raises
    :class:`AssetNotVendored` for an asset with no local copy: better a failing build than a page that
    quietly calls a CDN (and breaks offline or under the CSP).
    """
    def local(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for name, url in pairs:
            if name in DROPPED_ASSETS:
                continue
            if url.startswith(static_url + "/"):
                out.append((name, url))
                continue
            own = _own_asset(name, static_url)
            if own is not None:
                out.append((name, own))
            elif name in FOLIUM_ASSETS:
                out.append((name, f"{static_url}/vendor/{FOLIUM_ASSETS[name]}"))
            else:
                raise AssetNotVendored(f"map asset {name!r} ({url}) has no local copy in static/vendor")
        return out

    stack: list[Element] = [root]
    while stack:
        el = stack.pop()
        if isinstance(el, JSCSSMixin):
            el.default_js = local(el.default_js)
            el.default_css = local(el.default_css)
        stack.extend(el._children.values())


# -- JSON in a script block ----------------------------------------------------------------------------
_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JS_ESCAPE_RE = re.compile("[<>&'\u2028\u2029]")


def js_json(value: Any) -> str:
    """Compact JSON that is safe inside an HTML ``<script>`` block: no ``</script>``, no ``<!--``, no line separators."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _JS_ESCAPE_RE.sub(lambda m: _JS_ESCAPES[m.group(0)], text)


# -- geometry encoding ----------------------------------------------------------------------------------
_MAX_CHUNKS = 7  # 5 bits each: enough for any zigzagged 32-bit offset


def encode_polyline(latlon: np.ndarray, precision: int = COORD_PRECISION) -> str:
    """Google's polyline encoding of (lat, lon) rows at ``10**-precision`` degrees.

    Each coordinate becomes the zigzagged difference from the previous one, written 5 bits per character;
    small steps between neighbouring vertices take 2-4 characters instead of ~10 digits of JSON.
    """
    return _encode_many([np.asarray(latlon, dtype=float)], precision)[0]


def _encode_many(rings: Sequence[np.ndarray], precision: int) -> list[str]:
    """Encode many (n, 2) lat/lon arrays in one vectorised pass."""
    if not rings:
        return []
    scale = 10 ** precision
    lengths = np.array([len(r) for r in rings], dtype=np.int64)
    allpts = np.concatenate([np.asarray(r, dtype=float).reshape(-1, 2) for r in rings]) if lengths.sum() else np.empty((0, 2))
    ints = np.round(allpts * scale).astype(np.int64)
    deltas = ints.copy()
    deltas[1:] -= ints[:-1]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    nonempty = lengths > 0
    deltas[starts[nonempty]] = ints[starts[nonempty]]  # each ring starts from absolute values
    v = deltas.reshape(-1)
    z = np.where(v < 0, ~(v << 1), v << 1).astype(np.int64)
    shifts = np.arange(_MAX_CHUNKS, dtype=np.int64) * 5
    parts = (z[:, None] >> shifts[None, :]) & 31
    rest = z[:, None] >> (shifts[None, :] + 5)
    nchunks = np.maximum(1, (rest > 0).sum(axis=1) + 1)
    used = shifts[None, :] < (nchunks[:, None] * 5)
    cont = (rest > 0) & used
    chars = (parts | np.where(cont, 0x20, 0)) + 63
    flat = chars[used].astype(np.uint8).tobytes().decode("ascii")
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


def encode_geometries(geoms_rd: np.ndarray, tolerance_m: float = SIMPLIFY_TOLERANCE_M,
                      precision: int = COORD_PRECISION) -> list[list[list[str]]]:
    """Park polygons (RD) as encoded polygons: per park a list of polygons, each a list of rings (outer first).

    Simplified in metres with :func:`service.geo.simplify_for_web` (topology preserved), reprojected to WGS84,
    rounded to ``10**-precision`` degrees. The shift is bounded by the tolerance plus half a rounding step.
    """
    geoms = np.asarray(geoms_rd, dtype=object)
    if len(geoms) == 0:
        return []
    simple = geo.simplify_for_web(geoms, tolerance_m)
    wgs = geo.to_wgs84(simple)
    rings: list[np.ndarray] = []
    shape: list[list[int]] = []  # per park: ring counts per polygon
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
    encoded = _encode_many(rings, precision)
    out: list[list[list[str]]] = []
    i = 0
    for counts in shape:
        park = []
        for c in counts:
            park.append(encoded[i:i + c])
            i += c
        out.append(park)
    return out


def decode_geometry(encoded: list[list[str]], precision: int = COORD_PRECISION) -> BaseGeometry:
    """An encoded park back to a WGS84 (Multi)Polygon (lon/lat): what the browser draws."""
    polys = []
    for rings in encoded:
        coords = [decode_polyline(r, precision)[:, ::-1] for r in rings]
        polys.append(shapely.Polygon(coords[0], coords[1:]))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


# -- input records --------------------------------------------------------------------------------------
@dataclass
class ParkFeature:
    """A park as the map needs it (geometry in RD)."""

    id: int
    name: str | None
    geom_rd: BaseGeometry
    score: float | None = None
    risk_class: str | None = None
    #: The largest contributing factors as (label, points), largest first.
    top_factors: Sequence[tuple[str, float]] = ()
    hotspot: str | None = None
    hotspot_p: float | None = None
    municipality: str | None = None
    kind: str | None = None


@dataclass
class SignalPoint:
    """A located signal (RD coordinates)."""

    x: float
    y: float
    type: str
    date: str
    subtype: str | None = None
    park_id: int | None = None


@dataclass
class MapLabels:
    """Every text the map shows, already translated by the caller (the core does not know the request)."""

    parks: str = "Parken"
    signals: str = "Signalen (12 maanden)"
    hotspots: str = "Regionale hot spots (Gi*)"
    municipalities: str = "Gemeentegrenzen"
    legend_title: str = "Risicoklasse"
    no_score: str = "nog geen score"
    score: str = "Score"
    risk_class: str = "Klasse"
    top_factors: str = "Grootste factoren"
    no_factors: str = "Geen bijdragende factoren"
    park_link: str = "Naar de parkpagina"
    hot: str = "Hot spot (cluster van hoge scores)"
    cold: str = "Cold spot (cluster van lage scores)"
    p_value: str = "p"
    parks_in_cluster: str = "parken in dit cluster"
    signal_types_title: str = "Signalen"
    pdok: str = "PDOK achtergrondkaart (grijs)"
    osm: str = "OpenStreetMap"
    points: str = "punten"
    locale: str = "nl"
    classes: Mapping[str, str] = field(default_factory=lambda: {c: c for c in RISK_CLASSES})
    signal_types: Mapping[str, str] = field(default_factory=dict)

    def as_js(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, str)} | {"classes": dict(self.classes)}


# -- Folium elements ------------------------------------------------------------------------------------
class ParkMap(folium.Map):
    """A ``folium.Map`` whose header adds no inline styles or scripts (sizes live in ``static/map.css``).

    Folium's own header sets ``html, body {height: 100%; margin: 0}`` (which would break the page around the
    map) and emits inline ``<style>``/``<script>`` blocks that a strict Content-Security-Policy would need
    to allow one by one. The map's ``html`` and ``script`` parts are Folium's.
    """

    _template = Template("""
        {% macro html(this, kwargs) %}
            <div class="folium-map {{ this.css_class }}" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{this.options|tojavascript}}
                }
            );
            {%- if this.control_scale %}
            L.control.scale({imperial: false}).addTo({{ this.get_name() }});
            {%- endif %}
        {% endmacro %}
    """)

    default_js = [("leaflet", "leaflet"), ("parkwacht_map_js", "parkwacht_map_js")]
    default_css = [("leaflet_css", "leaflet_css"), ("parkwacht_map_css", "parkwacht_map_css")]

    def __init__(self, *args: Any, css_class: str = "pw-map", max_map_zoom: int = 19, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.css_class = css_class
        # Without a tile layer (offline) nothing tells Leaflet how far it may zoom; markercluster needs it.
        self.options["max_zoom"] = max_map_zoom


class _Raw(Element):
    """Text that goes into the page as it is.

    branca's ``MacroElement.render`` wraps each rendered macro in ``Element(text)``, which compiles the text
    as a *Jinja template* and renders it again: data containing ``{{ ... }}`` or ``{% ... %}`` would be
    evaluated on the server (template injection), and encoded geometries (which may contain ``{#``) would
    not even parse. Parkwacht's elements therefore hand their output over as ``_Raw``.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


def _render_raw(el: MacroElement, kwargs: dict[str, Any]) -> None:
    """``MacroElement.render`` without the second Jinja pass (see :class:`_Raw`)."""
    figure = el.get_root()
    assert isinstance(figure, Figure), "render the map's figure, not a detached element"
    if isinstance(el, JSCSSMixin):
        from branca.element import CssLink, JavascriptLink

        for name, url in el.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in el.default_css:
            figure.header.add_child(CssLink(url), name=name)
    module = el._template.module.__dict__
    for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
        macro = module.get(part)
        if macro is not None:
            target.add_child(_Raw(str(macro(el, kwargs))), name=el.get_name())
    if isinstance(el, Layer) and el.show:
        figure.script.add_child(_Raw(f"{el.get_name()}.addTo({el._parent.get_name()});\n"), name=el.get_name() + "_add")
    for child in el._children.values():
        child.render(**kwargs)


class _DataLayer(JSCSSMixin, Layer):
    """A Leaflet layer built in the browser by ``Parkwacht.<factory>(data)`` from ``static/map.js``."""

    factory = ""
    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = Parkwacht.{{ this.factory }}({{ this.payload }});
        {% endmacro %}
    """)

    def __init__(self, data: dict[str, Any], name: str, show: bool = True, control: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = type(self).__name__
        self.payload = js_json(data)

    def render(self, **kwargs: Any) -> None:
        _render_raw(self, kwargs)


class ParksLayer(_DataLayer):
    """Park polygons coloured by risk class, with a tooltip and a popup built from text nodes."""

    factory = "parksLayer"


class SignalsLayer(_DataLayer):
    """Signals as circle markers by type; clustered (Leaflet.markercluster) on the risk map."""

    factory = "signalsLayer"

    def __init__(self, data: dict[str, Any], name: str, show: bool = True, cluster: bool = False) -> None:
        super().__init__(data | {"cluster": cluster}, name=name, show=show)
        if cluster:
            self.default_js = [("markerclusterjs", "markerclusterjs")]
            self.default_css = [("markerclustercss", "markerclustercss"),
                                ("markerclusterdefaultcss", "markerclusterdefaultcss")]


class HotspotsLayer(_DataLayer):
    """Getis-Ord Gi* hot and cold spots: areas around the parks of each significant cluster."""

    factory = "hotspotsLayer"


class OutlinesLayer(_DataLayer):
    """Named outlines (municipality boundaries), drawn without fill."""

    factory = "outlinesLayer"


class Legend(MacroElement):
    """A Leaflet control listing colours and their meaning (built from text nodes)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            Parkwacht.legend({{ this._parent.get_name() }}, {{ this.payload }});
        {% endmacro %}
    """)

    def __init__(self, title: str, items: Sequence[tuple[str, str, str]], position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.payload = js_json({"title": title, "position": position,
                                "items": [{"label": label, "color": colour, "shape": shape}
                                          for label, colour, shape in items]})

    def render(self, **kwargs: Any) -> None:
        _render_raw(self, kwargs)


class MarkReady(MacroElement):
    """Marks the page once every layer is on the map (``<html data-map-ready="1">``): tests and the bench wait on it."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            Parkwacht.ready({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "MarkReady"

    def render(self, **kwargs: Any) -> None:
        _render_raw(self, kwargs)


# -- builders -------------------------------------------------------------------------------------------
def _round(v: float | None, nd: int = 2) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def _add_basemaps(m: folium.Map, basemap: str, labels: MapLabels) -> None:
    for i, spec in enumerate(_basemap_order(basemap)):
        folium.TileLayer(tiles=spec.url, attr=spec.attribution, name=getattr(labels, spec.key), max_zoom=spec.max_zoom,
                         max_native_zoom=spec.max_native_zoom, show=(i == 0), overlay=False, control=True).add_to(m)


def _bounds(geoms_rd: Sequence[BaseGeometry], pad_m: float = 50.0) -> list[list[float]] | None:
    """[[south, west], [north, east]] of RD geometries, padded a little."""
    if not len(geoms_rd):
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms_rd, dtype=object))
    lon, lat = geo.transformer(geo.RD, geo.WGS84).transform([minx - pad_m, maxx + pad_m], [miny - pad_m, maxy + pad_m])
    return [[round(min(lat), 6), round(min(lon), 6)], [round(max(lat), 6), round(max(lon), 6)]]


#: Rough bounds of the Netherlands for an empty map.
NL_BOUNDS = [[50.75, 3.36], [53.55, 7.23]]


def _signal_payload(signals: Sequence[SignalPoint], labels: MapLabels, precision: int = 5) -> dict[str, Any]:
    types = list(SIGNAL_COLOURS)
    if not signals:
        lat = lon = np.empty(0)
    else:
        xs = np.array([s.x for s in signals], dtype=float)
        ys = np.array([s.y for s in signals], dtype=float)
        lon, lat = geo.transformer(geo.RD, geo.WGS84).transform(xs, ys)
    scale = 10 ** precision
    pts = []
    for s, la, lo in zip(signals, np.round(np.asarray(lat) * scale).astype(np.int64).tolist(),
                         np.round(np.asarray(lon) * scale).astype(np.int64).tolist()):
        t = types.index(s.type) if s.type in SIGNAL_COLOURS else types.index("other")
        pts.append([la, lo, t, s.date, s.subtype or ""])
    return {"scale": scale, "types": [[labels.signal_types.get(t, t), SIGNAL_COLOURS[t]] for t in types],
            "points": pts}


def hotspot_areas(parks: Sequence[ParkFeature], radius_m: float = 1000.0) -> list[list[Any]]:
    """Regional Gi* clusters as areas: [hot (1/0), park count, smallest p, up to 5 names, encoded outline].

    One ring per park would bury the map under circles; what officers need is *where* the clusters are.
    Each area is the union of ``radius_m`` discs around the cluster's parks (parks of one cluster lie within
    the Gi* distance band of each other, so half that band merges them into one area).
    """
    out: list[list[Any]] = []
    for label, flag in (("hot", 1), ("cold", 0)):
        members = [p for p in parks if p.hotspot == label]
        if not members:
            continue
        pts = shapely.point_on_surface(np.array([p.geom_rd for p in members], dtype=object))
        union = shapely.union_all(shapely.buffer(pts, radius_m, quad_segs=8))
        areas = list(getattr(union, "geoms", [union]))
        tree = shapely.STRtree(pts)
        encoded = encode_geometries(np.array(areas, dtype=object), tolerance_m=20.0)
        for area, enc in zip(areas, encoded):
            idx = tree.query(area, predicate="intersects")
            inside = sorted((members[i] for i in idx), key=lambda p: (-(p.score or 0), p.id))
            ps = [p.hotspot_p for p in inside if p.hotspot_p is not None]
            out.append([flag, len(inside), _round(min(ps), 3) if ps else None, [p.name or "" for p in inside[:5]], enc])
    return out


def build_risk_map(parks: Sequence[ParkFeature], *, labels: MapLabels | None = None, basemap: str = "pdok",
                   signals: Sequence[SignalPoint] = (), municipalities: Sequence[tuple[str, BaseGeometry]] | None = None,
                   park_url: str = "/parks/", static_url: str = "/static", url_suffix: str = "",
                   fit: Sequence[ParkFeature] | None = None, hotspot_radius_m: float = 1000.0) -> ParkMap:
    """The risk map: parks coloured by class, signals (clustered), Gi* hot spots, municipality outlines.

    ``municipalities`` (name, RD geometry) adds the boundary layer; ``None`` (no source loaded) leaves it out.
    The map fits ``fit`` (default: ``parks``); with no parks it shows the Netherlands. Hot spots are drawn
    as areas (parks of one Gi* cluster within ``hotspot_radius_m`` of each other, merged), below the parks
    so that a park inside a hot spot can still be clicked.
    """
    labels = labels or MapLabels()
    m = ParkMap(location=[52.2, 5.3], zoom_start=8, tiles=None, control_scale=True, prefer_canvas=False,
                css_class="pw-map pw-map-large")
    _add_basemaps(m, basemap, labels)

    HotspotsLayer({"labels": labels.as_js(), "precision": COORD_PRECISION,
                   "areas": hotspot_areas(parks, hotspot_radius_m)}, name=labels.hotspots, show=True).add_to(m)

    factor_index: dict[str, int] = {}
    rows = []
    encoded = encode_geometries(np.array([p.geom_rd for p in parks], dtype=object))
    for p, enc in zip(parks, encoded):
        tops = []
        for label, points in p.top_factors:
            idx = factor_index.setdefault(label, len(factor_index))
            tops.append([idx, _round(points)])
        cls = RISK_CLASSES.index(p.risk_class) if p.risk_class in RISK_CLASSES else -1
        rows.append([p.id, p.name or "", _round(p.score), cls, tops, enc])
    ParksLayer({"labels": labels.as_js(), "classes": list(RISK_CLASSES),
                "colors": [RISK_COLOURS[c] for c in RISK_CLASSES] + [RISK_COLOURS[None]],
                "factors": list(factor_index), "url": park_url, "suffix": url_suffix, "precision": COORD_PRECISION,
                "parks": rows}, name=labels.parks).add_to(m)

    if signals is not None:
        SignalsLayer(_signal_payload(signals, labels), name=labels.signals, show=False, cluster=True).add_to(m)

    if municipalities is not None:
        names = [n for n, _ in municipalities]
        enc = encode_geometries(np.array([g for _, g in municipalities], dtype=object), tolerance_m=10.0)
        OutlinesLayer({"precision": COORD_PRECISION, "items": [[n, e] for n, e in zip(names, enc)]},
                      name=labels.municipalities, show=True).add_to(m)

    Legend(labels.legend_title,
           [(labels.classes.get(c, c), RISK_COLOURS[c], "box") for c in RISK_CLASSES]
           + [(labels.no_score, RISK_COLOURS[None], "box"), (labels.hot, "#b2182b", "area"),
              (labels.cold, "#2166ac", "area")]).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    target = parks if fit is None else fit
    bounds = _bounds([p.geom_rd for p in target]) or NL_BOUNDS
    m.fit_bounds(bounds)
    MarkReady().add_to(m)
    localise_assets(m.get_root(), static_url)
    return m


def build_park_map(park: ParkFeature, signals: Sequence[SignalPoint], *, labels: MapLabels | None = None,
                   basemap: str = "pdok", static_url: str = "/static") -> ParkMap:
    """The small map of one park: its outline (unsimplified beyond 1e-6 degrees) and its signals by type."""
    labels = labels or MapLabels()
    m = ParkMap(location=[52.2, 5.3], zoom_start=14, tiles=None, control_scale=True, css_class="pw-map pw-map-small")
    _add_basemaps(m, basemap, labels)
    enc = encode_geometries(np.array([park.geom_rd], dtype=object), tolerance_m=0.0)
    cls = RISK_CLASSES.index(park.risk_class) if park.risk_class in RISK_CLASSES else -1
    ParksLayer({"labels": labels.as_js(), "classes": list(RISK_CLASSES),
                "colors": [RISK_COLOURS[c] for c in RISK_CLASSES] + [RISK_COLOURS[None]], "factors": [],
                "url": None, "suffix": "", "precision": COORD_PRECISION,
                "parks": [[park.id, park.name or "", _round(park.score), cls, [], enc[0]]]}, name=labels.parks).add_to(m)
    payload = _signal_payload(signals, labels)
    SignalsLayer(payload, name=labels.signals, show=True, cluster=False).add_to(m)
    present = sorted({p[2] for p in payload["points"]})
    if present:
        Legend(labels.signal_types_title, [(payload["types"][i][0], payload["types"][i][1], "dot") for i in present]).add_to(m)
    geoms = [park.geom_rd] + [shapely.Point(s.x, s.y) for s in signals]
    m.fit_bounds(_bounds(geoms, pad_m=30.0) or NL_BOUNDS)
    MarkReady().add_to(m)
    localise_assets(m.get_root(), static_url)
    return m


# -- rendering ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MapParts:
    """A rendered map split for embedding in a page: ``head`` (links), ``body`` (the map div), ``script``.

    ``script`` is the JavaScript of the one inline ``<script>`` block; ``script_hashes`` are the CSP source
    expressions that allow exactly it (no nonce needed, so the parts can be cached and served as they are).
    """

    head: str
    body: str
    script: str
    script_hashes: tuple[str, ...]
    #: Facts about what was drawn (counts) for the page around the map.
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.head.encode()) + len(self.body.encode()) + len(self.script.encode())

    def as_dict(self) -> dict[str, Any]:
        return {"head": self.head, "body": self.body, "script": self.script, "script_hashes": list(self.script_hashes),
                "meta": dict(self.meta)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MapParts":
        return cls(d["head"], d["body"], d["script"], tuple(d["script_hashes"]), dict(d.get("meta") or {}))


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def script_hashes(*scripts: str) -> tuple[str, ...]:
    """CSP ``'sha256-...'`` expressions for the given inline script texts."""
    import base64

    return tuple(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)


def render_parts(m: folium.Map, meta: Mapping[str, Any] | None = None) -> MapParts:
    """Render ``m`` into head, body and script parts (Folium's ``Figure`` without its document shell)."""
    fig: Figure = m.get_root()  # type: ignore[assignment]
    for child in list(fig._children.values()):
        child.render()
    head = fig.header.render()
    body = fig.html.render()
    script = "\n" + fig.script.render() + "\n"
    inline = _INLINE_SCRIPT.findall(head + body)
    if inline:  # an element put an inline script into the head or body: it must be allowed too
        hashes = script_hashes(script, *inline)
    else:
        hashes = script_hashes(script)
    return MapParts(head=head, body=body, script=script, script_hashes=hashes, meta=dict(meta or {}))

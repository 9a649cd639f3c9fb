"""Folium map builders for the officers' pages (the risk map of all parks, the map of one park); never imports Flask.

Three choices shape it (each measured or required), each explained in its module:

* **Local assets only** (:mod:`.assets`): every script and stylesheet is served from ``/static/vendor``.
* **Nothing from the data is ever parsed as HTML or code** (:mod:`.elements`, :func:`js_json`): layers embed
  their data as JSON and ``static/map.js`` builds tooltips and popups with ``textContent``.
* **Small pages** (:mod:`.encoding`): outlines are sent polyline-encoded, moved by at most :data:`MAX_SHIFT_M`.

Modules: :mod:`.styles` (colours, basemaps), :mod:`.assets`, :mod:`.encoding`, :mod:`.records` (inputs),
:mod:`.elements` (Folium elements), :mod:`.builders` (the two maps), :mod:`.render` (page parts, CSP hashes).
"""
from __future__ import annotations

from ..vocab import RISK_CLASSES
from .assets import (
    FOLIUM_ASSETS,
    VENDOR_FILES,
    AssetNotVendored,
    VendorFile,
    localise_assets,
)
from .builders import build_park_map, build_risk_map, hotspot_areas
from .elements import ParkMap
from .encoding import (
    COORD_PRECISION,
    MAX_SHIFT_M,
    SIMPLIFY_TOLERANCE_M,
    decode_geometry,
    decode_polyline,
    encode_geometries,
    encode_polyline,
    js_json,
)
from .records import MapLabels, ParkFeature, SignalPoint
from .render import MapParts, render_parts, script_hashes
from .styles import BASEMAPS, RISK_COLOURS, SIGNAL_COLOURS, TileSpec, tile_hosts

__all__ = [
    "BASEMAPS",
    "COORD_PRECISION",
    "FOLIUM_ASSETS",
    "MAX_SHIFT_M",
    "RISK_CLASSES",
    "RISK_COLOURS",
    "SIGNAL_COLOURS",
    "SIMPLIFY_TOLERANCE_M",
    "VENDOR_FILES",
    "AssetNotVendored",
    "MapLabels",
    "MapParts",
    "ParkFeature",
    "ParkMap",
    "SignalPoint",
    "TileSpec",
    "VendorFile",
    "build_park_map",
    "build_risk_map",
    "decode_geometry",
    "decode_polyline",
    "encode_geometries",
    "encode_polyline",
    "hotspot_areas",
    "js_json",
    "localise_assets",
    "render_parts",
    "script_hashes",
    "tile_hosts",
]

"""The front-end files the maps load, all served locally, and the rewrite of Folium's CDN links to them.

Folium links Leaflet, jQuery, Bootstrap and its plugins from public CDNs, so offline it draws nothing. Every
element's ``default_js``/``default_css`` is rewritten to ``/static/vendor/...`` before rendering
(:func:`localise_assets`); an asset with no local copy stops the build instead of silently reaching the internet.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from branca.element import Element
from folium.elements import JSCSSMixin

__all__ = ["DROPPED_ASSETS", "FOLIUM_ASSETS", "VENDOR_FILES", "AssetNotVendored", "VendorFile", "localise_assets"]


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
    VendorFile("npm:leaflet.awesome-markers", "dist/leaflet.awesome-markers.js",
               "awesome-markers/leaflet.awesome-markers.js"),
    VendorFile("npm:leaflet.awesome-markers", "dist/leaflet.awesome-markers.css",
               "awesome-markers/leaflet.awesome-markers.css"),
    VendorFile("npm:leaflet.awesome-markers", "dist/images/", "awesome-markers/images/"),
    VendorFile("npm:@fortawesome/fontawesome-free", "css/all.min.css", "fontawesome/css/all.min.css"),
    VendorFile("npm:@fortawesome/fontawesome-free", "webfonts/", "fontawesome/webfonts/"),
    VendorFile("npm:leaflet.markercluster", "dist/leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
    VendorFile("npm:leaflet.markercluster", "dist/leaflet.markercluster.js.map",
               "markercluster/leaflet.markercluster.js.map"),
    VendorFile("npm:leaflet.markercluster", "dist/MarkerCluster.css", "markercluster/MarkerCluster.css"),
    VendorFile("npm:leaflet.markercluster", "dist/MarkerCluster.Default.css",
               "markercluster/MarkerCluster.Default.css"),
    VendorFile("py:folium", "templates/leaflet_heat.min.js", "leaflet-heat/leaflet_heat.min.js"),
    # The interactive API documentation (/api/v1/docs), not a map asset, but installed the same way.
    VendorFile("npm:swagger-ui-dist", "swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"),
    VendorFile("npm:swagger-ui-dist", "swagger-ui.css", "swagger-ui/swagger-ui.css"),
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


def localise_assets(root: Element, static_url: str = "/static") -> None:
    """Point every element's scripts and stylesheets at the app's own copies (``{static_url}/vendor/...``).

    Runs over the whole element tree just before rendering, so plugins added anywhere are covered. Raises
    :class:`AssetNotVendored` for an asset with no local copy: better a failing build than a page that
    quietly calls a CDN (and breaks offline or under the CSP).
    """
    for el in _elements(root):
        if isinstance(el, JSCSSMixin):
            el.default_js = _localise(el.default_js, static_url)
            el.default_css = _localise(el.default_css, static_url)


def _elements(root: Element) -> Iterator[Element]:
    """``root`` and all its descendants (depth first; each element is changed before its children are read)."""
    stack: list[Element] = [root]
    while stack:
        el = stack.pop()
        yield el
        stack.extend(el._children.values())


def _localise(pairs: Sequence[tuple[str, str]], static_url: str) -> list[tuple[str, str]]:
    """(name, URL) pairs with every URL local; dropped assets left out."""
    return [(name, _local_url(name, url, static_url)) for name, url in pairs if name not in DROPPED_ASSETS]


def _local_url(name: str, url: str, static_url: str) -> str:
    """Where the app serves asset ``name`` (``url`` if it already points there)."""
    if url.startswith(static_url + "/"):
        return url
    own = _own_asset(name, static_url)
    if own is not None:
        return own
    if name in FOLIUM_ASSETS:
        return f"{static_url}/vendor/{FOLIUM_ASSETS[name]}"
    raise AssetNotVendored(f"map asset {name!r} ({url}) has no local copy in static/vendor")


def _own_asset(name: str, static_url: str) -> str | None:
    """URLs of Parkwacht's own map script and stylesheet (``service/static``)."""
    return {"parkwacht_map_js": f"{static_url}/map.js", "parkwacht_map_css": f"{static_url}/map.css"}.get(name)

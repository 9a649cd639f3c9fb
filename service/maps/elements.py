"""Parkwacht's Folium elements: a map without inline styles and data layers rendered without a second Jinja pass.

Nothing from the data is ever parsed as HTML or code. Folium's ``Tooltip``/``Popup``/``GeoJsonTooltip`` paste
text into JavaScript template literals and ``innerHTML`` (a park called ``${alert(1)}`` or ``<img onerror=...>``
would run). These layers instead embed their data as JSON escaped for a ``<script>`` block (:func:`js_json`)
and build tooltips and popups in the browser with ``textContent`` (``static/map.js``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from .encoding import js_json

__all__ = ["HotspotsLayer", "Legend", "MarkReady", "OutlinesLayer", "ParkMap", "ParksLayer", "SignalsLayer"]


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

    # Folium's JSCSSMixin protocol: class-level lists that localise_assets replaces per instance.
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
    if not isinstance(figure, Figure):
        raise TypeError("render the map's figure, not a detached element")
    if isinstance(el, JSCSSMixin):
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
        parent = el._parent
        if parent is None:
            raise TypeError(f"layer {el.get_name()} is shown but belongs to no map")
        figure.script.add_child(_Raw(f"{el.get_name()}.addTo({parent.get_name()});\n"), name=el.get_name() + "_add")
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

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
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

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
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

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as MacroElement.render
        _render_raw(self, kwargs)

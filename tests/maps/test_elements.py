"""service.maps.elements: data reaches the page as JSON, never through a second template pass or inline styles."""
from __future__ import annotations

import shapely

from service import maps


def test_template_syntax_in_data_is_not_evaluated():
    park = maps.ParkFeature(id=1, name="{{ 7*7 }}{% if true %}yes{% endif %}",
                            geom_rd=shapely.box(190000, 470000, 190100, 470100))
    parts = maps.render_parts(maps.build_risk_map([park], basemap="none"))
    assert "{{ 7*7 }}{% if true %}yes{% endif %}" in parts.script
    assert "49" not in parts.script.split("parksLayer", 1)[1].split("]]]]", 1)[0].split('"{{')[0][-5:]


def test_the_map_adds_no_inline_style_or_script_outside_its_script_part():
    park = maps.ParkFeature(id=1, name="P", geom_rd=shapely.box(190000, 470000, 190100, 470100))
    parts = maps.render_parts(maps.build_park_map(park, [], basemap="none"))
    assert "<style" not in parts.head + parts.body
    assert "<script>" not in parts.head + parts.body
    assert 'class="folium-map pw-map pw-map-small"' in parts.body

"""service.maps.builders: what the risk map and the park map put on the page."""
from __future__ import annotations

import shapely

from service import maps


def test_municipality_layer_only_with_a_source():
    park = maps.ParkFeature(id=1, name="P", geom_rd=shapely.box(190000, 470000, 190100, 470100))
    without = maps.render_parts(maps.build_risk_map([park], basemap="none", municipalities=None))
    assert "outlinesLayer" not in without.script
    with_outline = maps.render_parts(maps.build_risk_map(
        [park], basemap="none", municipalities=[("Gemeente <X>", shapely.box(185000, 465000, 195000, 475000))]))
    assert "Parkwacht.outlinesLayer(" in with_outline.script and "Gemeente \\u003cX\\u003e" in with_outline.script


def test_hot_spots_are_areas_around_cluster_parks():
    parks = [maps.ParkFeature(id=i, name=f"P{i}",
                              geom_rd=shapely.box(190000 + i * 500, 470000, 190100 + i * 500, 470100),
                              score=50, risk_class="hoog", hotspot="hot", hotspot_p=0.01) for i in range(3)]
    parks.append(maps.ParkFeature(id=9, name="far", geom_rd=shapely.box(220000, 470000, 220100, 470100),
                                  score=1, risk_class="laag", hotspot="cold", hotspot_p=0.02))
    areas = maps.hotspot_areas(parks)
    assert sorted((a[0], a[1]) for a in areas) == [(0, 1), (1, 3)]


def test_the_park_map_legend_lists_only_the_signal_types_present():
    park = maps.ParkFeature(id=1, name="P", geom_rd=shapely.box(190000, 470000, 190100, 470100))
    signals = [maps.SignalPoint(x=190050, y=470050, type="bibob", date="2024-01-01"),
               maps.SignalPoint(x=190060, y=470050, type="no-such-type", date="2024-01-02")]
    labels = maps.MapLabels(signal_types={"bibob": "Bibob-toets", "other": "Overig", "permit": "Vergunning"})
    script = maps.render_parts(maps.build_park_map(park, signals, labels=labels, basemap="none")).script
    legend = script.split("Parkwacht.legend(", 1)[1]
    assert "Bibob-toets" in legend and "Overig" in legend and "Vergunning" not in legend


def test_an_empty_risk_map_shows_the_netherlands():
    script = maps.render_parts(maps.build_risk_map([], basemap="none")).script
    assert "[[50.75, 3.36], [53.55, 7.23]]" in script

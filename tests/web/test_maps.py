"""The map core: local assets, geometry encoding within 2 m, raw rendering, the conditional boundary layer."""
from __future__ import annotations

import folium
import numpy as np
import pytest
import shapely
from folium.plugins import HeatMap, MarkerCluster

from service import geo, maps
from service.store import Store
from service.web import queries


def _back_to_rd(encoded):
    wgs = np.array([maps.decode_geometry(e) for e in encoded], dtype=object)
    t = geo.transformer(geo.WGS84, geo.RD)
    return shapely.transform(wgs, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def test_polyline_round_trip():
    pts = np.array([[52.123456, 5.654321], [52.123457, 5.654300], [51.9, 4.1], [52.0, 6.0]])
    back = maps.decode_polyline(maps.encode_polyline(pts))
    assert np.abs(back - pts).max() <= 0.5e-6 + 1e-12
    assert maps.encode_polyline(np.array([[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]]), precision=5) \
        == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"  # Google's documented example


def test_demo_parks_move_at_most_two_metres(demo_db):
    store = Store(f"sqlite:///{demo_db}")
    pg = store.park_geometries()
    store.dispose()
    enc = maps.encode_geometries(pg.geoms)
    h = shapely.hausdorff_distance(_back_to_rd(enc), pg.geoms, densify=0.1)
    assert h.max() <= maps.MAX_SHIFT_M


@pytest.mark.realdata
@pytest.mark.slow
def test_real_parks_move_at_most_two_metres_and_the_page_is_small(sample_data, tmp_path):
    from service.config import load_settings
    from service.ingest import import_parks

    settings = load_settings({}, database_url=f"sqlite:///{tmp_path / 'p.db'}", instance_dir=str(tmp_path))
    store = Store(settings.database_url)
    store.upgrade()
    import_parks(store, sample_data / "parks_ftm_vakantieparken_final.zip", settings=settings, preset="top10nl")
    pg = store.park_geometries()
    enc = maps.encode_geometries(pg.geoms)
    h = shapely.hausdorff_distance(_back_to_rd(enc), pg.geoms, densify=0.25)
    assert h.max() <= maps.MAX_SHIFT_M
    rows = queries.park_rows(store, None)
    m = maps.build_risk_map(queries.park_features(rows, {}), basemap="none")
    parts = maps.render_parts(m)
    assert parts.size <= 7_000_000 / 4  # a naive folium.GeoJson page of these parks is 7.0 MB (bench/maps.py)
    store.dispose()


def test_every_folium_asset_is_served_locally():
    m = folium.Map()
    MarkerCluster().add_to(m)
    HeatMap([[52.0, 5.0, 1.0]]).add_to(m)
    folium.Marker([52, 5], icon=folium.Icon(icon="info-sign")).add_to(m)
    maps.localise_assets(m.get_root())
    html = m.get_root().render()
    assert "cdn" not in html and "bootstrapcdn" not in html
    srcs = [u for u in __import__("re").findall(r'(?:src|href)="([^"]+)"', html)]
    assert srcs and all(u.startswith("/static/vendor/") for u in srcs)


def test_an_asset_without_a_local_copy_stops_the_build():
    m = folium.Map()

    class Foreign(folium.elements.JSCSSMixin):
        default_js = [("something_new", "https://cdn.example.org/x.js")]

    Foreign().add_to(m)
    with pytest.raises(maps.AssetNotVendored):
        maps.localise_assets(m.get_root())


def test_vendor_files_are_installed():
    from service.web.vendor import missing

    assert missing() == [], "run `npm ci && python -m service.web.vendor` (make install does)"


def test_template_syntax_in_data_is_not_evaluated():
    park = maps.ParkFeature(id=1, name="{{ 7*7 }}{% if true %}yes{% endif %}", geom_rd=shapely.box(190000, 470000, 190100, 470100))
    parts = maps.render_parts(maps.build_risk_map([park], basemap="none"))
    assert "{{ 7*7 }}{% if true %}yes{% endif %}" in parts.script
    assert "49" not in parts.script.split("parksLayer", 1)[1].split("]]]]", 1)[0].split('"{{')[0][-5:]


def test_municipality_layer_only_with_a_source(store):
    park = maps.ParkFeature(id=1, name="P", geom_rd=shapely.box(190000, 470000, 190100, 470100))
    without = maps.render_parts(maps.build_risk_map([park], basemap="none", municipalities=None))
    assert "outlinesLayer" not in without.script
    with_outline = maps.render_parts(maps.build_risk_map(
        [park], basemap="none", municipalities=[("Gemeente <X>", shapely.box(185000, 465000, 195000, 475000))]))
    assert "Parkwacht.outlinesLayer(" in with_outline.script and "Gemeente \\u003cX\\u003e" in with_outline.script
    assert queries.municipality_outlines(store) is None


def test_hot_spots_are_areas_around_cluster_parks():
    parks = [maps.ParkFeature(id=i, name=f"P{i}", geom_rd=shapely.box(190000 + i * 500, 470000, 190100 + i * 500, 470100),
                              score=50, risk_class="hoog", hotspot="hot", hotspot_p=0.01) for i in range(3)]
    parks.append(maps.ParkFeature(id=9, name="far", geom_rd=shapely.box(220000, 470000, 220100, 470100),
                                  score=1, risk_class="laag", hotspot="cold", hotspot_p=0.02))
    areas = maps.hotspot_areas(parks)
    assert sorted((a[0], a[1]) for a in areas) == [(0, 1), (1, 3)]

"""service.maps.assets: every script and stylesheet a map loads is served by the app itself."""
from __future__ import annotations

import re

import folium
import pytest
from folium.plugins import HeatMap, MarkerCluster

from service import maps


def test_every_folium_asset_is_served_locally():
    m = folium.Map()
    MarkerCluster().add_to(m)
    HeatMap([[52.0, 5.0, 1.0]]).add_to(m)
    folium.Marker([52, 5], icon=folium.Icon(icon="info-sign")).add_to(m)
    maps.localise_assets(m.get_root())
    html = m.get_root().render()
    assert "cdn" not in html and "bootstrapcdn" not in html
    srcs = [u for u in re.findall(r'(?:src|href)="([^"]+)"', html)]
    assert srcs and all(u.startswith("/static/vendor/") for u in srcs)


def test_an_asset_without_a_local_copy_stops_the_build():
    m = folium.Map()

    class Foreign(folium.elements.JSCSSMixin):
        default_js = [("something_new", "https://cdn.example.org/x.js")]

    Foreign().add_to(m)
    with pytest.raises(maps.AssetNotVendored):
        maps.localise_assets(m.get_root())


def test_every_folium_asset_has_a_vendored_file():
    targets = {f.target for f in maps.VENDOR_FILES}
    folders = {t for t in targets if t.endswith("/")}
    for local in maps.FOLIUM_ASSETS.values():
        assert local in targets or any(local.startswith(d) for d in folders), local

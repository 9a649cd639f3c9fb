"""service.maps.styles: colours for every class and signal type, and the tile hosts the CSP must allow."""
from __future__ import annotations

from service import maps


def test_tile_hosts_follow_the_basemap():
    assert maps.tile_hosts("none") == []
    assert maps.tile_hosts("pdok") == ["https://service.pdok.nl", "https://tile.openstreetmap.org"]
    assert maps.tile_hosts("osm") == ["https://tile.openstreetmap.org", "https://service.pdok.nl"]


def test_every_risk_class_and_unscored_parks_have_a_colour():
    assert set(maps.RISK_COLOURS) == {*maps.RISK_CLASSES, None}
    assert "other" in maps.SIGNAL_COLOURS

"""The map core on the app's data: demo and real parks within 2 m, a small page, the vendored files, no outlines
without a source. (The core's own tests are in ``tests/maps``.)"""
from __future__ import annotations

import pytest
import shapely

from service import maps, reads
from service.store import Store
from tests.maps.helpers import back_to_rd


def test_demo_parks_move_at_most_two_metres(demo_db):
    store = Store(demo_db if isinstance(demo_db, str) else f"sqlite:///{demo_db}")
    pg = store.park_geometries()
    store.dispose()
    enc = maps.encode_geometries(pg.geoms)
    h = shapely.hausdorff_distance(back_to_rd(enc), pg.geoms, densify=0.1)
    assert h.max() <= maps.MAX_SHIFT_M


@pytest.mark.realdata
@pytest.mark.slow
def test_real_parks_move_at_most_two_metres_and_the_page_is_small(sample_data, tmp_path):
    from service.config import load_settings
    from service.ingest import import_parks
    from service.web.pages import park_features

    settings = load_settings({}, database_url=f"sqlite:///{tmp_path / 'p.db'}", instance_dir=str(tmp_path))
    store = Store(settings.database_url)
    store.upgrade()
    import_parks(store, sample_data / "parks_ftm_vakantieparken_final.zip", settings=settings, preset="top10nl")
    pg = store.park_geometries()
    enc = maps.encode_geometries(pg.geoms)
    h = shapely.hausdorff_distance(back_to_rd(enc), pg.geoms, densify=0.25)
    assert h.max() <= maps.MAX_SHIFT_M
    rows = reads.park_rows(store, None)
    m = maps.build_risk_map(park_features(rows, {}), basemap="none")
    parts = maps.render_parts(m)
    assert parts.size <= 7_000_000 / 4  # a naive folium.GeoJson page of these parks is 7.0 MB (bench/maps.py)
    store.dispose()


def test_vendor_files_are_installed():
    from service.web.vendor import missing

    assert missing() == [], "run `npm ci && python -m service.web.vendor` (make install does)"


def test_no_municipality_outlines_without_a_source(store):
    # The map side of this (no outline layer for ``municipalities=None``) is tests/maps/test_builders.py.
    assert reads.municipality_outlines(store) is None

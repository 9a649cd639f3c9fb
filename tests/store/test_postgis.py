"""PostgreSQL+PostGIS as a first-class store: geometry columns with GiST indexes, and the same scores as SQLite.

These need a PostgreSQL cluster (``PARKWACHT_TEST_POSTGRES_URL``; ``.ci/postgres`` starts one) and are skipped
without one. The rest of the suite runs on PostGIS as a whole with ``PARKWACHT_TEST_STORE=postgis``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from service.config import load_settings
from service.store import Store, schema
from tests import stores
from tests.conftest import DEMO_TODAY, TEST_TODAY

pytestmark = pytest.mark.skipif(not os.environ.get("PARKWACHT_TEST_POSTGRES_URL"),
                                reason="no PostgreSQL cluster (PARKWACHT_TEST_POSTGRES_URL)")


@pytest.fixture
def pg_store(tmp_path: Path):
    s = Store(stores.postgres_url(tmp_path))
    s.upgrade()
    yield s
    s.dispose()


def test_geometry_columns_have_srid_28992_and_gist_indexes(pg_store: Store) -> None:
    with pg_store.connect() as conn:
        cols = conn.execute(sa.text("select f_table_name, f_geometry_column, srid, type from geometry_columns "
                                    "where f_table_schema = 'public' order by 1")).all()
        indexes = conn.execute(sa.text("select indexname, indexdef from pg_indexes where indexdef like '%gist%'")).all()
    assert [(c[0], c[1], c[2]) for c in cols] == [("areas", "geom", 28992), ("parks", "geom", 28992),
                                                  ("signals", "geom", 28992)]
    assert {i[0] for i in indexes} >= {"ix_parks_geom", "ix_areas_geom", "ix_signals_geom"}


def test_the_postgis_geometry_follows_every_write(pg_store: Store, tmp_path: Path) -> None:
    """The columns are generated from WKB and x/y, so every writer (imports, the API) keeps them right."""
    import geopandas as gpd

    from service.ingest import import_park_frame

    settings = load_settings({}, database_url=pg_store.url, instance_dir=str(tmp_path), basemap="none",
                             today=TEST_TODAY)
    box = shapely.box(180_000, 470_000, 180_250, 470_200)
    frame = gpd.GeoDataFrame([{"source_id": "a", "name": "A", "geometry": box}], geometry="geometry",
                             crs="EPSG:28992")
    import_park_frame(pg_store, frame, settings=settings, source="t", crs="EPSG:28992")
    with pg_store.connect() as conn:
        equal, srid, hit = conn.execute(sa.text(
            "select ST_Equals(geom, ST_GeomFromWKB(geom_wkb, 28992)), ST_SRID(geom), "
            "ST_Intersects(geom, ST_MakeEnvelope(180100, 470100, 180101, 470101, 28992)) from parks")).one()
    assert equal and srid == 28992 and hit


@pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")
def test_migration_0005_goes_down_and_up_again(pg_store: Store) -> None:
    from alembic import command

    command.downgrade(pg_store.alembic_config(), "0004")
    with pg_store.connect() as conn:
        assert "geom" not in {c["name"] for c in sa.inspect(conn).get_columns("parks")}
    pg_store.upgrade()
    with pg_store.connect() as conn:
        assert "geom" in {c["name"] for c in sa.inspect(conn).get_columns("parks")}


@pytest.mark.slow
def test_both_stores_give_identical_scores(tmp_path: Path) -> None:
    """The demo region loaded and scored on SQLite and on PostGIS: every park's score, class, factors, hot spot."""
    from service.demo import load_demo
    from service.scoring import score_run

    runs = {}
    for kind, url in (("sqlite", f"sqlite:///{tmp_path / 'p.db'}"), ("postgis", stores.postgres_url(tmp_path))):
        settings = load_settings({}, database_url=url, instance_dir=str(tmp_path / kind), basemap="none",
                                 today=TEST_TODAY)
        store = Store(url)
        store.upgrade()
        load_demo(store, settings, today=DEMO_TODAY)
        run = score_run(store, settings)
        ps = schema.park_scores
        with store.connect() as conn:
            rows = conn.execute(sa.select(ps.c.park_id, ps.c.score, ps.c.risk_class, ps.c.factors, ps.c.themes,
                                          ps.c.hotspot, ps.c.base_points)
                                .where(ps.c.run_id == run["run_id"]).order_by(ps.c.park_id)).all()
        store.dispose()
        runs[kind] = (run["input_counts"], [tuple(r) for r in rows])
    assert len(runs["sqlite"][1]) == 240
    assert runs["sqlite"][0] == runs["postgis"][0]
    assert runs["sqlite"][1] == runs["postgis"][1]

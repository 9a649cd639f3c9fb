"""Fixtures of the web tests: the demo region, scored once per session, copied into each test's own store.

Loading and scoring the demo takes ~8 s, so it happens once; every test then works on a copy of the
SQLite file (a test that records a visit cannot change what another test sees).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from service import create_app, scoring
from service.config import Settings, load_settings
from service.demo import load_demo
from service.ingest import import_park_frame
from service.store import Store

#: Park names a hostile import could carry: HTML, a JS template literal, a Jinja expression, a quote mix.
HOSTILE_NAMES = (
    "<img src=x onerror=alert(1)>",
    "${alert(2)}`</script><script>alert(3)</script>",
    "{{ 7*7 }} {% raw %}x",
    "Camping \"De Vos\" & 'Zn' <b>",
)


def _hostile_parks() -> gpd.GeoDataFrame:
    """Four small parks beside the demo region (so they get no demo signals), with hostile names."""
    rows = []
    for i, name in enumerate(HOSTILE_NAMES):
        x, y = 200_500 + i * 400, 470_000
        rows.append({"source_id": f"HOSTILE-{i}", "name": name, "kind": "camping", "municipality_code": "GM0200",
                     "municipality_name": "Apeldoorn", "province": "Gelderland", "unit_count": 20, "operator": None,
                     "takeover_year": None, "geometry": shapely.box(x, y, x + 250, y + 200)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:28992")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the demo region, the hostile parks and one published score run."""
    folder = tmp_path_factory.mktemp("demo-store")
    db = folder / "parkwacht.db"
    settings = load_settings({}, database_url=f"sqlite:///{db}", instance_dir=str(folder / "instance"), basemap="none")
    store = Store(settings.database_url)
    store.upgrade()
    load_demo(store, settings)
    import_park_frame(store, _hostile_parks(), settings=settings, source="hostile", crs="EPSG:28992")
    scoring.score_run(store, settings)
    store.dispose()  # closes the connections, so the WAL is folded into the file before it is copied
    return db


def copy_store(demo_db: Path, folder: Path, basemap: str = "none") -> Settings:
    """Settings for a private copy of the demo store under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "parkwacht.db"
    shutil.copyfile(demo_db, target)
    return load_settings({}, database_url=f"sqlite:///{target}", instance_dir=str(folder / "instance"), basemap=basemap)


@pytest.fixture
def demo_settings(demo_db: Path, tmp_path: Path) -> Settings:
    return copy_store(demo_db, tmp_path / "demo")


@pytest.fixture
def demo_app(demo_settings: Settings):
    application = create_app(demo_settings)
    application.config.update(TESTING=True)
    yield application
    from service import runtime

    runtime(application).store.dispose()


@pytest.fixture
def demo_client(demo_app):
    client = demo_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    return client

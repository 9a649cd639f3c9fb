"""Fixtures of the web tests: the session's demo region with hostile parks, scored once, copied per test.

Every test works on a copy of the SQLite file (a test that records a visit cannot change what another sees).
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from service import scoring
from service.app import create_app
from service.config import Settings
from service.ingest import import_park_frame
from service.store import Store
from tests import stores
from tests.conftest import copy_store
from tests.signin import TokenClient, add_user

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
def web_demo_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's demo region plus the hostile parks, with one published score run."""
    settings = copy_store(demo_db, tmp_path_factory.mktemp("web-demo"))
    store = Store(settings.database_url)
    import_park_frame(store, _hostile_parks(), settings=settings, source="hostile", crs="EPSG:28992")
    scoring.score_run(store, settings)
    store.dispose()
    return stores.stored_db(settings.database_url)  # a SQLite file, or a PostGIS database's URL


@pytest.fixture
def demo_settings(web_demo_db: Path, tmp_path: Path) -> Settings:
    return copy_store(web_demo_db, tmp_path / "demo")


@pytest.fixture
def demo_app(demo_settings: Settings):
    """The app on a copy of the scored demo store; its test clients are signed in as an officer."""
    application = create_app(demo_settings)
    from service.app import runtime

    _user, token = add_user(runtime(application).store, "officer", name="fixture-officer")
    application.config.update(TESTING=True, TEST_TOKEN=token)
    application.test_client_class = TokenClient
    yield application
    runtime(application).store.dispose()


@pytest.fixture
def demo_client(demo_app):
    client = demo_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    return client

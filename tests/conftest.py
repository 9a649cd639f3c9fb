"""Shared fixtures: a fresh SQLite store per test, the Flask app, the demo region (loaded once per session)
and the real sample data when present.

Every route needs a login. ``client`` (and every ``app.test_client()``) is signed in as an admin through a
bearer token; ``app.test_client(token=None)`` is anonymous. ``analyst_headers``, ``officer_headers`` and
``admin_headers`` are ``{"Authorization": "Bearer ..."}`` of a fresh user of that role in the test's store;
``tests.signin.add_user`` makes more (with sources a token may write, or a password).
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from service.app import create_app
from service.config import PROJECT_ROOT, Settings, load_settings
from service.store import Store
from tests import stores
from tests.signin import TEST_LIMITS, TokenClient, add_user, bearer


def _sample_dir() -> Path | None:
    env = os.environ.get("PARKWACHT_SAMPLE_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_ROOT.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


SAMPLE_DIR = _sample_dir()

#: The day the tests take as today: the published demo runs are as of it, as before live scores existed.
TEST_TODAY = dt.date(2025, 12, 31)
#: The day the session's demo region is loaded on, so its signals end on TEST_TODAY (the pinned demo).
DEMO_TODAY = dt.date(2026, 1, 1)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """Argon2 with the cheapest parameters in tests: the same code path, milliseconds instead of a second."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from service.auth import passwords

    saved = passwords._hasher, passwords._DUMMY
    passwords._hasher = PasswordHasher.from_parameters(CHEAPEST)
    passwords._DUMMY = passwords._hasher.hash("dummy password")
    yield
    passwords._hasher, passwords._DUMMY = saved


@pytest.fixture
def sample_data() -> Path:
    """Folder with the real sample data; tests that need it are skipped where it is absent."""
    if SAMPLE_DIR is None:
        pytest.skip("real sample data (../shared/data) not available")
    return SAMPLE_DIR


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {},
        database_url=stores.fresh_url(tmp_path),  # a SQLite file, or a new PostGIS database (PARKWACHT_TEST_STORE)
        instance_dir=str(tmp_path / "instance"),
        basemap="none",
        today=TEST_TODAY,
        **TEST_LIMITS,
    )


@pytest.fixture
def store(settings: Settings) -> Store:
    s = Store(settings.database_url)
    s.upgrade()
    yield s
    s.dispose()


def signed_in_app(settings: Settings, store: Store, role: str = "admin"):
    """The app for ``settings`` whose test clients send a bearer token of a fresh ``role`` user by default."""
    application = create_app(settings)
    _user, token = add_user(store, role, name=f"fixture-{role}")
    application.config.update(TESTING=True, TEST_TOKEN=token)
    application.test_client_class = TokenClient
    return application


@pytest.fixture
def app(settings: Settings, store: Store):
    return signed_in_app(settings, store, "admin")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def analyst_headers(store: Store) -> dict[str, str]:
    """``Authorization: Bearer ...`` of a fresh analyst (no sources: reads only)."""
    return bearer(add_user(store, "analyst")[1])


@pytest.fixture
def officer_headers(store: Store) -> dict[str, str]:
    return bearer(add_user(store, "officer")[1])


@pytest.fixture
def admin_headers(store: Store) -> dict[str, str]:
    return bearer(add_user(store, "admin")[1])


def copy_store(db: Path | str, folder: Path, basemap: str = "none") -> Settings:
    """Settings for a private copy of the store ``db`` (a SQLite file, or a PostGIS database's URL) under ``folder``."""
    url = stores.clone(db, folder)
    return load_settings({}, database_url=url, instance_dir=str(folder / "instance"), basemap=basemap,
                         today=TEST_TODAY, **TEST_LIMITS)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """A store with the demo region, loaded once per session and never scored: tests copy it (``copy_store``).

    A SQLite file's path, or on PostGIS the database's URL.
    """
    from service.demo import load_demo

    folder = tmp_path_factory.mktemp("demo-store")
    settings = load_settings({}, database_url=stores.fresh_url(folder),
                             instance_dir=str(folder / "instance"), basemap="none", today=TEST_TODAY)
    s = Store(settings.database_url)
    s.upgrade()
    load_demo(s, settings, today=DEMO_TODAY)
    s.dispose()  # closes the connections, so the WAL is folded into the file before it is copied
    return stores.stored_db(settings.database_url)


@pytest.fixture
def demo_store(demo_db: Path | str, tmp_path: Path):
    """A private, unscored copy of the demo store and its settings (for tests that run child processes on it)."""
    settings = copy_store(demo_db, tmp_path / "store")
    store = Store(settings.database_url)
    store.upgrade()
    yield store, settings
    store.dispose()


@pytest.fixture(autouse=True, scope="session")
def _drop_test_databases():
    """On PostGIS, the databases a session made are dropped at its end."""
    yield
    stores.drop_all()

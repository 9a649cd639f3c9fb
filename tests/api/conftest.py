"""Fixtures of the analysts' API tests: the session's demo region, scored once, copied per test."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import scoring
from service.app import create_app, runtime
from service.config import Settings
from service.store import Store
from tests import stores
from tests.conftest import copy_store


@pytest.fixture(scope="session")
def scored_demo_db(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo region with one published score run (a SQLite file tests copy)."""
    settings = copy_store(demo_db, tmp_path_factory.mktemp("api-demo"))
    store = Store(settings.database_url)
    scoring.score_run(store, settings)
    store.dispose()
    return stores.stored_db(settings.database_url)  # a SQLite file, or a PostGIS database's URL


@pytest.fixture
def api_settings(scored_demo_db: Path, tmp_path: Path) -> Settings:
    return copy_store(scored_demo_db, tmp_path / "api")


@pytest.fixture
def api_app(api_settings: Settings) -> Iterator[Flask]:
    application = create_app(api_settings)
    application.config.update(TESTING=True)
    yield application
    runtime(application).store.dispose()


def bearer_client(app: Flask, name: str, role: str) -> FlaskClient:
    """A client that sends a fresh bearer token of a new user ``name`` with ``role``."""
    from service.auth.tokens import issue_token
    from service.auth.users import add_user

    store = runtime(app).store
    add_user(store, name, role)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(store, name)}"
    return client


@pytest.fixture
def api(api_app: Flask) -> FlaskClient:
    """An analyst's client of the scored demo."""
    return bearer_client(api_app, "analist", "analyst")


@pytest.fixture
def admin_api(api_app: Flask) -> FlaskClient:
    """An admin's client of the same store (score runs, imports)."""
    return bearer_client(api_app, "beheerder", "admin")


@pytest.fixture
def api_store(api_app: Flask) -> Store:
    return runtime(api_app).store

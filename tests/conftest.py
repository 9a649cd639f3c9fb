"""Shared fixtures: a fresh SQLite store per test, the Flask app, and the real sample data when present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from service import create_app
from service.config import PROJECT_ROOT, Settings, load_settings
from service.store import Store


def _sample_dir() -> Path | None:
    env = os.environ.get("PARKWACHT_SAMPLE_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(PROJECT_ROOT.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


SAMPLE_DIR = _sample_dir()


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
        database_url=f"sqlite:///{tmp_path / 'parkwacht.db'}",
        instance_dir=str(tmp_path / "instance"),
        basemap="none",
    )


@pytest.fixture
def store(settings: Settings) -> Store:
    s = Store(settings.database_url)
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture
def app(settings: Settings, store: Store):
    application = create_app(settings)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app):
    return app.test_client()

"""Shared fixtures: a fresh SQLite store per test, the Flask app, the demo region (loaded once per session)
and the real sample data when present."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from service.app import create_app
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


def copy_store(db: Path, folder: Path, basemap: str = "none") -> Settings:
    """Settings for a private copy of the SQLite file ``db`` under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "parkwacht.db"
    shutil.copyfile(db, target)
    return load_settings({}, database_url=f"sqlite:///{target}", instance_dir=str(folder / "instance"), basemap=basemap)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the demo region, loaded once per session and never scored: tests copy it."""
    from service.demo import load_demo

    folder = tmp_path_factory.mktemp("demo-store")
    settings = load_settings({}, database_url=f"sqlite:///{folder / 'parkwacht.db'}",
                             instance_dir=str(folder / "instance"), basemap="none")
    s = Store(settings.database_url)
    s.upgrade()
    load_demo(s, settings)
    s.dispose()  # closes the connections, so the WAL is folded into the file before it is copied
    return folder / "parkwacht.db"

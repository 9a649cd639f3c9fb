"""Fixtures of the import tests: a migrated template store that property tests copy per example."""
from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings
from service.store import Store
from tests import stores
from tests.scoring.conftest import fresh_settings


@pytest.fixture(scope="session")
def ingest_template(tmp_path_factory: pytest.TempPathFactory) -> Path | str:
    """An empty, migrated store (SQLite file or PostGIS database): copying it is much faster than migrating."""
    folder = tmp_path_factory.mktemp("ingest-template")
    s = Store(stores.fresh_url(folder))
    s.upgrade()
    s.dispose()
    return stores.stored_db(s.url)


def copy_store(template: Path | str, folder: Path) -> tuple[Store, Settings]:
    """A private store (and its settings) copied from ``template`` into ``folder``."""
    settings = fresh_settings(folder, stores.clone(template, folder))
    return Store(settings.database_url), settings

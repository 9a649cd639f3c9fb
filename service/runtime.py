"""Run-time state shared by the web, the API and the CLI: settings, the store and a live park index."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from .config import Settings
from .ingest import build_park_index
from .spatial import ParkIndex
from .store import Store, schema

__all__ = ["Runtime"]


class Runtime:
    """What a running Parkwacht holds besides its configuration.

    The park index is built once and kept current: a new import of parks (by this or another process)
    changes the parks' version, and the next lookup rebuilds the index from the store.
    """

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.database_url)
        self._index: ParkIndex | None = None
        self._index_version: tuple | None = None
        self._lock = threading.Lock()

    def parks_version(self) -> tuple:
        p = schema.parks
        with self.store.connect() as conn:
            return tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(p.c.id), sa.func.max(p.c.updated_at))).one())

    def park_index(self) -> ParkIndex:
        version = self.parks_version()
        with self._lock:
            if self._index is None or version != self._index_version:
                self._index = build_park_index(self.store)
                self._index_version = version
            return self._index

"""Run-time state shared by the web, the API and the CLI: settings, the store and a live park index."""
from __future__ import annotations

import logging
import threading
from typing import Any

import shapely
import sqlalchemy as sa

from .config import Settings
from .ingest import ImportResult, build_park_index
from .scoring import rescore_after_import
from .spatial import ParkIndex
from .store import Store, schema

__all__ = ["Runtime"]

log = logging.getLogger(__name__)


class Runtime:
    """What a running Parkwacht holds besides its configuration.

    The park index is built once and then kept current without a full rebuild: parks added or changed
    in the store since the last look (by this or another process) are added to the index's overlay, and
    parks a snapshot retired are removed from it. When there are fewer current parks than before (parks
    retired or deleted), the index is rebuilt from the store.
    """

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.database_url)
        self._index: ParkIndex | None = None
        self._seen: tuple[int, object] | None = None  # (park count, latest updated_at)
        self._lock = threading.Lock()
        self.index_rebuilds = 0

    def _parks_state(self) -> tuple[int, object]:
        p = schema.parks
        with self.store.connect() as conn:
            # Timestamps compared as the database's own text: no driver round-trip changes their format.
            latest_text = sa.func.max(sa.cast(p.c.updated_at, sa.String))
            current = sa.func.count().filter(schema.current(p))  # retiring a park lowers it: a rebuild
            count, latest = conn.execute(sa.select(current, latest_text)).one()
        return int(count), latest

    def park_index(self) -> ParkIndex:
        """The park index, brought up to date with the store."""
        state = self._parks_state()
        with self._lock:
            if self._index is None or self._seen is None or state[0] < self._seen[0]:
                self._index = build_park_index(self.store)
                self.index_rebuilds += 1
            elif state != self._seen:
                self._apply_changes_since(self._index, self._seen[1])
            self._seen = state
            return self._index

    def _apply_changes_since(self, index: ParkIndex, latest: object) -> None:
        """Parks changed since ``latest`` join the index; parks a snapshot retired leave it."""
        p = schema.parks
        query = sa.select(p.c.id, p.c.geom_wkb, schema.current(p).label("current"))
        if latest is not None:
            query = query.where(sa.cast(p.c.updated_at, sa.String) >= latest)
        with self.store.connect() as conn:
            for park_id, wkb, current in conn.execute(query):
                if current:
                    index.add(park_id, shapely.from_wkb(wkb))
                else:
                    index.remove(park_id)

    def after_signals(self, import_result: ImportResult) -> dict[str, Any]:
        """Re-score the parks an import or API post touched, against the published run (incremental).

        The import has already committed: a failure here leaves the signals stored and the previous
        scores in place, and is reported rather than raised.
        """
        try:
            return rescore_after_import(self.store, self.settings, import_result, index=self.park_index())
        except Exception as exc:  # the next full run will score these parks anyway
            log.exception("incremental re-scoring after batch %s failed", import_result.batch_id)
            return {"status": "failed", "message": f"incremental re-scoring failed: {exc}", "rescored": []}

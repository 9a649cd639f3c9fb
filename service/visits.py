"""Visits recorded by officers: stored as ``inspection`` signals through the ordinary import, then re-scored."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from .config import Settings
from .ingest import ImportResult, import_signal_records
from .scoring import rescore_parks
from .spatial import ParkIndex
from .store import Store, schema
from .vocab import VISIT_SOURCE

__all__ = ["record_visit", "rescore_visited", "is_correction", "corrections"]


def record_visit(store: Store, settings: Settings, park_id: int, *, visit_id: str, date: dt.date, violation: bool,
                 categories: Sequence[str], remark: str, index: ParkIndex | None = None,
                 recorded_by: str | None = None, recorded_by_id: int | None = None) -> ImportResult:
    """Store a visit as an ``inspection`` signal of the park (source ``bezoek``) through the ordinary import.

    ``visit_id`` comes from the form, so sending the same form twice stores one visit, not two. A visit is
    written as the officer who recorded it: their id is part of the signal's id (nobody else's form can
    overwrite it) and their name is kept with it.
    """
    owner = f"u{int(recorded_by_id)}-" if recorded_by_id is not None else ""
    record: dict[str, Any] = {
        "source_id": f"{VISIT_SOURCE}-{owner}{uuid.UUID(visit_id).hex}",
        "type": "inspection",
        "subtype": "bezoek",
        "date": date.isoformat(),
        "park_id": int(park_id),
        "violation": "yes" if violation else "no",
        "categories": ";".join(categories),
    }
    attributes = {k: v for k, v in (("remark", remark), ("recorded_by", recorded_by)) if v}
    if attributes:
        record["attributes"] = attributes
    return import_signal_records(store, [record], settings=settings, source=VISIT_SOURCE, index=index, name="web")


def rescore_visited(store: Store, settings: Settings, park_ids: Sequence[int],
                    index: ParkIndex | None = None) -> dict[str, Any]:
    """Re-score parks at once inside the published run (the scoring package's incremental update)."""
    return rescore_parks(store, settings, park_ids, index=index, reason="bezoek vastgelegd (web)")


def is_correction(result: ImportResult) -> bool:
    """Whether storing a visit changed one recorded before (same form, other answers): an explicit correction."""
    return result.updated > 0 and result.created == 0


def corrections(store: Store, park_id: int) -> list[dict[str, Any]]:
    """Corrected visits of a park, newest first: each correction's fields as [before, after] (the history)."""
    c, s, b = schema.import_changes, schema.signals, schema.import_batches
    q = (sa.select(c.c.id, c.c.changes, s.c.date, b.c.started_at).join(s, s.c.id == c.c.entity_id)
         .join(b, b.c.id == c.c.batch_id)
         .where(c.c.entity == "signal", s.c.source == VISIT_SOURCE, s.c.park_id == park_id).order_by(c.c.id.desc()))
    with store.connect() as conn:
        rows = conn.execute(q).all()
    return [{"date": r.date, "corrected_at": r.started_at, "changes": r.changes or {}} for r in rows]

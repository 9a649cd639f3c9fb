"""Retention: signals and rejected rows older than the retention period are removed, counted and audited.

``parkwacht purge --older-than YEARS`` (default ``PARKWACHT_RETENTION_YEARS``, 5) removes signals dated
before the cut-off together with their change records, and the rejected rows of batches started before it.
Import batches themselves (counts, no content), score runs and the audit log are kept.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from . import audit
from .store import Store, schema

__all__ = ["cutoff_date", "purge"]


def cutoff_date(today: dt.date, years: int) -> dt.date:
    """``today`` minus whole years (29 February becomes 28 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def purge(store: Store, *, older_than_years: int, today: dt.date | None = None, dry_run: bool = False,
          actor: audit.Actor | None = None) -> dict[str, Any]:
    """Remove (or, with ``dry_run``, only count) what is older than ``older_than_years``; one transaction."""
    if older_than_years < 1:
        raise ValueError("the retention period is at least one year")
    cutoff = cutoff_date(today or dt.date.today(), older_than_years)
    moment = dt.datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=dt.UTC)
    s, c, r, b = schema.signals, schema.import_changes, schema.rejected_rows, schema.import_batches
    old_signals = sa.select(s.c.id).where(s.c.date < cutoff)
    old_changes = sa.and_(c.c.entity == "signal", c.c.entity_id.in_(old_signals))
    old_batches = sa.select(b.c.id).where(b.c.started_at < moment)
    old_rejected = r.c.batch_id.in_(old_batches)
    with store.begin() as conn:
        def count(table: sa.Table, where: Any) -> int:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one())

        counts = {"signals": count(s, s.c.date < cutoff), "import_changes": count(c, old_changes),
                  "rejected_rows": count(r, old_rejected)}
        if not dry_run:
            conn.execute(c.delete().where(old_changes))
            conn.execute(s.delete().where(s.c.date < cutoff))
            conn.execute(r.delete().where(old_rejected))
        audit.record(conn, actor, "purge", f"before:{cutoff.isoformat()}", dry_run=dry_run,
                     older_than_years=older_than_years, **counts)
    return {"cutoff": cutoff.isoformat(), "older_than_years": older_than_years, "dry_run": dry_run, **counts}

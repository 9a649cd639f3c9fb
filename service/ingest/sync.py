"""Sources kept in sync: snapshots retire and revive rows; batches a killed process left running are failed.

A ``--snapshot`` import says its file is the complete current set of its source. Rows of that source the
file does not hold are *retired* (``retired_at``): kept with their history and shown as retired to an admin,
but no longer scored, mapped or served (:func:`service.store.schema.current`). A later import that holds
them again revives them.

An import runs in one transaction; a process killed half-way leaves its batch ``running`` (its writes roll
back). Such a batch is recorded as failed when the next import opens or ``parkwacht import batches`` looks:
on the same host when its process is gone, from another host when its heartbeat is older than
:data:`STALE_AFTER_S` (as score runs are judged). SQLite lets one writer in at a time, so an import's
heartbeat cannot be written while it holds the lock; on one host the process id decides.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import ID_GROUP, Store, in_groups, schema

if TYPE_CHECKING:
    from .stored_signals import Existing

__all__ = ["STALE_AFTER_S", "BEAT_EVERY_S", "now_utc", "revive", "retire", "retire_signals", "is_stale_batch",
           "fail_stale_batches", "Heartbeat"]

log = logging.getLogger(__name__)

#: Without a heartbeat for this long, a batch running on another host counts as abandoned.
STALE_AFTER_S = 900.0
#: How often a running import beats (where the database lets it).
BEAT_EVERY_S = 30.0


def now_utc() -> dt.datetime:
    """Timestamps are stored as naive UTC (SQLite keeps no zone; PostgreSQL gets UTC explicitly)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _table(name: str) -> sa.Table:
    return {"parks": schema.parks, "signals": schema.signals}[name]


def revive(conn: Connection, table: str, ids: Sequence[int]) -> None:
    """Bring retired rows back (a park also gets a new ``updated_at``, so live park indexes take it in)."""
    t = _table(table)
    values: dict[str, Any] = {"retired_at": None, "retired_by": None}
    if table == "parks":
        values["updated_at"] = now_utc()
    for group in in_groups(list(ids), ID_GROUP):
        conn.execute(t.update().where(t.c.id.in_(group)).values(**values))


def retire(conn: Connection, table: str, ids: Sequence[int], batch_id: int) -> set[int]:
    """Retire rows by id; returns the parks whose inputs change (the retired parks, or the signals' parks)."""
    t = _table(table)
    when = now_utc()
    values: dict[str, Any] = {"retired_at": when, "retired_by": batch_id}
    if table == "parks":
        values["updated_at"] = when
    parks: set[int] = set()
    for group in in_groups(list(ids), ID_GROUP):
        if table == "signals":
            parks.update(int(p) for p in conn.execute(
                sa.select(t.c.park_id).distinct().where(t.c.id.in_(group), t.c.park_id.is_not(None))).scalars())
        else:
            parks.update(int(i) for i in group)
        conn.execute(t.update().where(t.c.id.in_(group)).values(**values))
    return parks


def retire_signals(conn: Connection, existing: Existing, batch_id: int) -> tuple[int, set[int]]:
    """Retire the source's current signals the snapshot did not hold; returns (how many, their parks)."""
    gone = existing.ids[~existing.seen & ~existing.retired]
    if not len(gone):
        return 0, set()
    return len(gone), retire(conn, "signals", gone.tolist(), batch_id)


# -- batches a killed process left running --------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _naive_utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def is_stale_batch(row: Any, *, now: dt.datetime | None = None, stale_after_s: float = STALE_AFTER_S) -> bool:
    """A running batch is stale when its process is gone (same host), or its heartbeat is old (other host)."""
    if row.host == socket.gethostname()[:255] and row.pid is not None:
        return not _pid_alive(int(row.pid))
    beat = _naive_utc(row.heartbeat_at) or _naive_utc(row.started_at)
    return beat is None or ((now or now_utc()) - beat).total_seconds() > stale_after_s


def fail_stale_batches(conn: Connection, *, stale_after_s: float = STALE_AFTER_S) -> list[int]:
    """Record running batches whose process died as failed (their writes were rolled back); returns their ids."""
    b = schema.import_batches
    rows = conn.execute(sa.select(b.c.id, b.c.pid, b.c.host, b.c.heartbeat_at, b.c.started_at)
                        .where(b.c.status == "running")).all()
    failed = []
    for row in rows:
        if not is_stale_batch(row, stale_after_s=stale_after_s):
            continue
        who = f"process {row.pid} on {row.host}" if row.pid is not None else "its process"
        conn.execute(b.update().where(b.c.id == row.id, b.c.status == "running").values(
            status="failed", finished_at=now_utc(),
            error=f"stale: {who} stopped without finishing (last heartbeat {row.heartbeat_at}); nothing of this "
                  "batch was stored"))
        failed.append(int(row.id))
    if failed:
        log.warning("import batches %s were left running by a stopped process; recorded as failed", failed)
    return failed


class Heartbeat:
    """Beats a running batch every :data:`BEAT_EVERY_S` from its own connection, where the database allows a
    second writer during the import (PostgreSQL); on SQLite the process id tells a live import apart."""

    def __init__(self, store: Store, batch_id: int) -> None:
        self._store, self._batch_id = store, batch_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if store.dialect != "sqlite":
            self._thread = threading.Thread(target=self._run, name=f"import-heartbeat-{batch_id}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        b = schema.import_batches
        while not self._stop.wait(BEAT_EVERY_S):
            try:
                with self._store.begin() as conn:
                    conn.execute(b.update().where(b.c.id == self._batch_id, b.c.status == "running")
                                 .values(heartbeat_at=now_utc()))
            except sa.exc.SQLAlchemyError:  # a missed beat is no failure; a long silence is
                log.debug("heartbeat of import batch %s missed", self._batch_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

"""The score lock: one full score run at a time, across processes and hosts, kept in the database.

Taking the lock is an INSERT of the row named ``score`` into ``score_locks``; the primary key makes a second
INSERT fail, on SQLite and PostgreSQL alike, so two runs can never both proceed. The holder writes its pid,
host and a heartbeat. A run killed without cleaning up leaves its row behind; the next run recognises it as
stale (same host and the pid is gone, or no heartbeat for ``stale_after_s``), records that run as failed and
takes over.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..store import Store, connection, schema

__all__ = ["RunLocked", "LockLost", "ScoreLock", "acquire", "heartbeat", "release", "lock_holder",
           "is_stale", "fail_stale_runs", "STALE_AFTER_S", "now_utc"]

LOCK_NAME = "score"
#: Without a heartbeat for this long, a lock held from another host counts as abandoned.
STALE_AFTER_S = 900.0


class RunLocked(RuntimeError):
    """Another score run holds the lock; ``holder`` says which (run id, pid, host, heartbeat)."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self.holder = holder
        super().__init__(
            f"another score run is in progress (run {holder.get('run_id')}, pid {holder.get('pid')} on "
            f"{holder.get('host')}, last heartbeat {holder.get('heartbeat_at')}); try again when it has finished")


class LockLost(RuntimeError):
    """This run's lock was taken over (it was judged stale); the run must not publish."""


@dataclass
class ScoreLock:
    """The lock as held by this process."""

    run_id: int
    pid: int
    host: str
    acquired_at: dt.datetime


def now_utc() -> dt.datetime:
    """Timestamps are stored as naive UTC (SQLite keeps no zone; PostgreSQL gets UTC explicitly)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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


def is_stale(holder: dict[str, Any], *, now: dt.datetime | None = None, stale_after_s: float = STALE_AFTER_S) -> bool:
    """A holder is stale when its process is gone (same host) or its heartbeat is older than ``stale_after_s``."""
    now = now or now_utc()
    if holder["host"] == socket.gethostname() and not _pid_alive(int(holder["pid"])):
        return True
    beat = holder["heartbeat_at"]
    if isinstance(beat, str):
        beat = dt.datetime.fromisoformat(beat)
    if beat is not None and beat.tzinfo is not None:
        beat = beat.astimezone(dt.UTC).replace(tzinfo=None)
    return beat is None or (now - beat).total_seconds() > stale_after_s


def lock_holder(store: Store | Connection) -> dict[str, Any] | None:
    """The current holder of the score lock, or None."""
    q = sa.select(schema.score_locks).where(schema.score_locks.c.name == LOCK_NAME)
    with connection(store) as conn:
        row = conn.execute(q).first()
    return dict(row._mapping) if row is not None else None


def _fail_run(conn: Connection, run_id: int | None, reason: str) -> None:
    if run_id is None:
        return
    r = schema.score_runs
    conn.execute(r.update().where(r.c.id == run_id, r.c.status == "running").values(
        status="failed", error=reason, finished_at=now_utc()))


def fail_stale_runs(conn: Connection) -> list[int]:
    """Runs left 'running' without the lock (a killed process, a lost connection) are recorded as failed."""
    r = schema.score_runs
    holder = lock_holder(conn)
    held = holder["run_id"] if holder else None
    q = sa.select(r.c.id).where(r.c.status == "running")
    if held is not None:
        q = q.where(r.c.id != held)
    ids = [int(i) for i in conn.execute(q).scalars()]
    for run_id in ids:
        _fail_run(conn, run_id, "stale: the run stopped without finishing (process killed or connection lost)")
    return ids


def acquire(store: Store, run_values: dict[str, Any], *, stale_after_s: float = STALE_AFTER_S) -> ScoreLock:
    """Create a 'running' score run and take the lock for it in one transaction; raise :class:`RunLocked`.

    A stale holder is removed first (its run recorded as failed), guarded so that of two processes that both
    find it stale only one removes it.
    """
    pid, host = os.getpid(), socket.gethostname()
    for _ in range(3):
        holder = lock_holder(store)
        if holder is not None:
            if not is_stale(holder, stale_after_s=stale_after_s):
                raise RunLocked(holder)
            with store.begin() as conn:
                gone = conn.execute(schema.score_locks.delete().where(
                    schema.score_locks.c.name == LOCK_NAME, schema.score_locks.c.pid == holder["pid"],
                    schema.score_locks.c.acquired_at == holder["acquired_at"])).rowcount
                if gone:
                    _fail_run(conn, holder["run_id"],
                              f"stale: process {holder['pid']} on {holder['host']} stopped without finishing "
                              f"(last heartbeat {holder['heartbeat_at']})")
        now = now_utc()
        try:
            with store.begin() as conn:
                fail_stale_runs(conn)
                run_id = conn.execute(schema.score_runs.insert().values(
                    **run_values, status="running", pid=pid, host=host, started_at=now, heartbeat_at=now,
                ).returning(schema.score_runs.c.id)).scalar_one()
                conn.execute(schema.score_locks.insert().values(
                    name=LOCK_NAME, run_id=run_id, pid=pid, host=host, acquired_at=now, heartbeat_at=now))
                # fail_stale_runs ran before our run existed; nothing of ours can be marked failed.
            return ScoreLock(run_id=run_id, pid=pid, host=host, acquired_at=now)
        except IntegrityError:
            continue  # somebody inserted the lock between our look and our insert: look again
    holder = lock_holder(store) or {"run_id": None, "pid": None, "host": None, "heartbeat_at": None}
    raise RunLocked(holder)


def heartbeat(store: Store, lock: ScoreLock) -> None:
    """Tell other processes this run is alive; raise :class:`LockLost` if the lock is no longer ours."""
    now = now_utc()
    with store.begin() as conn:
        n = conn.execute(schema.score_locks.update().where(
            schema.score_locks.c.name == LOCK_NAME, schema.score_locks.c.run_id == lock.run_id,
            schema.score_locks.c.pid == lock.pid).values(heartbeat_at=now)).rowcount
        conn.execute(schema.score_runs.update().where(schema.score_runs.c.id == lock.run_id)
                     .values(heartbeat_at=now))
    if n != 1:
        raise LockLost(f"score run {lock.run_id} lost its lock (judged stale by another process)")


def release(conn: Connection, lock: ScoreLock) -> bool:
    """Give the lock up inside ``conn``'s transaction; False when it was not (any longer) ours."""
    n = conn.execute(schema.score_locks.delete().where(
        schema.score_locks.c.name == LOCK_NAME, schema.score_locks.c.run_id == lock.run_id,
        schema.score_locks.c.pid == lock.pid)).rowcount
    return n == 1

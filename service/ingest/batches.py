"""Import batches: open, run in one transaction, close or record as failed; and the rows they reject.

For every import ``read == stored + rejected + unchanged``. A batch that breaks off half-way writes
nothing (its transaction rolls back) and is recorded as failed with the reason.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import Store, in_groups, schema
from .errors import FileRefused, ImportConflict, ImportFailed, IngestError
from .pipeline import Stages
from .readers import Source, open_source
from .sync import Heartbeat, fail_stale_batches, now_utc

__all__ = [
    "WRITE_BATCH",
    "ImportResult",
    "open_or_record",
    "plain",
    "run_batch",
    "store_rejections",
]

log = logging.getLogger(__name__)

#: Rows per executemany of the import's writes.
WRITE_BATCH = 5_000
#: Why a batch lost a race with another import of the same ids (kept with the batch, answered as 409).
CONFLICT_MESSAGE = ("another import stored some of the same ids at the same moment; nothing of this batch was "
                    "stored, and sending it again is safe")


@dataclass
class ImportResult:
    """What an import did; ``as_dict`` is what ``--json`` and the API print."""

    batch_id: int
    kind: str
    source: str
    status: str = "done"
    read: int = 0
    stored: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    assignment: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    reassigned: int = 0
    #: Rows of the source this ``--snapshot`` did not hold, now retired; retired rows it held again.
    retired: int = 0
    revived: int = 0
    seconds: float = 0.0
    #: Seconds per stage (read, validate, assign, write; the writer overlaps the others).
    stages: Stages = field(default_factory=Stages, repr=False)
    #: Parks whose inputs changed (for incremental re-scoring).
    affected_parks: set[int] = field(default_factory=set, repr=False)
    #: Ids of the signals this import created or changed.
    signal_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("affected_parks")
        d.pop("signal_ids")
        d["seconds"] = round(self.seconds, 3)
        d["stages"] = self.stages.rounded()
        d["stages_cpu"] = self.stages.rounded("cpu")
        return d

    def check(self) -> None:
        """The accounting invariant every import keeps; a :class:`RuntimeError` names a broken one."""
        if self.read != self.stored + self.rejected + self.unchanged:
            raise RuntimeError(f"import accounting broken: read != stored + rejected + unchanged: {self.as_dict()}")
        if self.stored != self.created + self.updated:
            raise RuntimeError(f"import accounting broken: stored != created + updated: {self.as_dict()}")


def _open_batch(store: Store, kind: str, source: str, filename: str | None, preset: str | None,
                options: dict[str, Any]) -> int:
    """A new ``running`` batch, committed at once so a failure later can still be recorded against it.

    It carries this process's pid and host and a first heartbeat; batches left running by a process that
    was killed are recorded as failed first (:func:`.sync.fail_stale_batches`).
    """
    with store.begin() as conn:
        fail_stale_batches(conn)
        batch_id: int = conn.execute(
            schema.import_batches.insert().values(
                kind=kind, source=source, filename=filename, preset=preset, status="running",
                options={k: v for k, v in options.items() if v is not None},
                pid=os.getpid(), host=socket.gethostname()[:255], heartbeat_at=now_utc(),
            ).returning(schema.import_batches.c.id)
        ).scalar_one()
    return batch_id


def _fail_batch(store: Store, batch_id: int, message: str) -> None:
    """Mark the batch failed with the reason, in its own transaction (the import's one rolled back)."""
    with store.begin() as conn:
        conn.execute(
            schema.import_batches.update().where(schema.import_batches.c.id == batch_id).values(
                status="failed", error=message, finished_at=sa.func.current_timestamp(),
            )
        )


def _close_batch(conn: Connection, result: ImportResult, options: dict[str, Any]) -> None:
    """Record the batch's counts as done, inside the import's transaction."""
    if result.ignored_columns:
        options = {**options, "ignored_columns": result.ignored_columns}
    conn.execute(
        schema.import_batches.update().where(schema.import_batches.c.id == result.batch_id).values(
            status="done", finished_at=sa.func.current_timestamp(), read=result.read, stored=result.stored,
            created=result.created, updated=result.updated, unchanged=result.unchanged,
            rejected=result.rejected, options={k: v for k, v in options.items() if v is not None},
            retired=result.retired, revived=result.revived,
        )
    )


def store_rejections(conn: Connection, batch_id: int, rejections: list[dict[str, Any]]) -> None:
    """Keep a chunk's rejected rows with the batch, so a person can see why each was refused."""
    for group in in_groups(rejections, WRITE_BATCH):
        conn.execute(schema.rejected_rows.insert(), [{**r, "batch_id": batch_id} for r in group])


def run_batch(store: Store, kind: str, source: str, filename: str | None, preset: str | None,
              options: dict[str, Any], body: Callable[[Connection, ImportResult], None]) -> ImportResult:
    """Open a batch, run ``body`` in one transaction, close it; on any error roll back and record why."""
    started = time.perf_counter()
    batch_id = _open_batch(store, kind, source, filename, preset, options)
    result = ImportResult(batch_id=batch_id, kind=kind, source=source)
    beat = Heartbeat(store, batch_id)
    try:
        with store.begin() as conn:
            body(conn, result)
            beat.stop()
            result.seconds = time.perf_counter() - started
            _close_batch(conn, result, options)
    except IngestError as exc:
        _fail_batch(store, batch_id, str(exc))
        if isinstance(exc, ImportFailed):
            exc.batch_id = batch_id
        raise
    except sa.exc.IntegrityError as exc:
        if not _unique_violation(exc):
            raise _database_failure(store, batch_id, exc) from exc
        # A concurrent import stored the same ids first: a clean conflict, no SQL in the answer.
        log.warning("import batch %s lost a race on its ids: %s", batch_id, exc)
        _fail_batch(store, batch_id, CONFLICT_MESSAGE)
        raise ImportConflict(CONFLICT_MESSAGE, batch_id) from exc
    except sa.exc.SQLAlchemyError as exc:  # its text holds SQL and parameters: the log keeps them, nobody else
        raise _database_failure(store, batch_id, exc) from exc
    except Exception as exc:
        log.exception("import batch %s failed", batch_id)
        _fail_batch(store, batch_id, f"{type(exc).__name__}: {exc}")
        raise ImportFailed(f"import failed and was rolled back, nothing stored: {exc}", batch_id) from exc
    finally:
        beat.stop()
    result.check()
    return result


def _database_failure(store: Store, batch_id: int, exc: Exception) -> ImportFailed:
    """Record a database error without its text (SQL and parameters stay in the server log)."""
    log.exception("import batch %s failed in the database", batch_id)
    message = f"import failed and was rolled back, nothing stored (a database error: {type(exc).__name__}; " \
              "the details are in the server log)"
    _fail_batch(store, batch_id, message)
    return ImportFailed(message, batch_id)


def _unique_violation(exc: sa.exc.IntegrityError) -> bool:
    """Whether the database refused a duplicate key (SQLite's message, PostgreSQL's SQLSTATE 23505)."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state == "23505" or "UNIQUE constraint failed" in str(orig)


def open_or_record(store: Store, kind: str, source: str, path: Path, preset: str | None,
                   options: dict[str, Any], **open_options: Any) -> Source:
    """Open the file; a file refused as a whole is still recorded as a failed batch with its reason."""
    try:
        return open_source(path, **open_options)
    except FileRefused as exc:
        _fail_batch(store, _open_batch(store, kind, source, path.name, preset, options), str(exc))
        raise


def plain(value: Any) -> Any:
    """A value as compared and kept in a change record (floats rounded, so noise is no change)."""
    if isinstance(value, float):
        return round(value, 6)
    return value

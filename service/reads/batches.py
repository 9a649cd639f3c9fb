"""Reads of import batches: the recent batches, and the rejected rows of one batch."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import Store, connection, schema
from .errors import NotFound

__all__ = ["iter_batches", "rejected_rows"]


def rejected_rows(source: Store | Connection, batch_id: int) -> list[dict[str, Any]]:
    """The rejected rows of a batch, in file order; :class:`NotFound` when there is no such batch."""
    b, r = schema.import_batches, schema.rejected_rows
    with connection(source) as conn:
        if conn.execute(sa.select(b.c.id).where(b.c.id == batch_id)).first() is None:
            raise NotFound(f"no import batch with id {batch_id}")
        rows = conn.execute(sa.select(r.c.row_number, r.c.field, r.c.reason, r.c.raw)
                            .where(r.c.batch_id == batch_id).order_by(r.c.row_number)).all()
    return [dict(row._mapping) for row in rows]


def iter_batches(source: Store | Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent ``limit`` import batches, newest first."""
    b = schema.import_batches
    with connection(source) as conn:
        rows = conn.execute(sa.select(b).order_by(b.c.id.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in rows]

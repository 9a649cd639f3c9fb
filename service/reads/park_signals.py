"""A park's signals for the analysts' API: one filtered page at a time, and a summary per signal type."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ..store import Store, connection, schema

__all__ = ["signal_page", "signal_summary"]


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def signal_page(store: Store, park_id: int, *, types: Sequence[str] = (), date_from: dt.date | None = None,
                date_to: dt.date | None = None, limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """(number matched, one page of the park's current signals), newest first."""
    s = schema.signals
    cond = [s.c.park_id == park_id, s.c.retired_at.is_(None)]
    if types:
        cond.append(s.c.type.in_(list(types)))
    if date_from is not None:
        cond.append(s.c.date >= date_from)
    if date_to is not None:
        cond.append(s.c.date <= date_to)
    cols = (s.c.id, s.c.source, s.c.type, s.c.subtype, s.c.date, s.c.assignment, s.c.distance_m, s.c.attributes)
    with connection(store) as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(s).where(*cond)).scalar_one()
        rows = conn.execute(sa.select(*cols).where(*cond).order_by(s.c.date.desc(), s.c.id.desc())
                            .limit(limit).offset(offset)).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        attrs = d["attributes"]
        d["attributes"] = (json.loads(attrs) if isinstance(attrs, str) else attrs) or {}
        d["date"] = _iso(d["date"])
        out.append(d)
    return int(total), out


def signal_summary(store: Store, park_id: int) -> dict[str, dict[str, Any]]:
    """Per signal type: how many current signals the park has, and the first and latest date."""
    s = schema.signals
    q = (sa.select(s.c.type, sa.func.count(), sa.func.min(s.c.date), sa.func.max(s.c.date))
         .where(s.c.park_id == park_id, s.c.retired_at.is_(None)).group_by(s.c.type).order_by(s.c.type))
    with connection(store) as conn:
        rows = conn.execute(q).all()
    return {t: {"count": int(n), "first": _iso(first), "latest": _iso(latest)} for t, n, first, latest in rows}

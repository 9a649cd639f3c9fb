"""Reads of signals: recent located signals for the map, a park's signals, freshness, last inspections."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ..maps import SignalPoint
from ..store import Store, connection, in_groups, schema

__all__ = ["recent_signals", "park_signals", "latest_signal_by_type", "last_inspections"]


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # drivers without JSON support hand back text


def recent_signals(store: Store, since: dt.date, park_ids: Iterable[int] | None = None,
                   limit: int = 50_000) -> list[SignalPoint]:
    """Located signals dated ``since`` or later (of ``park_ids`` when given), newest first."""
    s = schema.signals
    q = (sa.select(s.c.x, s.c.y, s.c.type, s.c.date, s.c.subtype, s.c.park_id)
         .where(s.c.date >= since, s.c.x.is_not(None), s.c.y.is_not(None), schema.current(s))
         .order_by(s.c.date.desc(), s.c.id.desc()).limit(limit))
    rows: list[Any] = []
    with connection(store) as conn:
        if park_ids is None:
            rows = list(conn.execute(q))
        else:
            for group in in_groups(sorted({int(i) for i in park_ids})):
                rows.extend(conn.execute(q.where(s.c.park_id.in_(group))))
    return [SignalPoint(x=float(r.x), y=float(r.y), type=r.type, date=_iso(r.date), subtype=r.subtype,
                        park_id=r.park_id) for r in rows]


def park_signals(store: Store, park_id: int, limit: int = 500) -> tuple[list[dict[str, Any]], int]:
    """A park's signals, newest first (at most ``limit``), and how many it has in all."""
    s = schema.signals
    with connection(store) as conn:
        mine = sa.and_(s.c.park_id == park_id, schema.current(s))
        total = conn.execute(sa.select(sa.func.count()).select_from(s).where(mine)).scalar_one()
        rows = conn.execute(sa.select(s.c.id, s.c.source, s.c.type, s.c.subtype, s.c.date, s.c.x, s.c.y,
                                      s.c.assignment, s.c.distance_m, s.c.attributes)
                            .where(mine).order_by(s.c.date.desc(), s.c.id.desc()).limit(limit)).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["attributes"] = _json(d["attributes"]) or {}
        d["date"] = _iso(d["date"])
        out.append(d)
    return out, int(total)


def latest_signal_by_type(store: Store, park_id: int) -> dict[str, str]:
    """Date of the newest signal of each type tied to the park (freshness when no score says it)."""
    s = schema.signals
    with connection(store) as conn:
        rows = conn.execute(sa.select(s.c.type, sa.func.max(s.c.date))
                            .where(s.c.park_id == park_id, schema.current(s)).group_by(s.c.type)).all()
    return {t: _iso(d) for t, d in rows}


def last_inspections(store: Store, park_ids: Iterable[int] | None = None) -> dict[int, dt.date]:
    """Per park, the date of its latest inspection signal (visits included)."""
    s = schema.signals
    q = (sa.select(s.c.park_id, sa.func.max(s.c.date))
         .where(s.c.type == "inspection", s.c.park_id.is_not(None), schema.current(s)).group_by(s.c.park_id))
    with connection(store) as conn:
        rows = conn.execute(q).all()
    wanted = None if park_ids is None else {int(i) for i in park_ids}
    out = {}
    for pid, d in rows:
        if wanted is not None and int(pid) not in wanted:
            continue
        out[int(pid)] = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
    return out

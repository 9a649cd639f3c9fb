"""What changed since a run or a date: the early-warning list analysts report from.

The reference is a run id, or a date (the run that was published at the end of that day). Each park's
current score in the published run (incremental updates included) is compared with its score in the
reference run; a park scored now but not then counts as changed from nothing. When the reference is the
published run itself, its own incremental updates since the reference moment are what changed: their audit
(``score_updates``) keeps each park's score before the first of them, and the run's model gives the class.
Factor points before an incremental update are not kept, so such a change names no moved factors.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .. import scoring
from ..store import Store, connection, schema
from ..vocab import classify_score
from .errors import NotFound

__all__ = ["Reference", "resolve_reference", "changes_since", "changed_park_ids"]

_EPSILON = 0.005  # scores are stored to the hundredth
MAX_ID = 2**31 - 1  # the largest id an integer column holds on PostgreSQL


@dataclass(frozen=True)
class Reference:
    """The run changes are measured against (None: no run was published by then, so everything is new)."""

    asked: str
    run_id: int | None
    as_of: str | None
    after: dt.datetime | None = None  # for a date: only incremental updates after this moment count


def resolve_reference(store: Store, since: str) -> Reference:
    """The reference run for ``since`` (a run id, or an ISO date); :class:`NotFound` for an unknown run id,
    ``ValueError`` for text that is neither."""
    r = schema.score_runs
    done = r.c.status.in_(("published", "superseded"))
    text = since.strip()
    after: dt.datetime | None = None
    with connection(store) as conn:
        if text.isdigit():
            if int(text) > MAX_ID:
                raise NotFound(f"no published score run with id {text}")
            row = conn.execute(sa.select(r.c.id, r.c.as_of).where(r.c.id == int(text), done)).first()
            if row is None:
                raise NotFound(f"no published score run with id {text}")
        else:
            try:
                day = dt.date.fromisoformat(text[:10])
            except ValueError:
                raise ValueError(f"{since!r} is neither a run id nor a date (YYYY-MM-DD)") from None
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
            after = end
            row = conn.execute(sa.select(r.c.id, r.c.as_of).where(done, r.c.finished_at < end)
                               .order_by(r.c.finished_at.desc(), r.c.id.desc()).limit(1)).first()
    if row is None:
        return Reference(asked=since, run_id=None, as_of=None, after=after)
    as_of = row.as_of.isoformat() if hasattr(row.as_of, "isoformat") else row.as_of
    return Reference(asked=since, run_id=int(row.id), as_of=None if as_of is None else str(as_of), after=after)


def _points(factors: Any) -> dict[str, float]:
    data = json.loads(factors) if isinstance(factors, str) else (factors or {})
    return {k: float((v or {}).get("points") or 0) for k, v in data.items()}


def _rows(conn: sa.Connection, run_id: int) -> dict[int, Any]:
    ps, p = schema.park_scores, schema.parks
    q = (sa.select(ps.c.park_id, ps.c.score, ps.c.risk_class, ps.c.factors, ps.c.updated_at, p.c.name,
                   p.c.municipality_name)
         .join(p, p.c.id == ps.c.park_id).where(ps.c.run_id == run_id, p.c.retired_at.is_(None)))
    return {int(r.park_id): r for r in conn.execute(q)}


@dataclass(frozen=True)
class _Before:
    """A park's score before a run's incremental updates, from their audit (``factors``: points by factor,
    None where an older audit kept only the score)."""

    score: float
    risk_class: str
    factors: dict[str, dict[str, float]] | None


def _before_updates(conn: sa.Connection, run_id: int, after: dt.datetime | None, now: dict[int, Any],
                    thresholds: dict[str, float]) -> dict[int, Any]:
    """Each park as it stood before the first incremental update (after ``after``) of the run, i.e. as the
    run published it; parks that were not updated stand as they are now."""
    u = schema.score_updates
    q = sa.select(u.c.changes).where(u.c.run_id == run_id).order_by(u.c.id)
    if after is not None:
        q = q.where(u.c.created_at >= after)
    before: dict[int, Any] = dict(now)
    seen: set[int] = set()
    for (changes,) in conn.execute(q):
        data = json.loads(changes) if isinstance(changes, str) else (changes or {})
        for pid_text, entry in data.items():
            pid, old = int(pid_text), entry[0]
            if pid in seen:
                continue
            seen.add(pid)
            if old is None:
                before.pop(pid, None)
                continue
            old_class = entry[2] if len(entry) > 2 and entry[2] else classify_score(float(old), thresholds)
            points = {k: {"points": v} for k, v in entry[3].items()} if len(entry) > 3 else None
            row = now.get(pid)
            before[pid] = _Before(float(old), old_class, points) if row is not None else before.get(pid)
    return before


def changes_since(store: Store, ref: Reference, *, class_only: bool = True, moved: int = 3) -> list[dict[str, Any]]:
    """Parks whose class (or, with ``class_only=False``, score) differs from the reference run, newest first,
    with old and new score and the ``moved`` factors whose points moved most."""
    run_id = scoring.published_run_id(store)
    if run_id is None:
        return []
    with connection(store) as conn:
        now = _rows(conn, run_id)
        model = scoring.run_model(conn, run_id)
        if ref.run_id == run_id:
            then = _before_updates(conn, run_id, ref.after, now, model.thresholds)
        elif ref.run_id is not None:  # the reference run as it was published, before its own updates
            stored = _rows(conn, ref.run_id)
            then = _before_updates(conn, ref.run_id, None, stored, scoring.run_model(conn, ref.run_id).thresholds)
        else:
            then = {}
    labels = {f.id: (f.label_nl, f.label_en) for f in model.factors}
    out = []
    for pid, new in now.items():
        old = then.get(pid)
        same_class = old is not None and old.risk_class == new.risk_class
        same_score = old is not None and abs(float(old.score) - float(new.score)) < _EPSILON
        if (class_only and same_class) or (not class_only and same_class and same_score):
            continue
        if old is not None and old.factors is None:  # an in-run change: no factor points from before
            before, after = {}, {}
        else:
            before, after = _points(old.factors) if old is not None else {}, _points(new.factors)
        deltas = sorted(((fid, after.get(fid, 0.0) - before.get(fid, 0.0)) for fid in set(before) | set(after)),
                        key=lambda kv: (-abs(kv[1]), kv[0]))
        out.append({
            "park_id": pid, "name": new.name, "municipality_name": new.municipality_name,
            "old_class": None if old is None else old.risk_class, "new_class": new.risk_class,
            "old_score": None if old is None else round(float(old.score), 2), "new_score": round(float(new.score), 2),
            "scored_at": new.updated_at.isoformat() if hasattr(new.updated_at, "isoformat") else new.updated_at,
            "factors": [{"id": fid, "label_nl": labels.get(fid, (fid, fid))[0],
                         "label_en": labels.get(fid, (fid, fid))[1],
                         "old_points": round(before.get(fid, 0.0), 2), "new_points": round(after.get(fid, 0.0), 2),
                         "delta": round(d, 2)} for fid, d in deltas[:moved] if abs(d) >= _EPSILON],
        })
    out.sort(key=lambda c: (str(c["scored_at"] or ""), abs(c["new_score"] - (c["old_score"] or 0.0))), reverse=True)
    return out


def changed_park_ids(store: Store, ref: Reference) -> frozenset[int]:
    """Parks whose class or score changed since ``ref`` (the ``changed_since`` filter of the park list)."""
    return frozenset(int(c["park_id"]) for c in changes_since(store, ref, class_only=False, moved=0))

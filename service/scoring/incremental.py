"""Incremental updates: re-score a few parks (and the neighbours their change reaches) inside the published run.

After an import or an API post only a handful of parks have new inputs. :func:`rescore_parks` recomputes
them with the published run's own model through the same engine as a full run, as of today when the run
is live (published without ``--as-of``) and as of the run's own date otherwise; each rewritten row records
its as-of date, and the next full run brings every park to one date again. It reads
only their signals, plus the stored first-pass points of the parks around them for the spatial lag, so its
scores equal what a full run would give for the same data. The rows of the published run are rewritten in
place (``incremental = true``) and every update is recorded in ``score_updates``.

Hotspots are regional statistics over all parks; they are left as the full run computed them.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..config import Settings
from ..spatial import ParkIndex
from ..store import Store, schema
from . import locks
from .engine import NeighbourPairs, compute
from .explain import park_records
from .history import run_model
from .inputs import freshness, load_parks, load_signals
from .model import Model

__all__ = ["rescore_parks", "rescore_after_import", "affected_parks", "Neighbourhood", "live_as_of"]

_LOCAL_INDEX_MAX = 60  # beyond this many parks, one index over all parks is cheaper than bbox queries
_SCAN_ABOVE = 300  # beyond this many parks, read all signals in one scan rather than park by park


def _local_index(conn: Connection, around: Iterable[int], reach_m: float) -> ParkIndex:
    """A park index over the parks whose bounding box lies within ``reach_m`` of one of ``around``'s."""
    p = schema.parks
    around = sorted({int(i) for i in around})
    if len(around) > _LOCAL_INDEX_MAX:
        rows = conn.execute(sa.select(p.c.id, p.c.geom_wkb).where(schema.current(p)).order_by(p.c.id)).all()
    else:
        boxes = conn.execute(sa.select(p.c.minx, p.c.miny, p.c.maxx, p.c.maxy).where(p.c.id.in_(around))).all()
        if not boxes:
            return ParkIndex(np.empty(0, np.int64), np.empty(0, dtype=object))
        cond = sa.or_(*[sa.and_(p.c.maxx >= b.minx - reach_m, p.c.minx <= b.maxx + reach_m,
                                p.c.maxy >= b.miny - reach_m, p.c.miny <= b.maxy + reach_m) for b in boxes])
        rows = conn.execute(sa.select(p.c.id, p.c.geom_wkb).where(cond, schema.current(p)).order_by(p.c.id)).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    geoms = np.asarray(shapely.from_wkb([r[1] for r in rows]), dtype=object) if rows else np.empty(0, dtype=object)
    return ParkIndex(ids, geoms)


def _stored(conn: Connection, run_id: int, park_ids: Iterable[int], *cols: sa.Column) -> dict[int, Any]:
    """Rows of the published run for ``park_ids`` (in batches of 500 ids), keyed by park id."""
    ps = schema.park_scores
    ids = sorted({int(i) for i in park_ids})
    out: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        q = sa.select(ps.c.park_id, *cols).where(ps.c.run_id == run_id, ps.c.park_id.in_(ids[start:start + 500]))
        for row in conn.execute(q):
            out[int(row[0])] = row
    return out


def _factor_points(factors: Any) -> dict[str, float]:
    """Factor id -> points of a stored row (what the audit keeps, so a change can be explained later)."""
    data = json.loads(factors) if isinstance(factors, str) else (factors or {})
    return {k: float((v or {}).get("points") or 0) for k, v in data.items()}


@dataclass
class Neighbourhood:
    """What an incremental update recomputes, and what it takes from the published run."""

    todo: set[int]
    pairs: NeighbourPairs
    known_base: dict[int, int]  # first-pass points (hundredths) of the parks around ``todo``
    rows: dict[int, Any]  # stored rows of ``todo`` (score, previous_score, ...)


def affected_parks(conn: Connection, run_id: int, lag_factor: str | None, lag_m: float | None,
                   requested: set[int], index: ParkIndex | None) -> Neighbourhood:
    """The parks to recompute, their neighbour pairs, and the stored first-pass points around them.

    Recomputed: the requested parks, their neighbours now, and their neighbours in the stored run (a park
    that moved or shrank may have left a neighbourhood). Only the requested parks' neighbours are looked up
    in the R-tree; the other parks' neighbour lists come from the published run (stored with their lag),
    corrected for the requested parks. Parks around them without a stored row (new parks) are recomputed
    as well, so every lag rests on known first-pass points.
    """
    ps = schema.park_scores
    full_cols = (ps.c.score, ps.c.previous_score, ps.c.base_points, ps.c.factors, ps.c.risk_class)
    if lag_factor is None or lag_m is None or not requested:
        return Neighbourhood(set(requested), NeighbourPairs.empty(), {},
                             _stored(conn, run_id, requested, *full_cols))
    idx = index if index is not None else _local_index(conn, requested, lag_m)
    fresh = {a: [int(o) for o, _ in idx.neighbours(a, lag_m)] if idx.geometry(a) is not None else []
             for a in requested}
    todo = set(requested).union(*fresh.values())
    rows = _stored(conn, run_id, todo, *full_cols)

    def stored_list(pid: int) -> list[int] | None:
        row = rows.get(pid)
        entry = ((row.factors or {}).get(lag_factor) or {}) if row is not None else {}
        return None if row is None or "parks" not in entry else [int(x) for x in entry["parks"]]

    for a in requested:  # parks that neighboured a requested park before, and may not any more
        todo.update(stored_list(a) or [])
    rows.update(_stored(conn, run_id, todo - set(rows), *full_cols))

    lists: dict[int, list[int]] = {}
    base_rows: dict[int, Any] = {}
    while True:
        for c in sorted(todo - set(lists)):
            if c in fresh:
                lists[c] = fresh[c]
                continue
            old = stored_list(c)
            if old is None:  # no stored row: ask the R-tree
                if index is None:
                    idx = _local_index(conn, [c], lag_m)
                lists[c] = [int(o) for o, _ in idx.neighbours(c, lag_m)] if idx.geometry(c) is not None else []
            else:
                lists[c] = sorted({x for x in old if x not in fresh} | {a for a, ns in fresh.items() if c in ns})
        ring = set().union(*lists.values()) - todo
        base_rows.update(_stored(conn, run_id, ring - set(base_rows), ps.c.base_points))
        missing = {p for p in ring if p not in base_rows or base_rows[p].base_points is None}
        if not missing:
            break
        todo |= missing
        rows.update(_stored(conn, run_id, missing, *full_cols))
    a_ids = [c for c in sorted(todo) for _ in lists[c]]
    b_ids = [b for c in sorted(todo) for b in lists[c]]
    pairs = NeighbourPairs(np.array(a_ids, dtype=np.int64), np.array(b_ids, dtype=np.int64))
    known = {p: int(round(base_rows[p].base_points * 100)) for p in ring}
    return Neighbourhood(todo, pairs, known, rows)


def live_as_of(run_as_of: Any, input_counts: Any, today: dt.date) -> dt.date:
    """The as-of date of an incremental update: today for a live run, the run's own date for an --as-of run.

    A backtest or ``--as-of`` run keeps its exact "nothing after the as-of date" rule; runs published
    before live runs existed (no ``live`` in their counts) are treated as pinned.
    """
    day = run_as_of if isinstance(run_as_of, dt.date) else dt.date.fromisoformat(str(run_as_of)[:10])
    counts = json.loads(input_counts) if isinstance(input_counts, str) else (input_counts or {})
    return max(day, today) if counts.get("live") else day


_MODELS: dict[str, Model] = {}


def _published_model(conn: Connection, run_id: int, model_hash: str) -> Model:
    """The run's model, parsed once per process (keyed by its hash)."""
    model = _MODELS.get(model_hash)
    if model is None:
        model = run_model(conn, run_id)
        _MODELS[model_hash] = model
    return model


def _take_published_run(conn: Connection) -> Any:
    """Lock the published run and read it (None without one).

    Write first: this takes the write lock (SQLite) or the run's row lock (PostgreSQL) before reading, so
    concurrent updates and a publishing full run are serialised with us.
    """
    r = schema.score_runs
    taken = conn.execute(r.update().where(r.c.status == "published").values(heartbeat_at=locks.now_utc())).rowcount
    if not taken:
        return None
    return conn.execute(sa.select(r.c.id, r.c.as_of, r.c.model_hash, r.c.input_counts)
                        .where(r.c.status == "published")).first()


def _lock_running_run(conn: Connection) -> int | None:
    """The id of the full run in progress, its row locked until we commit (None when none runs).

    The lock keeps it from publishing before our request is recorded, so it cannot miss the request.
    """
    r = schema.score_runs
    q = sa.select(r.c.id).where(r.c.status == "running").order_by(r.c.id.desc()).limit(1).with_for_update()
    run_id = conn.execute(q).scalar()
    return None if run_id is None else int(run_id)


def rescore_parks(store: Store, settings: Settings, park_ids: Iterable[int], *, index: ParkIndex | None = None,
                  reason: str | None = None) -> dict[str, Any]:
    """Re-score ``park_ids`` and the neighbours whose spatial lag they change, inside the published run.

    Uses the published run's model (its stored text), as of today for a live run (see :func:`live_as_of`);
    signals dated after that date wait for the next full run (the result counts them). Without a published
    run nothing is re-scored and the result says so; a full run in progress records the request and
    re-applies it once it publishes. ``index`` may be the service's live park index; without it
    a small one is built around the parks from their bounding boxes.
    """
    started = time.perf_counter()
    requested = sorted({int(p) for p in park_ids if p is not None})
    if not requested:
        return {"status": "nothing_to_do", "message": "no parks given; nothing re-scored", "rescored": []}
    ps, s = schema.park_scores, schema.signals
    with store.begin() as conn:
        run = _take_published_run(conn)
        if run is None:
            # A full run still computing has read its signals already: it gets the request, and re-applies it
            # once it publishes (runs._reapply_updates). Locking its row waits for a run that is publishing.
            computing = _lock_running_run(conn)
            if computing is not None:
                conn.execute(schema.score_updates.insert().values(
                    run_id=computing, reason=(reason or "incremental")[:200], requested=requested, rescored=[],
                    changes={}, seconds=round(time.perf_counter() - started, 4), created_at=locks.now_utc()))
                return {"status": "no_published_run", "rescored": [], "requested": requested,
                        "pending_run_id": computing,
                        "message": f"no score run is published yet; run {computing} is computing and re-scores "
                                   "these parks when it publishes"}
            # On PostgreSQL the first look skips a row a publishing run changed while we waited for it; a new
            # statement sees the run it published.
            run = _take_published_run(conn)
        if run is None:
            return {"status": "no_published_run", "rescored": [], "requested": requested,
                    "message": "no score run is published yet; run 'parkwacht score' first (nothing was updated)"}
        run_id, as_of = int(run.id), live_as_of(run.as_of, run.input_counts, settings.day())
        model = _published_model(conn, run_id, run.model_hash)
        lag = model.lag_factor
        hood = affected_parks(conn, run_id, lag.id if lag else None, model.lag_distance_m, set(requested), index)
        todo_ids = sorted(hood.todo)
        parks = load_parks(conn, todo_ids)
        if len(parks) == 0:
            return {"status": "nothing_to_do", "rescored": [], "requested": requested,
                    "message": "none of these parks exist; nothing re-scored"}
        pairs = hood.pairs
        if len(parks) < len(todo_ids):  # parks deleted meanwhile: they neighbour nobody any more
            gone = np.setdiff1d(np.array(todo_ids, dtype=np.int64), parks.id)
            keep = ~np.isin(pairs.a, gone) & ~np.isin(pairs.b, gone)
            pairs = NeighbourPairs(pairs.a[keep], pairs.b[keep])
        # Many parks at once (a large import): one sequential scan beats index lookups park by park.
        read_ids = None if len(parks) > _SCAN_ABOVE else parks.id.tolist()
        signals = load_signals(conn, model, as_of, park_ids=read_ids, nearby_limit_m=settings.nearby_distance_m)
        result = compute(model, parks, signals, as_of, neighbours=pairs, known_base=hood.known_base)
        records = park_records(result)
        fresh = freshness(signals, result.park_ids)
        now = locks.now_utc()
        updates, inserts, changes, audit = [], [], {}, {}
        for rec in records:
            pid = rec["park_id"]
            values = {"score": rec["score"], "risk_class": rec["risk_class"], "themes": rec["themes"],
                      "factors": rec["factors"], "base_points": rec["base_points"],
                      "freshness": fresh.get(pid, {}), "updated_at": now, "incremental": True, "as_of": as_of}
            old = hood.rows.get(pid)
            if old is not None:
                prev = old.previous_score
                values["change"] = None if prev is None else round(rec["score"] - prev, 2)
                if old.score != rec["score"]:
                    changes[str(pid)] = [old.score, rec["score"]]
                    audit[str(pid)] = [old.score, rec["score"], old.risk_class, _factor_points(old.factors)]
                updates.append({"b_park": pid, **{f"b_{k}": v for k, v in values.items()}})
            else:
                inserts.append({"run_id": run_id, "park_id": pid, "change": None, "previous_score": None,
                                "hotspot": "none", "hotspot_p": None, **values})
                changes[str(pid)] = [None, rec["score"]]
                audit[str(pid)] = [None, rec["score"], None, {}]
        if updates:
            cols = ("score", "risk_class", "themes", "factors", "base_points", "freshness", "updated_at",
                    "incremental", "change", "as_of")
            stmt = ps.update().where(ps.c.run_id == run_id, ps.c.park_id == sa.bindparam("b_park")).values(
                **{c: sa.bindparam(f"b_{c}", type_=ps.c[c].type) for c in cols})
            conn.execute(stmt, updates)
        if inserts:
            conn.execute(ps.insert(), inserts)
        after = conn.execute(sa.select(sa.func.count()).select_from(s).where(
            s.c.park_id.in_(requested), s.c.date > as_of)).scalar_one()
        rescored = result.park_ids.tolist()
        seconds = time.perf_counter() - started
        conn.execute(schema.score_updates.insert().values(
            run_id=run_id, reason=(reason or "incremental")[:200], requested=requested, rescored=rescored,
            changes=audit, seconds=round(seconds, 4), created_at=now))
    out: dict[str, Any] = {
        "status": "updated", "run_id": run_id, "as_of": as_of.isoformat() if hasattr(as_of, "isoformat") else as_of,
        "requested": requested, "rescored": rescored, "changed": changes, "seconds": round(seconds, 4),
        "signals_after_as_of": int(after),
    }
    if after:
        out["message"] = (f"{after} signal(s) of these parks are dated after the published run's as-of date "
                          f"{out['as_of']}; they count from the next full run")
    return out


def rescore_after_import(store: Store, settings: Settings, import_result: Any, *,
                         index: ParkIndex | None = None) -> dict[str, Any]:
    """The hook for imports and API posts: re-score the parks an :class:`~service.ingest.ImportResult` touched."""
    parks = getattr(import_result, "affected_parks", None) or set()
    batch = getattr(import_result, "batch_id", None)
    return rescore_parks(store, settings, parks, index=index, reason=f"import batch {batch}" if batch else "import")

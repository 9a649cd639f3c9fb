"""Full score runs: score every park as of a date, record the run, and publish it atomically.

A run goes: take the lock (a 'running' row in ``score_runs``) → read parks and signals → neighbours →
engine → hotspots → explanations → publish. Publishing is one transaction that writes all ``park_scores`` rows
of the run, marks the previously published run 'superseded', marks this one 'published' and releases the
lock, so a reader sees either the old run or the new one, never a mix and never none. A run that fails
anywhere is recorded as 'failed' with the reason and the old scores stay published; a run whose process is
killed is found stale by the next run (see :mod:`.locks`).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..config import Settings
from ..spatial import ParkIndex
from ..store import Store, schema
from ..vocab import HOTSPOT_LABELS, RISK_CLASSES
from . import locks
from .engine import EngineResult, NeighbourPairs, compute
from .explain import park_records
from .factors import SignalFrame
from .hotspots import centroids_xy, hotspots
from .inputs import freshness, load_parks, load_signals, neighbour_pairs
from .model import Model
from .model_file import load_model

__all__ = ["Progress", "Scored", "score_run", "compute_scores", "engine_scores", "default_as_of",
           "latest_signal_date", "check_as_of", "RunRefused", "STAGES"]

log = logging.getLogger("service.scoring")

STAGES = ("parks", "signals", "neighbours", "engine", "hotspots", "freshness", "explain", "publish")
_WRITE_ROWS = 1_000


class Progress:
    """Stage progress: a tqdm bar on a terminal, plain log lines (or ``echo``) otherwise."""

    def __init__(self, bar: bool = False, echo: Callable[[str], None] | None = None,
                 stages: tuple[str, ...] = STAGES) -> None:
        self.echo = echo
        self.stages = stages
        self.bar = None
        if bar:
            from tqdm import tqdm

            self.bar = tqdm(total=len(stages), desc=f"score: {stages[0]}", unit="stage", leave=False)
        self._t = time.perf_counter()
        self.timings: dict[str, float] = {}

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)

    def done(self, stage: str, detail: str = "") -> None:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._t, 3)
        self._t = now
        if self.bar is not None:
            after = self.stages.index(stage) + 1 if stage in self.stages else len(self.stages)
            self.bar.set_description(f"score: {self.stages[after]}" if after < len(self.stages) else "score")
            self.bar.update(1)
        else:
            line = f"{stage}: {self.timings[stage]:.2f} s" + (f" ({detail})" if detail else "")
            (self.echo or log.info)(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def latest_signal_date(store: Store) -> dt.date | None:
    with store.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(schema.signals.c.date))).scalar()
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return value


def default_as_of(store: Store, today: dt.date | None = None) -> dt.date:
    """Today (or the pinned day): a run without ``--as-of`` counts every signal dated up to today.

    Signals dated later (typing errors, planned dates) never count; ``check_as_of`` still refuses a run
    that no signal would count for. ``store`` is kept for callers that pass it.
    """
    return today or dt.date.today()


class RunRefused(ValueError):
    """A run that would publish scores without evidence (no signals on or before its as-of date)."""


def check_as_of(store: Store, as_of: dt.date) -> None:
    """Refuse an as-of date before the oldest signal, or any run that would read no signals at all.

    Such a run marks every park ``laag`` and, once published, replaces the real picture.
    """
    s = schema.signals
    with store.connect() as conn:
        oldest, usable = conn.execute(sa.select(sa.func.min(s.c.date), sa.func.count().filter(s.c.date <= as_of))).one()
    if isinstance(oldest, str):
        oldest = dt.date.fromisoformat(oldest)
    if oldest is None:
        raise RunRefused("the store holds no signals: a run would mark every park 'laag' and replace the "
                         "published scores; import signals first (or pass --force)")
    if as_of < oldest or not usable:
        raise RunRefused(f"as of {as_of.isoformat()} no signal counts (the oldest is of {oldest.isoformat()}): the "
                         "run would mark every park 'laag' and replace the published scores; pass --force to "
                         "publish it anyway")


@dataclass
class Scored:
    """What a computation produced before anything is written."""

    model: Model
    as_of: dt.date
    result: EngineResult
    records: list[dict[str, Any]]
    hotspot_label: np.ndarray
    hotspot_p: np.ndarray
    freshness: dict[int, dict[str, str]]
    counts: dict[str, Any] = field(default_factory=dict)


def engine_scores(store: Store, settings: Settings, model: Model, as_of: dt.date, *,
                  index: ParkIndex | None = None, progress: Progress | None = None,
                  beat: Callable[[], None] | None = None,
                  engine: Callable[..., EngineResult] | None = None) -> tuple[EngineResult, Any, SignalFrame]:
    """Read the inputs and run the engine for every park (no hotspots, no explanations, nothing written).

    ``engine`` is :func:`~.engine.compute` (the default, looked up at call time) or a drop-in with its
    signature (the dask engine of :mod:`.distributed`), so every other step is the same code. Returns the
    engine result, the park geometries (ids and RD polygons, ordered by id) and the signals read.
    """
    progress = progress or Progress()
    with store.connect() as conn:
        parks = load_parks(conn)
        pg = store.park_geometries(conn)
        progress.done("parks", f"{len(parks)} parks")

        def chunk(read: int) -> None:
            progress.note(f"{read:,} signals")
            if beat is not None:
                beat()

        signals = load_signals(conn, model, as_of, nearby_limit_m=settings.nearby_distance_m, on_chunk=chunk)
    progress.done("signals", f"{len(signals):,} signals")
    if beat is not None:
        beat()

    lag_m = model.lag_distance_m
    pairs = NeighbourPairs.empty()
    if lag_m is not None and len(pg):
        idx = index if index is not None else ParkIndex(pg.ids, pg.geoms)
        pairs = neighbour_pairs(idx, lag_m)
    progress.done("neighbours", f"{len(pairs.a):,} pairs")

    result = (engine or compute)(model, parks, signals, as_of, neighbours=pairs)
    result.counts["neighbour_pairs"] = int(len(pairs.a))
    progress.done("engine")
    if beat is not None:
        beat()
    return result, pg, signals


def compute_scores(store: Store, settings: Settings, model: Model, as_of: dt.date, *,
                   index: ParkIndex | None = None, progress: Progress | None = None,
                   beat: Callable[[], None] | None = None,
                   engine: Callable[..., EngineResult] | None = None) -> Scored:
    """Score every park as of ``as_of`` with hotspots and explanations, without writing anything."""
    progress = progress or Progress()
    result, pg, signals = engine_scores(store, settings, model, as_of, index=index, progress=progress, beat=beat,
                                        engine=engine)
    n = len(result.park_ids)
    label = np.full(n, "none", dtype=object)
    pval = np.full(n, np.nan)
    if n:
        pos = np.searchsorted(pg.ids, result.park_ids)
        hs = hotspots(result.scores, centroids_xy(pg.geoms[pos]), model)
        label, pval = hs.label, hs.p_value
    progress.done("hotspots", f"{int((label == 'hot').sum())} hot, {int((label == 'cold').sum())} cold")

    fresh = freshness(signals, result.park_ids)
    progress.done("freshness")

    records = park_records(result)
    progress.done("explain")
    counts = {"parks": n, "signals": int(result.counts.get("signals", 0)),
              "neighbour_pairs": int(result.counts.get("neighbour_pairs", 0)),
              "signals_by_factor": {k.split(":", 1)[1]: v for k, v in result.counts.items()
                                    if k.startswith("signals:")}}
    return Scored(model, as_of, result, records, label, pval, fresh, counts)


def _previous_scores(conn: Connection, run_id: int) -> dict[int, float]:
    ps = schema.park_scores
    return {int(p): float(s) for p, s in conn.execute(sa.select(ps.c.park_id, ps.c.score).where(ps.c.run_id == run_id))}


def _write_scores(conn: Connection, run_id: int, scored: Scored, previous: dict[int, float]) -> None:
    """Insert all park_scores rows of a run (inside the publishing transaction)."""
    rows = []
    now = locks.now_utc()
    for rec, hot, p in zip(scored.records, scored.hotspot_label, scored.hotspot_p, strict=True):
        pid = rec["park_id"]
        prev = previous.get(pid)
        rows.append({
            "run_id": run_id, "park_id": pid, "score": rec["score"], "risk_class": rec["risk_class"],
            "themes": rec["themes"], "factors": rec["factors"], "freshness": scored.freshness.get(pid, {}),
            "change": None if prev is None else round(rec["score"] - prev, 2), "previous_score": prev,
            "hotspot": str(hot), "hotspot_p": None if not np.isfinite(p) else float(p),
            "base_points": rec["base_points"], "incremental": False, "updated_at": now, "as_of": scored.as_of,
        })
    for start in range(0, len(rows), _WRITE_ROWS):
        conn.execute(schema.park_scores.insert(), rows[start:start + _WRITE_ROWS])


def _publish(store: Store, lock: locks.ScoreLock, scored: Scored, counts: dict[str, Any],
             timings: dict[str, float]) -> int | None:
    """One transaction: write the rows, supersede the old run, publish this one, release the lock."""
    r = schema.score_runs
    with store.begin() as conn:
        # Taking the run row first serialises us with incremental updates (they lock the published row).
        conn.execute(r.update().where(r.c.id == lock.run_id).values(heartbeat_at=locks.now_utc()))
        old = conn.execute(sa.select(r.c.id).where(r.c.status == "published")).scalar()
        if old is not None:
            conn.execute(r.update().where(r.c.id == old).values(heartbeat_at=locks.now_utc()))
        previous = _previous_scores(conn, old) if old is not None else {}
        _write_scores(conn, lock.run_id, scored, previous)
        if old is not None:
            conn.execute(r.update().where(r.c.id == old).values(status="superseded"))
        conn.execute(r.update().where(r.c.id == lock.run_id).values(
            status="published", finished_at=locks.now_utc(), input_counts=counts, timings=timings,
            previous_run_id=old))
        if not locks.release(conn, lock):
            raise locks.LockLost(f"score run {lock.run_id} lost its lock before publishing; nothing published")
    return old


def _fail(store: Store, lock: locks.ScoreLock, error: str, timings: dict[str, float]) -> None:
    r = schema.score_runs
    with store.begin() as conn:
        conn.execute(r.update().where(r.c.id == lock.run_id, r.c.status == "running").values(
            status="failed", error=error[:4000], finished_at=locks.now_utc(), timings=timings))
        locks.release(conn, lock)


def _updates_marker(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(schema.score_updates.c.id), 0))).scalar_one())


def _reapply_updates(store: Store, settings: Settings, run_id: int, old_run: int | None, marker: int,
                     index: ParkIndex | None) -> list[int]:
    """Incremental updates that arrived while this run was computing are re-applied to it: those that reached
    the old run, and those recorded against this run because none was published yet."""
    u = schema.score_updates
    runs = [run_id] if old_run is None else [run_id, old_run]
    with store.connect() as conn:
        rows = conn.execute(sa.select(u.c.requested).where(u.c.run_id.in_(runs), u.c.id > marker)).scalars().all()
    ids = sorted({int(p) for req in rows for p in (req or [])})
    if ids:
        from .incremental import rescore_parks

        rescore_parks(store, settings, ids, index=index, reason="re-applied after a full run")
    return ids


def score_run(store: Store, settings: Settings, *, as_of: dt.date | None = None, model_path: str | Path | None = None,
              index: ParkIndex | None = None, progress: Progress | None = None,
              stale_after_s: float = locks.STALE_AFTER_S, require_signals: bool = False,
              engine: Callable[..., EngineResult] | None = None) -> dict[str, Any]:
    """Score every park as of ``as_of`` (default: :func:`default_as_of`) and publish the run atomically.

    With ``require_signals`` (the ``parkwacht score`` default; ``--force`` turns it off) a run that no signal
    would count for is refused with :class:`RunRefused` before anything is recorded.

    Raises :class:`~service.scoring.model.ModelError` for a bad model file (nothing recorded) and
    :class:`~service.scoring.locks.RunLocked` when another run is in progress. Any other failure is recorded
    on the run as 'failed' and re-raised; the previously published scores stay in place.
    """
    started = time.perf_counter()
    path = Path(model_path or settings.model_path)
    model = load_model(path)
    live = as_of is None  # a live run's incremental updates follow the day; an --as-of run stays pinned
    as_of = as_of or default_as_of(store, settings.day())
    if require_signals:
        check_as_of(store, as_of)
    lock = locks.acquire(store, {"model_version": model.version, "model_hash": model.sha256, "as_of": as_of,
                                 "model_text": model.text, "model_path": str(path)}, stale_after_s=stale_after_s)
    progress = progress or Progress()
    log.info("score run %s: model %s (%s), as of %s", lock.run_id, model.version, model.sha256[:12], as_of)
    try:
        marker = _updates_marker(store)
        scored = compute_scores(store, settings, model, as_of, index=index, progress=progress,
                                beat=_beater(store, lock), engine=engine)
        counts = dict(scored.counts)
        counts["live"] = live
        counts["classes"] = {c: int(sum(r["risk_class"] == c for r in scored.records))
                             for c in RISK_CLASSES}
        counts["hotspots"] = {h: int((scored.hotspot_label == h).sum()) for h in HOTSPOT_LABELS}
        counts["hotspot_rule"] = {"significance": model.hotspot_significance, "fdr": model.hotspot_fdr,
                                  "min_level": model.hotspot_min_level}
        timings = dict(progress.timings)
        t0 = time.perf_counter()
        old = _publish(store, lock, scored, counts, timings)
        timings["publish"] = round(time.perf_counter() - t0, 3)
        progress.done("publish", f"run {lock.run_id}")
    except BaseException as exc:  # KeyboardInterrupt too: never leave the run 'running'
        progress.close()
        try:
            _fail(store, lock, f"{type(exc).__name__}: {exc}", dict(progress.timings))
        except Exception:  # the database itself may be what failed; the next run will find us stale
            log.exception("could not record score run %s as failed", lock.run_id)
        raise
    progress.close()
    timings["total"] = round(time.perf_counter() - started, 3)
    try:
        with store.begin() as conn:  # the final timings, after the fact (the run is already published)
            conn.execute(schema.score_runs.update().where(schema.score_runs.c.id == lock.run_id)
                         .values(timings=timings))
    except Exception:
        log.exception("score run %s is published, but its final timings could not be stored", lock.run_id)
    reapplied = _reapply_updates(store, settings, lock.run_id, old, marker, index)
    return {
        "run_id": lock.run_id, "status": "published", "as_of": as_of.isoformat(), "model_version": model.version,
        "model_hash": model.sha256, "model_path": str(path), "previous_run_id": old, "input_counts": counts,
        "timings": timings, "reapplied_incremental": reapplied,
    }


def _beater(store: Store, lock: locks.ScoreLock, every_s: float = 5.0) -> Callable[[], None]:
    """A heartbeat at most every ``every_s`` seconds (called often, writes rarely)."""
    last = [0.0]

    def beat() -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            locks.heartbeat(store, lock)
            last[0] = now

    return beat

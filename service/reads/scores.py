"""Reads of scores: the published run, parks with their scores (map, lists), the worklist, the cache key.

Scores come from :mod:`service.scoring` (its bulk reader :func:`~service.scoring.run_scores` and the
per-park explanation :func:`~service.scoring.park_score`); this module joins them with the parks.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import scoring
from ..config import Settings
from ..scoring import ModelError
from ..store import Store, connection, schema
from .signals import last_inspections

__all__ = [
    "ParkScoreRow",
    "WorkItem",
    "published_run",
    "park_score",
    "park_history",
    "factor_catalogue",
    "theme_catalogue",
    "park_rows",
    "worklist",
    "data_version",
    "reference_date",
]

published_run = scoring.published_run
park_score = scoring.park_score
park_history = scoring.park_history


def factor_catalogue(store: Store, run_id: int | None) -> dict[str, dict[str, Any]]:
    """Factor id -> id, theme and labels of the model that produced ``run_id`` (empty without a run)."""
    if run_id is None:
        return {}
    try:
        model = scoring.run_model(store, run_id)
    except KeyError:
        return {}
    return {f.id: {"id": f.id, "theme": f.theme, "label_nl": f.label_nl, "label_en": f.label_en, "weight": f.weight}
            for f in model.factors}


def theme_catalogue(store: Store, run_id: int | None, settings: Settings | None = None) -> dict[str, dict[str, Any]]:
    """Theme id -> labels, from the run's model, else from the configured model file (for the filter form)."""
    model = None
    if run_id is not None:
        try:
            model = scoring.run_model(store, run_id)
        except KeyError:
            model = None
    if model is None and settings is not None:
        try:
            model = scoring.load_model(settings.model_path)
        except (ModelError, OSError):  # a broken model file must not take the pages down; `score` reports it
            model = None
    if model is None:
        return {}
    return {t: {"id": t, **labels} for t, labels in model.themes.items()}


@dataclass
class ParkScoreRow:
    """A park with its score in one run (score fields None when the park has no score)."""

    id: int
    name: str | None
    kind: str
    municipality_code: str | None
    municipality_name: str | None
    geom_wkb: bytes | None
    score: float | None = None
    risk_class: str | None = None
    change: float | None = None
    hotspot: str | None = None
    hotspot_p: float | None = None
    themes: dict[str, float] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)  # factor id -> points

    def top_factors(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` factors with the most points (ties by id), only those with points above zero."""
        return scoring.top_factors(self.factors, n)


def park_rows(store: Store, run_id: int | None, *, municipalities: Sequence[str] = (), kinds: Sequence[str] = (),
              classes: Sequence[str] = (), themes: Sequence[str] = (),
              with_geometry: bool = True) -> list[ParkScoreRow]:
    """Parks (filtered) with their score in ``run_id``, by id; a park without a score is kept unless
    ``classes``/``themes`` filter. ``themes`` keeps parks that get points (> 0) from one of those themes."""
    if (classes or themes) and run_id is None:
        return []
    p = schema.parks
    cols = [p.c.id, p.c.name, p.c.kind, p.c.municipality_code, p.c.municipality_name]
    if with_geometry:
        cols.append(p.c.geom_wkb)
    q = sa.select(*cols).order_by(p.c.id)
    if municipalities:
        q = q.where(p.c.municipality_code.in_(list(municipalities)))
    if kinds:
        q = q.where(p.c.kind.in_(list(kinds)))
    with connection(store) as conn:
        parks = conn.execute(q).all()
        scores = scoring.run_scores(conn, run_id) if run_id is not None else {}
    out: list[ParkScoreRow] = []
    for r in parks:
        m = r._mapping
        row = ParkScoreRow(id=m["id"], name=m["name"], kind=m["kind"], municipality_code=m["municipality_code"],
                           municipality_name=m["municipality_name"], geom_wkb=m.get("geom_wkb"))
        s = scores.get(int(m["id"]))
        if s is not None:
            row.score, row.risk_class, row.change = s.score, s.risk_class, s.change
            row.hotspot, row.hotspot_p, row.themes, row.factors = s.hotspot, s.hotspot_p, s.themes, s.factors
        if classes and row.risk_class not in classes:
            continue
        if themes and not any(row.themes.get(t, 0) > 0 for t in themes):
            continue
        out.append(row)
    return out


@dataclass
class WorkItem:
    """One park on the worklist."""

    rank: int
    park: ParkScoreRow
    last_inspection: dt.date | None
    days_since_inspection: int | None
    reasons: list[tuple[str, float]]


def worklist(store: Store, run_id: int | None, as_of: dt.date, labels: dict[str, str], *,
             municipalities: Sequence[str] = (), classes: Sequence[str] = ()) -> list[WorkItem]:
    """Parks in visiting order: highest score first, then the largest rise since the previous run, then the
    longest time since the last inspection (never inspected first). Parks without a score come last."""
    rows = park_rows(store, run_id, municipalities=municipalities, classes=classes, with_geometry=False)
    inspected = last_inspections(store, [r.id for r in rows])
    never = 10 ** 6

    def days(r: ParkScoreRow) -> int:
        d = inspected.get(r.id)
        return never if d is None else (as_of - d).days

    rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0), -(r.change or 0.0), -days(r), r.id))
    out = []
    for i, r in enumerate(rows, start=1):
        d = inspected.get(r.id)
        out.append(WorkItem(rank=i, park=r, last_inspection=d,
                            days_since_inspection=None if d is None else (as_of - d).days,
                            reasons=[(labels.get(fid, fid), pts) for fid, pts in r.top_factors(3)]))
    return out


def data_version(store: Store | Connection) -> tuple[Any, ...]:
    """Changes whenever what the risk map or the API shows may change: a run is published, an incremental
    update rewrites scores, parks are imported, changed, retired or revived, signals arrive. Cheap aggregates."""
    r, u, p, s = schema.score_runs, schema.score_updates, schema.parks, schema.signals
    with connection(store) as conn:
        run = conn.execute(sa.select(r.c.id).where(r.c.status == "published")).scalar()
        upd = conn.execute(sa.select(sa.func.max(u.c.id))).scalar()
        parks = conn.execute(sa.select(sa.func.count(), sa.func.max(sa.cast(p.c.updated_at, sa.String)),
                                       sa.func.count(p.c.retired_at))).one()
        sig = conn.execute(sa.select(sa.func.max(s.c.id))).scalar()
    return (run, upd, int(parks[0]), str(parks[1]), int(parks[2]), sig)


def reference_date(store: Store, run: dict[str, Any] | None) -> dt.date:
    """The date 'the last 12 months' and 'days since' count back from: the run's as-of date, else the newest
    signal, else today. Scores describe the situation on their as-of date, so the map's signals do too."""
    if run and run.get("as_of"):
        return dt.date.fromisoformat(str(run["as_of"])[:10])
    with connection(store) as conn:
        latest = conn.execute(sa.select(sa.func.max(schema.signals.c.date))).scalar()
    if latest is None:
        return dt.date.today()
    return latest if isinstance(latest, dt.date) else dt.date.fromisoformat(str(latest))

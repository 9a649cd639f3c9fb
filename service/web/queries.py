"""Every read (and the one write) the officers' pages make, in one place.

Scores come from :mod:`service.scoring` (``published_run``, ``park_score``, ``park_history``, ``run_model``,
``rescore_parks``). The scoring package has no bulk reader of a whole run's rows, so the map and the
worklist read ``park_scores`` directly here, with the same meaning as ``park_score``. Everything is plain
SQLAlchemy Core, so it runs on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import shapely
import sqlalchemy as sa

from .. import scoring
from ..config import Settings
from ..ingest import ImportResult, import_signal_records
from ..maps import ParkFeature, SignalPoint
from ..spatial import ParkIndex
from ..store import Store, schema

__all__ = [
    "ParkScoreRow",
    "WorkItem",
    "published_run",
    "park_score",
    "park_history",
    "factor_catalogue",
    "theme_catalogue",
    "municipalities",
    "municipality_outlines",
    "park",
    "park_rows",
    "park_features",
    "recent_signals",
    "park_signals",
    "latest_signal_by_type",
    "last_inspections",
    "worklist",
    "data_version",
    "reference_date",
    "has_demo_parks",
    "record_visit",
    "rescore",
    "VISIT_SOURCE",
]

#: Source name of visits recorded on the park page.
VISIT_SOURCE = "bezoek"
_ADJUSTMENT = "floor_adjustment"


# -- scores (through the scoring package) -------------------------------------------------------------
def published_run(store: Store) -> dict[str, Any] | None:
    """The published score run, or None when nothing is scored yet."""
    return scoring.published_run(store)


def park_score(store: Store, park_id: int) -> dict[str, Any] | None:
    """A park's decomposed score in the published run (None: no score)."""
    return scoring.park_score(store, park_id)


def park_history(store: Store, park_id: int) -> list[dict[str, Any]]:
    """The park's score in every published run, oldest first."""
    return scoring.park_history(store, park_id)


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
        except Exception:  # a broken model file must not take the pages down; the scoring CLI reports it
            model = None
    if model is None:
        return {}
    return {t: {"id": t, **labels} for t, labels in model.themes.items()}


# -- parks ------------------------------------------------------------------------------------------------
def municipalities(store: Store) -> list[tuple[str, str]]:
    """(code, name) of every municipality with parks, by name."""
    p = schema.parks
    with store.connect() as conn:
        rows = conn.execute(sa.select(p.c.municipality_code, sa.func.max(p.c.municipality_name))
                            .where(p.c.municipality_code.is_not(None))
                            .group_by(p.c.municipality_code)).all()
    return sorted(((code, name or code) for code, name in rows), key=lambda r: (r[1].lower(), r[0]))


def municipality_outlines(store: Store, codes: Sequence[str] = ()) -> list[tuple[str, Any]] | None:
    """Municipality boundaries (name, RD geometry) when a ``municipalities`` source is loaded, else None.

    No such table exists yet. The layer is drawn only from real boundaries (a table ``municipalities`` with
    ``code``, ``name`` and ``geom_wkb`` in RD, e.g. from CBS/PDOK "bestuurlijke gebieden"): an outline
    made up from park hulls would look like a boundary and not be one.
    """
    with store.connect() as conn:
        if not sa.inspect(conn).has_table("municipalities"):
            return None
        table = sa.Table("municipalities", sa.MetaData(), autoload_with=conn)
        if not {"code", "name", "geom_wkb"} <= set(table.c.keys()):
            return None
        q = sa.select(table.c.name, table.c.geom_wkb)
        if codes:
            q = q.where(table.c.code.in_(list(codes)))
        rows = conn.execute(q).all()
    return [(name or "", shapely.from_wkb(wkb)) for name, wkb in rows if wkb]


def park(store: Store, park_id: int) -> dict[str, Any] | None:
    """A park's stored row (without its geometry bytes, with ``geom`` as a shapely geometry), or None."""
    p = schema.parks
    with store.connect() as conn:
        row = conn.execute(sa.select(p).where(p.c.id == park_id)).first()
    if row is None:
        return None
    d = dict(row._mapping)
    d["geom"] = shapely.from_wkb(d.pop("geom_wkb"))
    return d


def has_demo_parks(store: Store) -> bool:
    p = schema.parks
    with store.connect() as conn:
        return conn.execute(sa.select(p.c.id).where(p.c.source == "demo").limit(1)).first() is not None


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
        items = [(fid, pts) for fid, pts in self.factors.items() if fid != _ADJUSTMENT and pts and pts > 0]
        return sorted(items, key=lambda kv: (-kv[1], kv[0]))[:n]


def _json(value: Any) -> Any:
    if isinstance(value, str):  # drivers without JSON support hand back text
        return json.loads(value)
    return value


def park_rows(store: Store, run_id: int | None, *, municipalities: Sequence[str] = (), kinds: Sequence[str] = (),
              classes: Sequence[str] = (), themes: Sequence[str] = (), with_geometry: bool = True) -> list[ParkScoreRow]:
    """Parks (filtered) with their score in ``run_id``; a park without a score is kept unless classes/themes filter.

    ``themes`` keeps parks that get points (> 0) from at least one of those themes.
    """
    p, ps = schema.parks, schema.park_scores
    cols = [p.c.id, p.c.name, p.c.kind, p.c.municipality_code, p.c.municipality_name]
    if with_geometry:
        cols.append(p.c.geom_wkb)
    if run_id is not None:
        cols += [ps.c.score, ps.c.risk_class, ps.c.change, ps.c.hotspot, ps.c.hotspot_p, ps.c.themes, ps.c.factors]
        q = sa.select(*cols).select_from(p.outerjoin(ps, sa.and_(ps.c.park_id == p.c.id, ps.c.run_id == run_id)))
    else:
        q = sa.select(*cols)
    if municipalities:
        q = q.where(p.c.municipality_code.in_(list(municipalities)))
    if kinds:
        q = q.where(p.c.kind.in_(list(kinds)))
    if classes:
        if run_id is None:
            return []
        q = q.where(ps.c.risk_class.in_(list(classes)))
    q = q.order_by(p.c.id)
    out: list[ParkScoreRow] = []
    with store.connect() as conn:
        for r in conn.execute(q):
            m = r._mapping
            row = ParkScoreRow(id=m["id"], name=m["name"], kind=m["kind"], municipality_code=m["municipality_code"],
                               municipality_name=m["municipality_name"], geom_wkb=m.get("geom_wkb"))
            if run_id is not None and m["score"] is not None:
                row.score = float(m["score"])
                row.risk_class = m["risk_class"]
                row.change = None if m["change"] is None else float(m["change"])
                row.hotspot = m["hotspot"]
                row.hotspot_p = m["hotspot_p"]
                row.themes = {k: float(v or 0) for k, v in (_json(m["themes"]) or {}).items()}
                row.factors = {k: float((v or {}).get("points") or 0) for k, v in (_json(m["factors"]) or {}).items()}
            if themes and not any(row.themes.get(t, 0) > 0 for t in themes):
                continue
            out.append(row)
    return out


def park_features(rows: Sequence[ParkScoreRow], labels: dict[str, str], n_factors: int = 3) -> list[ParkFeature]:
    """Rows as the map core's :class:`~service.maps.ParkFeature` (factor ids replaced by ``labels``)."""
    geoms = shapely.from_wkb([r.geom_wkb for r in rows]) if rows else []
    return [ParkFeature(id=r.id, name=r.name, geom_rd=g, score=r.score, risk_class=r.risk_class,
                        top_factors=[(labels.get(fid, fid), pts) for fid, pts in r.top_factors(n_factors)],
                        hotspot=r.hotspot, hotspot_p=r.hotspot_p, municipality=r.municipality_name, kind=r.kind)
            for r, g in zip(rows, geoms)]


# -- signals ----------------------------------------------------------------------------------------------
def recent_signals(store: Store, since: dt.date, park_ids: Iterable[int] | None = None,
                   limit: int = 50_000) -> list[SignalPoint]:
    """Located signals dated ``since`` or later (of ``park_ids`` when given), newest first."""
    s = schema.signals
    q = (sa.select(s.c.x, s.c.y, s.c.type, s.c.date, s.c.subtype, s.c.park_id)
         .where(s.c.date >= since, s.c.x.is_not(None), s.c.y.is_not(None))
         .order_by(s.c.date.desc(), s.c.id.desc()).limit(limit))
    out: list[SignalPoint] = []
    with store.connect() as conn:
        if park_ids is None:
            rows: Iterable[Any] = conn.execute(q).all()
        else:
            ids = sorted({int(i) for i in park_ids})
            rows = []
            for i in range(0, len(ids), 500):
                rows.extend(conn.execute(q.where(s.c.park_id.in_(ids[i:i + 500]))).all())
    for r in rows:
        out.append(SignalPoint(x=float(r.x), y=float(r.y), type=r.type, date=_iso(r.date), subtype=r.subtype,
                               park_id=r.park_id))
    return out


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def park_signals(store: Store, park_id: int, limit: int = 500) -> tuple[list[dict[str, Any]], int]:
    """A park's signals, newest first (at most ``limit``), and how many it has in all."""
    s = schema.signals
    with store.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(s).where(s.c.park_id == park_id)).scalar_one()
        rows = conn.execute(sa.select(s.c.id, s.c.source, s.c.type, s.c.subtype, s.c.date, s.c.x, s.c.y,
                                      s.c.assignment, s.c.distance_m, s.c.attributes)
                            .where(s.c.park_id == park_id).order_by(s.c.date.desc(), s.c.id.desc()).limit(limit)).all()
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
    with store.connect() as conn:
        rows = conn.execute(sa.select(s.c.type, sa.func.max(s.c.date)).where(s.c.park_id == park_id)
                            .group_by(s.c.type)).all()
    return {t: _iso(d) for t, d in rows}


def last_inspections(store: Store, park_ids: Iterable[int] | None = None) -> dict[int, dt.date]:
    """Per park, the date of its latest inspection signal (visits included)."""
    s = schema.signals
    q = (sa.select(s.c.park_id, sa.func.max(s.c.date)).where(s.c.type == "inspection", s.c.park_id.is_not(None))
         .group_by(s.c.park_id))
    with store.connect() as conn:
        rows = conn.execute(q).all()
    wanted = None if park_ids is None else {int(i) for i in park_ids}
    out = {}
    for pid, d in rows:
        if wanted is not None and int(pid) not in wanted:
            continue
        out[int(pid)] = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
    return out


def reference_date(store: Store, run: dict[str, Any] | None) -> dt.date:
    """The date 'the last 12 months' and 'days since' count back from: the run's as-of date, else the newest
    signal, else today. Scores describe the situation on their as-of date, so the map's signals do too."""
    if run and run.get("as_of"):
        return dt.date.fromisoformat(str(run["as_of"])[:10])
    with store.connect() as conn:
        latest = conn.execute(sa.select(sa.func.max(schema.signals.c.date))).scalar()
    if latest is None:
        return dt.date.today()
    return latest if isinstance(latest, dt.date) else dt.date.fromisoformat(str(latest))


# -- worklist ---------------------------------------------------------------------------------------------
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
        out.append(WorkItem(rank=i, park=r, last_inspection=d, days_since_inspection=None if d is None else (as_of - d).days,
                            reasons=[(labels.get(fid, fid), pts) for fid, pts in r.top_factors(3)]))
    return out


# -- cache key ---------------------------------------------------------------------------------------------
def data_version(store: Store) -> tuple[Any, ...]:
    """Changes whenever what the risk map shows may change: a run is published, an incremental update
    rewrites scores, parks are imported or changed, signals arrive. Four indexed aggregates; cheap."""
    r, u, p, s = schema.score_runs, schema.score_updates, schema.parks, schema.signals
    with store.connect() as conn:
        run = conn.execute(sa.select(r.c.id).where(r.c.status == "published")).scalar()
        upd = conn.execute(sa.select(sa.func.max(u.c.id))).scalar()
        parks = conn.execute(sa.select(sa.func.count(), sa.func.max(sa.cast(p.c.updated_at, sa.String)))).one()
        sig = conn.execute(sa.select(sa.func.max(s.c.id))).scalar()
    return (run, upd, int(parks[0]), str(parks[1]), sig)


# -- the one write: a visit ------------------------------------------------------------------------------
def record_visit(store: Store, settings: Settings, park_id: int, *, visit_id: str, date: dt.date, violation: bool,
                 categories: Sequence[str], remark: str, index: ParkIndex | None = None) -> ImportResult:
    """Store a visit as an ``inspection`` signal of the park (source ``bezoek``) through the ordinary import.

    ``visit_id`` comes from the form, so sending the same form twice stores one visit, not two.
    """
    record: dict[str, Any] = {
        "source_id": f"{VISIT_SOURCE}-{uuid.UUID(visit_id).hex}",
        "type": "inspection",
        "subtype": "bezoek",
        "date": date.isoformat(),
        "park_id": int(park_id),
        "violation": "yes" if violation else "no",
        "categories": ";".join(categories),
    }
    if remark:
        record["attributes"] = {"remark": remark}
    return import_signal_records(store, [record], settings=settings, source=VISIT_SOURCE, index=index, name="web")


def rescore(store: Store, settings: Settings, park_ids: Sequence[int], index: ParkIndex | None = None) -> dict[str, Any]:
    """Re-score parks at once inside the published run (the scoring package's incremental update)."""
    return scoring.rescore_parks(store, settings, park_ids, index=index, reason="bezoek vastgelegd (web)")

"""Reading scores back: the published run, one park's score with its explanation, a park's history.

Every function returns plain dicts (JSON-ready: dates as ISO text), so the web and API layers only render.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import Store, connection, in_groups, schema
from ..vocab import THEMES
from .explain import ADJUSTMENT
from .model import Model
from .model_file import parse_model

__all__ = ["published_run", "published_run_id", "get_run", "park_score", "park_history", "list_runs", "run_model",
           "score_updates", "RunScore", "run_scores", "top_factors"]

_RUN_FIELDS = ("id", "model_version", "model_hash", "model_path", "as_of", "status", "started_at", "finished_at",
               "input_counts", "timings", "error", "previous_run_id")


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _run_dict(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {k: _plain(m[k]) for k in _RUN_FIELDS}


@lru_cache(maxsize=16)
def _model_from_text(text: str) -> Model:
    return parse_model(text)


def run_model(store: Store | Connection, run_id: int) -> Model:
    """The exact model a run used (parsed from the text stored with it)."""
    r = schema.score_runs
    with connection(store) as conn:
        text = conn.execute(sa.select(r.c.model_text).where(r.c.id == run_id)).scalar()
    if text is None:
        raise KeyError(run_id)
    return _model_from_text(text)


def published_run(store: Store) -> dict[str, Any] | None:
    """The one published run (id, model version and hash, as_of, counts, timings), or None."""
    r = schema.score_runs
    with store.connect() as conn:
        row = conn.execute(sa.select(r).where(r.c.status == "published")).first()
    return _run_dict(row) if row is not None else None


def get_run(store: Store, run_id: int) -> dict[str, Any] | None:
    """One run, whatever its status, or None."""
    r = schema.score_runs
    with connection(store) as conn:
        row = conn.execute(sa.select(r).where(r.c.id == run_id)).first()
    return _run_dict(row) if row is not None else None


def list_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """Recent runs, newest first, whatever their status."""
    r = schema.score_runs
    with store.connect() as conn:
        rows = conn.execute(sa.select(r).order_by(r.c.id.desc()).limit(limit)).all()
    return [_run_dict(row) for row in rows]


def park_score(store: Store, park_id: int, run_id: int | None = None) -> dict[str, Any] | None:
    """A park's score in the published run (or ``run_id``), decomposed: themes and factors with labels.

    Factors come in the model's order, each with theme, labels, weight, raw and normalised value, points and
    the signal ids behind it. None when the park has no score in that run.
    """
    r, ps, p = schema.score_runs, schema.park_scores, schema.parks
    with store.connect() as conn:
        if run_id is None:
            run_id = conn.execute(sa.select(r.c.id).where(r.c.status == "published")).scalar()
            if run_id is None:
                return None
        row = conn.execute(
            sa.select(ps, r.c.as_of.label("run_as_of"), r.c.status, r.c.model_version, r.c.model_hash, p.c.name)
            .join(r, r.c.id == ps.c.run_id).join(p, p.c.id == ps.c.park_id)
            .where(ps.c.run_id == run_id, ps.c.park_id == park_id)
        ).first()
        if row is None:
            return None
        model = run_model(conn, run_id)
    m = row._mapping
    stored = m["factors"] or {}
    factors = []
    for f in model.factors:
        entry = stored.get(f.id, {"raw": None, "normalised": None, "points": 0.0})
        factors.append({"id": f.id, "theme": f.theme, "label_nl": f.label_nl, "label_en": f.label_en,
                        "weight": f.weight, "citation": f.citation, **entry})
    if ADJUSTMENT in stored:
        factors.append({"id": ADJUSTMENT, "theme": None, "label_nl": "Ondergrens 0", "label_en": "Floor at 0",
                        "weight": None, **stored[ADJUSTMENT]})
    themes = {t: {"points": (m["themes"] or {}).get(t, 0.0), **model.themes[t],
                  "weight": sum(f.weight for f in model.factors if f.theme == t)} for t in THEMES}
    return {
        "park_id": int(park_id), "park_name": m["name"], "run_id": int(run_id), "run_status": m["status"],
        "as_of": _plain(m["as_of"] or m["run_as_of"]), "run_as_of": _plain(m["run_as_of"]),
        "model_version": m["model_version"], "model_hash": m["model_hash"],
        "score": m["score"], "risk_class": m["risk_class"], "change": m["change"],
        "previous_score": m["previous_score"], "hotspot": m["hotspot"], "hotspot_p": m["hotspot_p"],
        "themes": themes, "factors": factors, "freshness": m["freshness"] or {},
        "updated_at": _plain(m["updated_at"]), "incremental": bool(m["incremental"]),
    }


def park_history(store: Store, park_id: int) -> list[dict[str, Any]]:
    """A park's score in every run that was ever published (oldest first), with incremental updates noted."""
    r, ps, u = schema.score_runs, schema.park_scores, schema.score_updates
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(ps.c.run_id, r.c.as_of, r.c.status, r.c.model_version, r.c.model_hash, r.c.finished_at,
                      ps.c.score, ps.c.risk_class, ps.c.change, ps.c.hotspot, ps.c.updated_at, ps.c.incremental)
            .join(r, r.c.id == ps.c.run_id)
            .where(ps.c.park_id == park_id, r.c.status.in_(("published", "superseded")))
            .order_by(r.c.as_of, r.c.id)
        ).all()
        run_ids = [row.run_id for row in rows]
        updates: dict[int, int] = {}
        if run_ids:
            for run, rescored in conn.execute(sa.select(u.c.run_id, u.c.rescored).where(u.c.run_id.in_(run_ids))):
                if int(park_id) in {int(x) for x in (rescored or [])}:
                    updates[run] = updates.get(run, 0) + 1
    return [{
        "run_id": row.run_id, "as_of": _plain(row.as_of), "status": row.status, "model_version": row.model_version,
        "model_hash": row.model_hash, "published_at": _plain(row.finished_at), "score": row.score,
        "risk_class": row.risk_class, "change": row.change, "hotspot": row.hotspot,
        "updated_at": _plain(row.updated_at), "incremental": bool(row.incremental),
        "incremental_updates": updates.get(row.run_id, 0),
    } for row in rows]


def score_updates(store: Store, run_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The audit of incremental updates (newest first), of one run or of all."""
    u = schema.score_updates
    q = sa.select(u).order_by(u.c.id.desc()).limit(limit)
    if run_id is not None:
        q = q.where(u.c.run_id == run_id)
    with store.connect() as conn:
        return [{k: _plain(v) for k, v in row._mapping.items()} for row in conn.execute(q)]


def published_run_id(store: Store | Connection) -> int | None:
    """The id of the published run, or None when nothing is scored yet."""
    r = schema.score_runs
    with connection(store) as conn:
        run_id = conn.execute(sa.select(r.c.id).where(r.c.status == "published")).scalar()
    return None if run_id is None else int(run_id)


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # drivers without JSON support hand back text


@dataclass(frozen=True)
class RunScore:
    """A park's score in one run, in brief: what maps, lists and exports show (no signal ids)."""

    park_id: int
    score: float
    risk_class: str
    change: float | None
    hotspot: str | None
    hotspot_p: float | None
    themes: dict[str, float] = field(default_factory=dict)  # theme -> points
    factors: dict[str, float] = field(default_factory=dict)  # factor id -> points

    def top_factors(self, n: int = 3) -> list[tuple[str, float]]:
        return top_factors(self.factors, n)


def top_factors(points: dict[str, float], n: int = 3) -> list[tuple[str, float]]:
    """The ``n`` factors with the most points (ties by id), only those with points above zero."""
    items = [(fid, pts) for fid, pts in points.items() if fid != ADJUSTMENT and pts > 0]
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))[:n]


def run_scores(store: Store | Connection, run_id: int, park_ids: Iterable[int] | None = None) -> dict[int, RunScore]:
    """Every park's score in ``run_id`` (or only ``park_ids``'), keyed by park id: the bulk reader."""
    ps = schema.park_scores
    q = sa.select(ps.c.park_id, ps.c.score, ps.c.risk_class, ps.c.change, ps.c.hotspot, ps.c.hotspot_p,
                  ps.c.themes, ps.c.factors).where(ps.c.run_id == run_id)
    out: dict[int, RunScore] = {}
    with connection(store) as conn:
        if park_ids is None:
            groups: Iterable[Any] = [conn.execute(q)]
        else:
            ids = sorted({int(i) for i in park_ids})
            groups = (conn.execute(q.where(ps.c.park_id.in_(group))) for group in in_groups(ids))
        for rows in groups:
            for m in (r._mapping for r in rows):
                out[int(m["park_id"])] = RunScore(
                    park_id=int(m["park_id"]), score=float(m["score"]), risk_class=m["risk_class"],
                    change=None if m["change"] is None else float(m["change"]), hotspot=m["hotspot"],
                    hotspot_p=m["hotspot_p"],
                    themes={k: float(v or 0) for k, v in (_json_value(m["themes"]) or {}).items()},
                    factors={k: float((v or {}).get("points") or 0)
                             for k, v in (_json_value(m["factors"]) or {}).items()})
    return out

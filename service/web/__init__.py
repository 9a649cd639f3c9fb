"""HTML views for enforcement officers (templates live in ``templates/``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from .. import runtime
from ..ingest import iter_batches
from ..store import schema

bp = Blueprint("web", __name__)

__all__ = ["bp"]


@bp.get("/")
def index() -> str:
    rt = runtime()
    p = schema.parks
    with rt.store.connect() as conn:
        n_parks = conn.execute(sa.select(sa.func.count()).select_from(p)).scalar_one()
        n_signals = conn.execute(sa.select(sa.func.count()).select_from(schema.signals)).scalar_one()
        demo = conn.execute(sa.select(sa.func.count()).select_from(p).where(p.c.source == "demo")).scalar_one()
    return render_template("index.html", n_parks=n_parks, n_signals=n_signals, demo=demo > 0,
                           batches=iter_batches(rt.store, limit=10))


@bp.app_errorhandler(404)
def not_found(_exc: Exception) -> tuple[str, int]:
    return render_template("error.html", title="Niet gevonden", message="Deze pagina of dit park bestaat niet."), 404

"""The governance pages: the model card (every signed-in user) and the audit log (admins), with filters."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _

from .. import audit, modelcard
from ..access import SIGNED_IN, requires
from ..app import runtime
from ..auth.trail import audit_event
from . import bp

__all__ = ["model_card", "audit_log", "AUDIT_PAGE_SIZE"]

AUDIT_PAGE_SIZE = 100


@bp.get("/model")
@requires(SIGNED_IN)
def model_card() -> str:
    """How the model works, generated from the model of the published run, the latest runs and backtest."""
    rt = runtime()
    card = modelcard.model_card(rt.store, rt.settings)
    return render_template("model.html", card=card, register=modelcard.algoritmeregister(card))


def _date(name: str, messages: list[str]) -> dt.date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        messages.append(_("'%(value)s' is geen datum (gebruik JJJJ-MM-DD); dit filter is genegeerd.",
                          value=text[:40]))
        return None


@bp.get("/admin/audit")
@requires("admin")
def audit_log() -> str:
    """The audit trail, newest first, filtered by period, user, action and target; reading it is audited too."""
    messages: list[str] = []
    filters: dict[str, Any] = {"since": _date("since", messages), "until": _date("until", messages),
                               "user": (request.args.get("user") or "").strip()[:100] or None,
                               "action": (request.args.get("action") or "").strip()[:40] or None,
                               "target": (request.args.get("target") or "").strip()[:200] or None}
    try:
        page = min(max(int(request.args.get("page", 1)), 1), 100_000)
    except ValueError:
        page = 1
    total, rows = audit.entries(runtime().store, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE,
                                **filters)
    audit_event("audit.view", "audit_log", filters={k: str(v) for k, v in filters.items() if v is not None},
                page=page)
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return render_template("audit.html", rows=rows, total=total, page=page, pages=pages, messages=messages,
                           filters={k: ("" if v is None else str(v)) for k, v in filters.items()},
                           actions=audit.ACTIONS)

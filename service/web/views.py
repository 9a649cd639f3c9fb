"""Routes of the officers' pages; each reads its input, calls :mod:`.pages` and renders a template."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import (
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from .. import reads, visits
from ..access import requires
from ..app import runtime
from ..auth.guard import current_principal
from ..auth.trail import audit_event, audited
from ..ingest import ImportConflict, ImportResult
from ..vocab import INSPECTION_CATEGORIES, PARK_KINDS, RISK_CLASSES
from . import bp, pages
from .forms import VisitForm, csrf_valid, parse_visit
from .i18n import CATEGORY_LABELS
from .plans_views import after_visit, park_plan_context, visit_extras

__all__ = ["risk_map", "park_page", "record_visit", "worklist", "worklist_csv", "imports"]


@bp.get("/")
@requires("officer")
def risk_map() -> Response:
    page = pages.risk_map_page(runtime())
    g.csp_script_hashes = page.parts.script_hashes
    resp = Response(render_template("index.html", page=page, kinds=PARK_KINDS, classes=RISK_CLASSES))
    resp.headers["X-Parkwacht-Map-Cache"] = "hit" if page.cache_hit else "miss"
    return resp


def _role() -> str | None:
    p = current_principal()
    return p.role if p is not None else None


def _park_response(park_id: int, form: VisitForm, status: int = 200) -> tuple[str, int]:
    data = pages.park_page(runtime(), park_id, _role())
    g.csp_script_hashes = data["map"].script_hashes
    planning = park_plan_context(park_id, data["factors"])
    return render_template("park.html", **data, form=form, planning=planning, categories=INSPECTION_CATEGORIES,
                           category_labels=CATEGORY_LABELS, today=runtime().settings.day().isoformat()), status


@bp.get("/parks/<int:park_id>")
@requires("officer")
@audited("park.view", "park:{park_id}")
def park_page(park_id: int) -> tuple[str, int]:
    return _park_response(park_id, VisitForm.blank(runtime().settings.day()))


@bp.post("/parks/<int:park_id>/visits")
@requires("officer")
def record_visit(park_id: int):
    """Record a visit (post/redirect/get): stored as an inspection signal, then the park is re-scored."""
    rt = runtime()
    reads.park(rt.store, park_id)  # NotFound -> 404 before anything is read from the form
    if not csrf_valid(request.form.get("csrf_token")):
        abort(400, description=_("Het formulier is verlopen of niet van deze site; laad de pagina opnieuw."))
    form = parse_visit(request.form, rt.settings.day())
    plan_id, referred, problem = visit_extras(request.form)
    if problem:
        form.errors["referrals"] = problem
    if not form.ok or form.date is None:
        return _park_response(park_id, form, 422)
    officer = current_principal()
    date = form.date

    def store_visit() -> ImportResult:
        return visits.record_visit(rt.store, rt.settings, park_id, visit_id=form.visit_id, date=date,
                                   violation=bool(form.violation), categories=form.categories, remark=form.remark,
                                   index=rt.park_index(), recorded_by=officer.name if officer else None,
                                   recorded_by_id=officer.user_id if officer else None)

    try:
        result = store_visit()
    except ImportConflict:  # the same form sent twice at once: the other request stored it; this one finds it
        result = store_visit()
    corrected = visits.is_correction(result)
    if result.stored:
        audit_event("visit.correct" if corrected else "visit.record", f"park:{park_id}", batch_id=result.batch_id,
                    signal_ids=result.signal_ids, violation=bool(form.violation))
    if result.stored == 0 and result.rejected:
        reasons = "; ".join(r["reason"] for r in reads.rejected_rows(rt.store, result.batch_id))
        form.errors["form"] = _("Het bezoek is niet opgeslagen: %(reason)s", reason=reasons)
        return _park_response(park_id, form, 422)
    after_visit(park_id, form.visit_id, plan_id, referred)
    if result.stored == 0:
        flash(_("Dit bezoek was al vastgelegd."), "info")
    else:
        if corrected:
            flash(_("Correctie vastgelegd: dit bezoek was al vastgelegd met andere antwoorden. Beide versies staan "
                    "in de geschiedenis van het bezoek."), "warning")
        outcome = visits.rescore_visited(rt.store, rt.settings, [park_id], index=rt.park_index())
        if outcome.get("status") == "updated":
            if outcome.get("signals_after_as_of"):
                flash(_("Bezoek vastgelegd. Het telt mee vanaf de volgende volledige run: het ligt na de "
                        "peildatum %(date)s van de gepubliceerde scores.", date=outcome.get("as_of")), "warning")
            else:
                flash(_("Bezoek vastgelegd en de score van het park is opnieuw berekend."), "success")
        else:
            flash(_("Bezoek vastgelegd. Er zijn nog geen scores gepubliceerd; het telt mee in de eerste run."), "info")
    return redirect(url_for("web.park_page", park_id=park_id) + "#bezoek", code=303)


@bp.get("/worklist")
@requires("officer")
def worklist() -> str:
    data = pages.worklist_page(runtime())
    return render_template("worklist.html", **data, classes=RISK_CLASSES,
                           csv_query=urlencode(data["filter"].query()))


@bp.get("/worklist.csv")
@requires("officer")
@audited("export", "worklist.csv")
def worklist_csv() -> Response:
    body = pages.worklist_csv(runtime())
    name = f"parkwacht-werklijst-{dt.date.today().isoformat()}.csv"
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/imports")
@requires("admin")
def imports() -> str:
    return render_template("imports.html", batches=reads.iter_batches(runtime().store, limit=20))

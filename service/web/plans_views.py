"""Officers' planned visits: plan a visit together, my visits (and their iCalendar feed), the referrals view."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import plans, reads, visits
from ..access import requires
from ..app import runtime
from ..auth.guard import current_principal
from ..auth.trail import audit_event, audited
from . import bp
from .i18n import partner_label, referral_label

__all__ = ["plan_visit", "my_visits", "my_visits_ics", "referrals_view", "park_plan_context", "visit_extras",
           "after_visit"]


def park_plan_context(park_id: int, factors: list[dict[str, Any]]) -> dict[str, Any]:
    """What the park page needs to plan a visit and to show the open plans and referrals."""
    rt = runtime()
    top = sorted((f for f in factors if (f.get("points") or 0) > 0), key=lambda f: -(f.get("points") or 0))[:3]
    return {"plans": plans.plans_for_park(rt.store, park_id), "referrals": plans.open_referrals(rt.store, park_id),
            "officers": plans.officers(rt.store), "partners": plans.partner_keys(rt.settings.visit_partners),
            "purposes": [(f.get("label") or f["id"]) for f in top], "referral_domains": plans.REFERRAL_DOMAINS,
            "partner_label": partner_label, "referral_label": referral_label,
            "me": getattr(current_principal(), "user_id", None), "corrections": visits.corrections(rt.store, park_id)}


def visit_extras(form: Any) -> tuple[int | None, dict[str, int], str | None]:
    """The visit form's plan it closes and the households referred per domain (with an error, if any)."""
    plan_id = int(form["plan_id"]) if str(form.get("plan_id", "")).isdigit() else None
    counts: dict[str, int] = {}
    for domain in plans.REFERRAL_DOMAINS:
        text = str(form.get(f"ref_{domain}", "") or "").strip()
        if not text:
            continue
        if not text.isdigit() or not 0 <= int(text) <= 999:
            return plan_id, {}, _("Verwijzingen: vul per domein een aantal huishoudens van 0 tot 999 in.")
        counts[domain] = int(text)
    return plan_id, counts, None


def after_visit(park_id: int, visit_id: str, plan_id: int | None, counts: dict[str, int]) -> None:
    """Close the planned visit this outcome belongs to and record the referrals (both once per visit)."""
    rt = runtime()
    me = current_principal()
    if plan_id is not None and plans.close_plan(rt.store, plan_id, park_id, visit_id):
        audit_event("plan.close", f"park:{park_id}", plan_id=plan_id)
    if counts and plans.add_referrals(rt.store, park_id, visit_id, counts, plan_id=plan_id,
                                      created_by=me.user_id if me else None):
        audit_event("referral.record", f"park:{park_id}", domains=sorted(counts))


@bp.post("/parks/<int:park_id>/plans")
@requires("officer")
def plan_visit(park_id: int):
    """Plan a visit to a park: the day, the officers going, the partners joining and the purpose."""
    from .forms import csrf_valid

    rt = runtime()
    reads.park(rt.store, park_id)  # 404 first
    if not csrf_valid(request.form.get("csrf_token")):
        abort(400, description=_("Het formulier is verlopen of niet van deze site; laad de pagina opnieuw."))
    me = current_principal()
    try:
        day = dt.date.fromisoformat(request.form.get("planned_for", ""))
    except ValueError:
        day = None
    officer_ids = [int(v) for v in request.form.getlist("officers") if v.isdigit()]
    if me is not None and me.role == "officer" and me.user_id not in officer_ids:
        officer_ids.append(me.user_id)
    if day is None or day < rt.settings.day():
        flash(_("Het bezoek is niet gepland: kies een datum vanaf vandaag."), "warning")
    else:
        try:
            plan_id = plans.create_plan(
                rt.store, park_id, day, officer_ids=officer_ids, partners=request.form.getlist("partners"),
                purpose=(request.form.get("purpose") or "algemeen").strip(), created_by=me.user_id if me else None,
                allowed_partners=plans.partner_keys(rt.settings.visit_partners))
        except plans.PlanError as exc:
            flash(_("Het bezoek is niet gepland: %(reason)s", reason=str(exc)), "warning")
        else:
            audit_event("plan.create", f"park:{park_id}", plan_id=plan_id)
            flash(_("Bezoek gepland op %(date)s.", date=day.isoformat()), "success")
    return redirect(url_for("web.park_page", park_id=park_id) + "#plannen", code=303)


def _my_plans() -> list[dict[str, Any]]:
    rt = runtime()
    me = current_principal()
    return plans.plans_for_officer(rt.store, me.user_id) if me is not None else []


@bp.get("/visits")
@requires("officer")
@audited("plans.view", "visits:mine")
def my_visits() -> str:
    return render_template("visits.html", plans=_my_plans(), partner_label=partner_label)


@bp.get("/visits.ics")
@requires("officer")
@audited("plans.view", "visits:ics")
def my_visits_ics() -> Response:
    """The officer's planned visits as an iCalendar feed (subscribe with a bearer token in the agenda)."""
    rows = _my_plans()
    for r in rows:
        r["summary"] = _("Parkbezoek: %(park)s", park=r["park_name"] or r["park_id"])

    def describe(plan: dict[str, Any]) -> str:
        partners = ", ".join(partner_label(p) for p in plan["partners"] or []) or "–"
        return _("Doel: %(purpose)s. Officieren: %(officers)s. Partners: %(partners)s. %(url)s",
                 purpose=plan["purpose"], officers=", ".join(plan["officer_names"]), partners=partners,
                 url=url_for("web.park_page", park_id=plan["park_id"], _external=True))

    body = plans.ical(rows, host=request.host.split(":")[0] or "parkwacht", summary=_("Parkwacht: mijn bezoeken"),
                      describe=describe, stamp=dt.datetime.now(dt.UTC))
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="parkwacht-bezoeken.ics"', "Cache-Control": "no-store"})


@bp.get("/referrals")
@requires("officer")
@audited("referrals.view", "referrals")
def referrals_view() -> str:
    """Open referrals to the social domain per park: households per domain, never persons, never a score."""
    rows = plans.referral_counts(runtime().store)
    return render_template("referrals.html", rows=rows, domains=plans.REFERRAL_DOMAINS, referral_label=referral_label)

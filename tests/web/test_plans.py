"""Visits planned together: plan, my visits, the iCalendar feed, the outcome closes the plan, referrals, filters."""
from __future__ import annotations

import re

import sqlalchemy as sa

from service import plans, visits
from service.app import runtime
from service.store import schema
from tests.signin import add_user

TODAY = "2025-12-31"  # the tests' pinned day


def _csrf(client, park_id: int) -> str:
    page = client.get(f"/parks/{park_id}").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _visit_id(client, park_id: int) -> str:
    page = client.get(f"/parks/{park_id}").get_data(as_text=True)
    return re.search(r'name="visit_id" value="([^"]+)"', page).group(1)


def _plan(client, park_id: int, **extra) -> object:
    data = {"csrf_token": _csrf(client, park_id), "planned_for": TODAY, "purpose": "Overbewoning",
            "partners": ["politie", "sociaal_domein"], **extra}
    return client.post(f"/parks/{park_id}/plans", data=data)


def test_an_officer_plans_a_visit_together_and_sees_it_in_my_visits_and_the_agenda(demo_client, demo_app):
    store = runtime(demo_app).store
    colleague, _token = add_user(store, "officer", name="collega-jansen")
    resp = _plan(demo_client, 3, officers=[str(colleague.id)])
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/parks/3#plannen")
    page = demo_client.get("/parks/3").get_data(as_text=True)
    assert "Bezoek gepland op 2025-12-31" in page
    assert "collega-jansen" in page and "fixture-officer" in page and "Politie" in page and "Sociaal domein" in page
    mine = demo_client.get("/visits").get_data(as_text=True)
    assert 'data-plan-id="' in mine and "Overbewoning" in mine
    ics = demo_client.get("/visits.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    body = ics.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.rstrip().endswith("END:VCALENDAR")
    assert "DTSTART;VALUE=DATE:20251231" in body and "DTEND;VALUE=DATE:20260101" in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    assert "SUMMARY:Parkbezoek:" in body
    with store.connect() as conn:
        row = conn.execute(sa.select(schema.audit_log.c.action)
                           .where(schema.audit_log.c.action == "plan.create")).first()
    assert row is not None


def test_plans_refuse_unknown_partners_and_past_days(demo_client, demo_app):
    _plan(demo_client, 4, partners=["geheime_dienst"])
    page = demo_client.get("/parks/4").get_data(as_text=True)
    assert "niet gepland" in page and "geheime_dienst" in page
    _plan(demo_client, 4, planned_for="2025-01-01")
    assert "kies een datum vanaf vandaag" in demo_client.get("/parks/4").get_data(as_text=True)
    assert plans.plans_for_park(runtime(demo_app).store, 4) == []


def test_the_outcome_closes_the_plan_and_referrals_never_add_to_the_score(demo_client, demo_app):
    store = runtime(demo_app).store
    _plan(demo_client, 6)
    plan = plans.plans_for_park(store, 6)[0]
    form = {"csrf_token": _csrf(demo_client, 6), "visit_id": _visit_id(demo_client, 6), "date": TODAY,
            "violation": "no", "plan_id": str(plan["id"]), "ref_dakloosheid": "2",
            "ref_uitbuiting_arbeidsmigranten": "1"}
    score_before = _score(demo_client, 6)
    assert demo_client.post("/parks/6/visits", data=form).status_code == 303
    assert plans.plans_for_park(store, 6) == []
    assert plans.get_plan(store, plan["id"])["status"] == "done"
    assert 'data-plan-id="' not in demo_client.get("/visits").get_data(as_text=True)
    page = demo_client.get("/parks/6").get_data(as_text=True)
    assert "Open verwijzingen:" in page and "Dakloosheid (2 huishoudens)" in page
    view = demo_client.get("/referrals").get_data(as_text=True)
    assert 'data-park-id="6"' in view and "Uitbuiting van arbeidsmigranten" in view
    # the same form again stores nothing twice
    assert demo_client.post("/parks/6/visits", data=form).status_code == 303
    assert plans.open_referrals(store, 6) == {"dakloosheid": 2, "uitbuiting_arbeidsmigranten": 1}
    # a visit without a violation may lower a score, never raise it; referrals are no signal and no factor
    assert _score(demo_client, 6) <= score_before
    with store.connect() as conn:
        kinds = conn.execute(sa.select(schema.signals.c.type)
                             .where(schema.signals.c.source == "bezoek")).scalars().all()
    assert kinds == ["inspection"]


def test_a_bad_referral_count_is_a_form_error(demo_client):
    form = {"csrf_token": _csrf(demo_client, 7), "visit_id": _visit_id(demo_client, 7), "date": TODAY,
            "violation": "no", "ref_schulden": "veel"}
    resp = demo_client.post("/parks/7/visits", data=form)
    assert resp.status_code == 422 and "aantal huishoudens van 0 tot 999" in resp.get_data(as_text=True)


def test_worklist_filters_planned_unplanned_and_visited(demo_client):
    _plan(demo_client, 8)
    planned = demo_client.get("/worklist?plan=planned&limit=10000").get_data(as_text=True)
    assert re.findall(r'<tr data-park-id="(\d+)"', planned) == ["8"]
    unplanned = demo_client.get("/worklist?plan=unplanned&limit=10000").get_data(as_text=True)
    assert 'data-park-id="8"' not in unplanned and unplanned.count("<tr data-park-id=") > 200
    form = {"csrf_token": _csrf(demo_client, 9), "visit_id": _visit_id(demo_client, 9), "date": TODAY,
            "violation": "no"}
    demo_client.post("/parks/9/visits", data=form)
    visited = demo_client.get("/worklist?visited=yes&months=1&limit=10000").get_data(as_text=True)
    assert re.findall(r'<tr data-park-id="(\d+)"', visited) == ["9"]
    not_visited = demo_client.get("/worklist?visited=no&months=1&limit=10000").get_data(as_text=True)
    assert 'data-park-id="9"' not in not_visited
    bad = demo_client.get("/worklist?months=abc").get_data(as_text=True)
    assert "1 tot 120" in bad


def _score(client, park_id: int) -> float:
    page = client.get(f"/parks/{park_id}").get_data(as_text=True)
    return float(re.search(r'id="score-value" data-score="([0-9.]+)"', page).group(1))


def test_resubmitting_a_visit_with_other_answers_is_an_explicit_correction_with_history(demo_client, demo_app):
    store = runtime(demo_app).store
    visit_id = _visit_id(demo_client, 10)
    first = {"csrf_token": _csrf(demo_client, 10), "visit_id": visit_id, "date": TODAY, "violation": "no"}
    assert demo_client.post("/parks/10/visits", data=first).status_code == 303
    second = {**first, "violation": "yes", "categories": ["fire_safety"]}
    assert demo_client.post("/parks/10/visits", data=second).status_code == 303
    page = demo_client.get("/parks/10").get_data(as_text=True)
    assert "Correctie vastgelegd" in page and "Beide versies" in page and "Correcties van bezoeken" in page
    with store.connect() as conn:
        rows = conn.execute(sa.select(schema.signals).where(schema.signals.c.source == "bezoek",
                                                            schema.signals.c.park_id == 10)).all()
        actions = conn.execute(sa.select(schema.audit_log.c.action).where(
            schema.audit_log.c.target == "park:10")).scalars().all()
    assert len(rows) == 1 and rows[0]._mapping["attributes"]["violation"] is True
    assert "visit.record" in actions and "visit.correct" in actions
    history = visits.corrections(store, 10)
    assert len(history) == 1 and history[0]["changes"]

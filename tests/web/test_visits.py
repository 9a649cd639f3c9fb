"""Recording a visit: CSRF, validation messages, post/redirect/get, the signal stored, the park re-scored."""
from __future__ import annotations

import re

import sqlalchemy as sa

from service.app import create_app, runtime
from service.store import schema
from tests.signin import TokenClient, add_user


def _form(client, park_id: int) -> dict[str, str]:
    page = client.get(f"/parks/{park_id}").get_data(as_text=True)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "visit_id": re.search(r'name="visit_id" value="([^"]+)"', page).group(1)}


def _score(client, park_id: int) -> float:
    page = client.get(f"/parks/{park_id}").get_data(as_text=True)
    return float(re.search(r'id="score-value" data-score="([0-9.]+)"', page).group(1))


def test_without_the_csrf_token_nothing_is_stored(demo_client, demo_app):
    resp = demo_client.post("/parks/1/visits", data={"date": "2025-12-01", "violation": "no"})
    assert resp.status_code == 400
    resp = demo_client.post("/parks/1/visits", data={**_form(demo_client, 1), "csrf_token": "forged",
                                                     "date": "2025-12-01", "violation": "no"})
    assert resp.status_code == 400
    with runtime(demo_app).store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.signals)
                            .where(schema.signals.c.source == "bezoek")).scalar_one() == 0


def test_validation_errors_show_the_form_again(demo_client):
    form = _form(demo_client, 1)
    resp = demo_client.post("/parks/1/visits", data={**form, "date": "2999-01-01", "violation": "maybe",
                                                     "categories": ["drugs", "aliens"], "remark": "x" * 1001})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "niet in de toekomst" in html
    assert "Geef aan of er een overtreding" in html
    assert "Onbekende categorie" in html and "aliens" in html
    assert "te lang" in html
    assert 'value="2999-01-01"' in html  # what was typed stays in the form
    resp = demo_client.post("/parks/1/visits", data={**form, "date": "1-2-2025", "violation": "yes"})
    html = resp.get_data(as_text=True)
    assert "geen datum" in html and "minstens één categorie" in html
    resp = demo_client.post("/parks/1/visits", data={**form, "date": "2025-01-02", "violation": "no",
                                                     "categories": "drugs"})
    assert "alleen bij een overtreding" in resp.get_data(as_text=True)


def test_a_visit_is_stored_and_rescores_the_park_at_once(demo_client, demo_app):
    before = _score(demo_client, 1)
    form = {**_form(demo_client, 1), "date": "2025-12-30", "violation": "yes",
            "categories": ["permanent_residence", "overcrowding", "drugs", "fire_safety"],
            "remark": "Stacaravans bewoond"}
    resp = demo_client.post("/parks/1/visits", data=form)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/parks/1#bezoek")
    page = demo_client.get("/parks/1").get_data(as_text=True)
    assert "opnieuw berekend" in page
    assert "Stacaravans bewoond" in page and "bezoek" in page
    after = _score(demo_client, 1)
    assert after > before
    # the same form sent twice stores one visit
    again = demo_client.post("/parks/1/visits", data=form)
    assert again.status_code == 303
    assert "al vastgelegd" in demo_client.get("/parks/1").get_data(as_text=True)
    with runtime(demo_app).store.connect() as conn:
        rows = conn.execute(sa.select(schema.signals).where(schema.signals.c.source == "bezoek")).all()
    assert len(rows) == 1
    row = rows[0]._mapping
    assert row["type"] == "inspection" and row["park_id"] == 1 and row["assignment"] == "explicit"
    assert row["attributes"]["violation"] is True and "drugs" in row["attributes"]["categories"]


def test_a_visit_dated_today_counts_at_once_after_the_run(demo_settings):
    """The run is as of 2025-12-31; on 2026-01-05 a violation found today moves score, class and map at once."""
    import datetime as dt

    later = demo_settings.with_overrides(today=dt.date(2026, 1, 5))
    app = create_app(later)
    _user, token = add_user(runtime(app).store, "officer", name="later-officer")
    app.config.update(TESTING=True, TEST_TOKEN=token)
    app.test_client_class = TokenClient
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    before = _score(client, 2)
    assert "peildatum 2025-12-31" in client.get("/parks/2").get_data(as_text=True)
    form = {**_form(client, 2), "date": "2026-01-05", "violation": "yes",
            "categories": ["permanent_residence", "overcrowding", "fire_safety", "drugs"]}
    assert client.post("/parks/2/visits", data=form).status_code == 303
    page = client.get("/parks/2").get_data(as_text=True)
    assert "opnieuw berekend" in page and "telt mee vanaf de volgende volledige run" not in page
    assert "peildatum 2026-01-05" in page and "De run zelf rekende tot 2025-12-31" in page
    assert _score(client, 2) > before
    runtime(app).store.dispose()


def test_a_visit_after_a_pinned_run_waits_for_the_next_run(demo_settings):
    import datetime as dt

    from service import scoring

    later = demo_settings.with_overrides(today=dt.date(2026, 1, 5))
    app = create_app(later)
    rt = runtime(app)
    scoring.score_run(rt.store, later, as_of=dt.date(2025, 12, 31))
    _user, token = add_user(rt.store, "officer", name="pinned-officer")
    app.config.update(TESTING=True, TEST_TOKEN=token)
    app.test_client_class = TokenClient
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    form = {**_form(client, 2), "date": "2026-01-05", "violation": "no"}
    assert client.post("/parks/2/visits", data=form).status_code == 303
    assert "telt mee vanaf de volgende volledige run" in client.get("/parks/2").get_data(as_text=True)
    rt.store.dispose()

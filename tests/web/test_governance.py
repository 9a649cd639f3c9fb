"""The model card (page, JSON, Algoritmeregister shape), small counts suppressed on pages, visits written as
their officer, and the score/backtest commands that feed the card."""
from __future__ import annotations

import datetime as dt
import re
import threading

import sqlalchemy as sa

from service import audit, modelcard
from service.app import runtime
from service.scoring import backtest
from service.store import schema
from tests.signin import add_user, race_in_step


def _record_backtest(app) -> dict:
    rt = runtime(app)
    result = backtest(rt.store, rt.settings, as_of=dt.date(2024, 12, 31), horizon_days=365)
    modelcard.record_backtest(rt.store, result)
    return result


def test_the_model_card_page(demo_client, demo_app) -> None:
    html = demo_client.get("/model").get_data(as_text=True)
    for text in ("Modelkaart", "2026.1", "nooit tot een sanctie", "never to a sanction", "Kadaster",
                 "Ingeschreven bewoners (BRP) per object", "nationality", "Nog geen backtest"):
        assert text in html, text
    table = html.split('class="table table-sm pw-table pw-factors"')[1].split("</table>")[0]
    card = modelcard.model_card(runtime(demo_app).store, runtime(demo_app).settings)
    assert len(re.findall(r"<tr><td>", table)) == len(card["factors"])
    _record_backtest(demo_app)
    html = demo_client.get("/model").get_data(as_text=True)
    assert "ROC AUC" in html and "alleen eerdere overtredingen" in html and "Feedback loop" in html


def test_the_model_card_as_json_and_for_the_register(demo_app) -> None:
    store = runtime(demo_app).store
    analyst = demo_app.test_client(token=add_user(store, "analyst")[1])
    card = analyst.get("/api/v1/model").get_json()
    assert card["model"]["version"] == "2026.1" and len(card["model"]["sha256"]) == 64
    f = next(f for f in card["factors"] if f["id"] == "brp_residents")
    assert {"theme", "weight", "window_days", "half_life_days", "rationale", "source"} <= set(f)
    assert sum(f["weight"] for f in card["factors"]) == 100
    assert card["classes"]["thresholds"] == {"verhoogd": 22.0, "hoog": 51.0}
    assert card["published_run"]["id"] >= 1 and any("nationality" in x for x in card["not_used"])
    assert any("Kadaster" in d["gaps"] for d in card["data_sources"])
    register = analyst.get("/api/v1/model?format=algoritmeregister").get_json()
    for key in ("naam", "organisatie", "doel_en_impact", "menselijke_tussenkomst", "gebruikte_data", "werking",
                "risicobeheer", "model_hash", "wettelijke_basis"):
        assert register[key], key
    assert "IN TE VULLEN" in register["organisatie"]
    assert analyst.get("/api/v1/model?format=pdf").status_code == 400
    assert demo_app.test_client().get("/api/v1/model").status_code == 403  # an officer reads the page instead


def test_small_person_counts_are_suppressed_for_non_admins(demo_app) -> None:
    store = runtime(demo_app).store
    with store.begin() as conn:
        park = conn.execute(sa.select(schema.parks.c.id).order_by(schema.parks.c.id)).scalars().first()
        conn.execute(schema.signals.insert().values(source="brp", source_id="few", type="registration",
                                                    date=dt.date(2025, 12, 1), park_id=park,
                                                    assignment="explicit", attributes={"residents": 3}, row_hash="x"))
    officer_html = demo_app.test_client().get(f"/parks/{park}").get_data(as_text=True)
    assert "&lt; 5 ingeschreven" in officer_html and "3 ingeschreven" not in officer_html
    admin = demo_app.test_client(token=add_user(store, "admin")[1])
    assert "3 ingeschreven" in admin.get(f"/parks/{park}").get_data(as_text=True)


def _form(client, park_id: int) -> dict[str, str]:
    page = client.get(f"/parks/{park_id}").get_data(as_text=True)
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1),
            "visit_id": re.search(r'name="visit_id" value="([^"]+)"', page).group(1),
            "date": "2025-12-01", "violation": "no"}


def test_a_visit_is_written_as_its_officer_and_audited(demo_client, demo_app) -> None:
    resp = demo_client.post("/parks/2/visits", data=_form(demo_client, 2))
    assert resp.status_code == 303
    store = runtime(demo_app).store
    with store.connect() as conn:
        sid, attrs = conn.execute(sa.select(schema.signals.c.source_id, schema.signals.c.attributes)
                                  .where(schema.signals.c.source == "bezoek")).one()
    assert attrs["recorded_by"] == "fixture-officer" and sid.startswith("bezoek-u")
    (row,) = audit.entries(store, action="visit.record")[1]
    assert row["user_name"] == "fixture-officer" and row["target"] == "park:2"


def test_a_double_submitted_visit_is_stored_once_and_both_end_on_the_park_page(demo_client, demo_app,
                                                                               monkeypatch) -> None:
    form = _form(demo_client, 3)
    race_in_step(monkeypatch)
    cookie = demo_client.get_cookie("parkwacht_session").value
    answers = []

    def submit() -> None:
        c = demo_app.test_client()
        c.set_cookie("parkwacht_session", cookie)
        answers.append(c.post("/parks/3/visits", data=form))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [303, 303]
    assert all(a.headers["Location"].startswith("/parks/3") for a in answers)
    with runtime(demo_app).store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.signals)
                            .where(schema.signals.c.source == "bezoek")).scalar_one() == 1


def test_score_refuses_a_date_before_every_signal_unless_forced(demo_app) -> None:
    runner = demo_app.test_cli_runner()
    before = runner.invoke(args=["runs", "--json"]).output
    out = runner.invoke(args=["score", "--as-of", "1800-01-01"])
    assert out.exit_code != 0 and "every park 'laag'" in out.output and "--force" in out.output
    assert runner.invoke(args=["runs", "--json"]).output == before  # nothing recorded, nothing replaced
    forced = runner.invoke(args=["score", "--as-of", "1800-01-01", "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    rows = audit.entries(runtime(demo_app).store, action="score.run")[1]
    assert [r["detail"]["outcome"] for r in rows] == ["done", "failed"]


def test_backtest_record_feeds_the_card(demo_app) -> None:
    runner = demo_app.test_cli_runner()
    out = runner.invoke(args=["backtest", "--as-of", "2024-12-31", "--horizon", "365", "--record"])
    assert out.exit_code == 0 and "recorded as backtest" in out.output
    card = modelcard.model_card(runtime(demo_app).store, runtime(demo_app).settings)
    assert card["backtest"]["as_of"] == "2024-12-31" and "model" in card["backtest"]["scorers"]
    assert audit.entries(runtime(demo_app).store, action="backtest.record")[0] == 1

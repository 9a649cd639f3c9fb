"""A signal's source belongs to whoever writes it; rejected raw rows keep no personal traits and are for
admins only; a lost race on the same ids is a clean answer, never SQL."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import sqlalchemy as sa

from service import audit
from service.ingest import import_parks
from service.store import schema
from tests.helpers import square, write_geojson
from tests.signin import add_user, bearer, race_in_step


@pytest.fixture
def park_id(store, settings, tmp_path) -> int:
    park = ({"source_id": "A", "name": "Park A"}, square(180_000, 470_000, 200))
    path = write_geojson(tmp_path / "p.geojson", [park], crs="urn:ogc:def:crs:EPSG::28992")
    import_parks(store, path, settings=settings, source="t")
    return 1


def _signal(park_id: int, sid: str = "s1", kind: str = "inspection", **extra):
    return {"source_id": sid, "type": kind, "date": "2024-03-01", "park_id": park_id, **extra}


def test_a_client_writes_only_its_own_source(client, store, park_id) -> None:
    feed = bearer(add_user(store, "analyst", sources=["toezicht"])[1])
    assert client.post("/api/v1/signals?source=demo", json=[_signal(park_id, violation=False)]).status_code == 201
    first = client.post("/api/v1/signals", json=[_signal(park_id, violation=True, categories=["drugs"])], headers=feed)
    assert first.status_code == 201 and first.get_json()["source"] == "toezicht"
    # the attack of the issue: rewrite another source's signal by naming that source
    attack = client.post("/api/v1/signals?source=demo", json=[_signal(park_id, kind="other")], headers=feed)
    assert attack.status_code == 403 and "may not write source 'demo'" in attack.get_json()["detail"]
    with store.connect() as conn:
        row = conn.execute(sa.select(schema.signals).where(schema.signals.c.source == "demo")).one()
    assert row.type == "inspection"
    for source in ("bezoek", "demo"):
        assert client.post(f"/api/v1/signals?source={source}", json=[_signal(park_id)],
                           headers=feed).status_code == 403
    reader = bearer(add_user(store, "analyst")[1])
    resp = client.post("/api/v1/signals", json=[_signal(park_id)], headers=reader)
    assert resp.status_code == 403 and "no source at all" in resp.get_json()["detail"]
    assert client.post("/api/v1/signals?source=bezoek", json=[_signal(park_id)]).status_code == 403  # admins too
    posts = audit.entries(store, action="signals.post")[1]
    assert {r["target"] for r in posts} == {"source:demo", "source:toezicht"}


def test_officers_post_no_signals(client, store, park_id) -> None:
    officer = bearer(add_user(store, "officer")[1])
    assert client.post("/api/v1/signals", json=[_signal(park_id)], headers=officer).status_code == 403


def test_rejected_rows_keep_no_personal_traits_and_are_for_admins(client, store, park_id, analyst_headers) -> None:
    row = _signal(park_id, kind="teleport", nationality="NL", geboorteland="Marokko", religie="x",
                  attributes={"countryOfBirth": "y", "team": "west"})
    resp = client.post("/api/v1/signals", json=[row])
    assert resp.status_code == 422
    batch = resp.get_json()["batch_id"]
    with store.connect() as conn:
        raw = conn.execute(sa.select(schema.rejected_rows.c.raw)).scalar_one()
    text = json.dumps(raw)
    for word in ("nationality", "geboorteland", "religie", "countryOfBirth", "Marokko"):
        assert word not in text
    assert raw["source_id"] == "s1" and raw["attributes"] == {"team": "west"}
    assert client.get(f"/api/v1/imports/{batch}/rejected").status_code == 200
    assert client.get(f"/api/v1/imports/{batch}/rejected", headers=analyst_headers).status_code == 403
    assert client.get("/api/v1/imports", headers=analyst_headers).status_code == 403
    assert audit.entries(store, action="rejected.view")[1][0]["target"] == f"batch:{batch}"


def test_a_race_on_the_same_new_ids_is_clean(client, app, store, park_id, monkeypatch) -> None:
    """Two posts of the same new ids read 'nothing stored yet' together; one wins, the other finds its rows."""
    race_in_step(monkeypatch)
    payload = [_signal(park_id, sid=f"r{i}", kind="complaint") for i in range(20)]
    answers = []

    def post() -> None:
        answers.append(app.test_client().post("/api/v1/signals", json=payload))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    codes = sorted(a.status_code for a in answers)
    assert codes in ([200, 201], [201, 409]), [a.get_data(as_text=True) for a in answers]
    for a in answers:
        body = a.get_data(as_text=True)
        assert "INSERT" not in body and "UNIQUE" not in body and "sqlite" not in body.lower()
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.signals)).scalar_one() == 20
    batches = client.get("/api/v1/imports").get_json()["batches"]
    assert not any("INSERT" in (b["error"] or "") or "UNIQUE" in (b["error"] or "") for b in batches)
    assert any(b["status"] == "failed" and "same ids" in (b["error"] or "") for b in batches)


def test_a_unique_violation_in_an_import_is_a_conflict_without_sql(store) -> None:
    from service.ingest.batches import run_batch
    from service.ingest.errors import ImportConflict, ImportFailed

    def duplicate(conn, result):
        conn.execute(schema.signals.insert().values(source="s", source_id="x", type="other", date=dt.date(2024, 1, 1),
                                                    assignment="unassigned", row_hash="h"))
        conn.execute(schema.signals.insert().values(source="s", source_id="x", type="other", date=dt.date(2024, 1, 1),
                                                    assignment="unassigned", row_hash="h"))

    with pytest.raises(ImportConflict) as caught:
        run_batch(store, "signals", "s", None, None, {}, duplicate)
    assert "INSERT" not in str(caught.value) and "same ids" in str(caught.value)

    def broken(conn, result):
        conn.execute(sa.text("SELECT * FROM no_such_table WHERE secret = 'x'"))

    with pytest.raises(ImportFailed) as caught:
        run_batch(store, "signals", "s", None, None, {}, broken)
    assert "no_such_table" not in str(caught.value) and "secret" not in str(caught.value)
    with store.connect() as conn:
        errors = conn.execute(sa.select(schema.import_batches.c.error)).scalars().all()
    assert not any("INSERT" in e or "no_such_table" in e for e in errors)

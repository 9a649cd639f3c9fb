"""``/readyz`` says ready only when the store answers, is at the migrations' head and its runs can be read."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from service.health import migrations_head, readiness
from service.store import Store


def test_ready_on_a_fresh_migrated_store_without_runs(app, store: Store) -> None:
    anon = app.test_client(token=None)
    assert store.published_run_id() is None
    resp = anon.get("/readyz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert store.current_revision() == migrations_head()


def test_not_ready_when_the_schema_is_behind(app, store: Store) -> None:
    with store.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '0004'"))
    resp = app.test_client(token=None).get("/readyz")
    assert resp.status_code == 503 and "head" in resp.get_json()["reason"]
    assert app.test_client(token=None).get("/healthz").status_code == 200  # alive, just not ready


def test_not_ready_when_the_store_is_gone(tmp_path) -> None:
    missing = Store(f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}")
    assert readiness(missing) == "the store is not migrated (parkwacht db upgrade)"
    (tmp_path / "a-folder.db").mkdir()
    broken = Store(f"sqlite:///{tmp_path / 'a-folder.db'}")
    assert readiness(broken) == "the store cannot be reached"


def test_requests_get_an_id_and_one_log_line(app, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="parkwacht.access"):
        plain = app.test_client(token=None).get("/healthz", headers={"X-Request-ID": "lb-42"})
        odd = app.test_client(token=None).get("/healthz", headers={"X-Request-ID": "<script>"})
    assert plain.headers["X-Request-ID"] == "lb-42"
    assert odd.headers["X-Request-ID"] != "<script>" and len(odd.headers["X-Request-ID"]) == 32
    records = [r for r in caplog.records if r.name == "parkwacht.access"]
    assert [r.status for r in records] == [200, 200] and records[0].route == "/healthz"  # type: ignore[attr-defined]


def test_json_lines_carry_the_fields(monkeypatch) -> None:
    import io
    import json

    from service import logs

    monkeypatch.delenv("PARKWACHT_LOG_FORMAT", raising=False)
    out = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("json", stream=out)
        logs.log_event(logging.getLogger("parkwacht.batch"), "stage", stage="engine", seconds=1.5)
    finally:
        root.handlers, _ = saved[0], root.setLevel(saved[1])
        monkeypatch.delenv("PARKWACHT_LOG_FORMAT", raising=False)
    entry = json.loads(out.getvalue().splitlines()[-1])
    assert entry["message"] == "stage" and entry["stage"] == "engine" and entry["seconds"] == 1.5
    assert entry["logger"] == "parkwacht.batch" and entry["level"] == "info"


def test_a_store_that_went_away_is_a_503_and_service_resumes(app, store: Store, tmp_path) -> None:
    """API: problem+json 503 with Retry-After; pages: a friendly 503; /readyz fails; back when the store is."""
    from service.app import runtime

    rt = runtime(app)
    working = rt.store
    (tmp_path / "gone.db").mkdir()
    rt.store = Store(f"sqlite:///{tmp_path / 'gone.db'}")  # every connection attempt now fails
    try:
        client = app.test_client()
        api = client.get("/api/v1/score-runs")
        assert api.status_code == 503 and api.mimetype == "application/problem+json"
        assert api.headers["Retry-After"] == "5" and "sqlite" not in api.get_data(as_text=True).lower()
        page = client.get("/worklist")
        assert page.status_code == 503 and page.mimetype == "text/html"
        probe = app.test_client(token=None)  # load balancers probe without credentials
        assert probe.get("/readyz").status_code == 503
        assert probe.get("/healthz").status_code == 200
    finally:
        rt.store.dispose()
        rt.store = working
    assert app.test_client().get("/api/v1/score-runs").status_code == 200
    assert app.test_client().get("/readyz").status_code == 200

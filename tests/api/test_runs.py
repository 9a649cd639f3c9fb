"""Score runs over the API: list, one, and starting a run (202, then poll; 409 while one runs)."""
from __future__ import annotations

import datetime as dt
import time

from service.scoring import locks


def test_runs_are_listed_and_read_one_by_one(api) -> None:
    body = api.get("/api/v1/score-runs").get_json()
    assert body["published"]["status"] == "published" and body["runs"][0]["id"] == body["published"]["id"]
    one = api.get(f"/api/v1/score-runs/{body['published']['id']}").get_json()
    assert one["model_hash"] and one["input_counts"]["parks"] > 0
    assert api.get("/api/v1/score-runs/4242").status_code == 404
    assert api.get("/api/v1/score-runs?limit=0").status_code == 400


def test_a_started_run_answers_202_and_publishes(api, admin_api) -> None:
    before = api.get("/api/v1/score-runs").get_json()["published"]["id"]
    assert api.post("/api/v1/score-runs").status_code == 403, "starting a run is an admin's"
    resp = admin_api.post("/api/v1/score-runs?as_of=2025-06-30")
    assert resp.status_code == 202, resp.get_data(as_text=True)
    location = resp.headers["Location"]
    run_id = resp.get_json()["run_id"]
    assert location.endswith(f"/api/v1/score-runs/{run_id}") and run_id != before
    deadline = time.monotonic() + 60
    while api.get(location).get_json()["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    run = api.get(location).get_json()
    assert run["status"] == "published" and run["as_of"] == "2025-06-30"


def test_a_second_run_while_one_runs_is_409(admin_api, api_store) -> None:
    lock = locks.acquire(api_store, {"model_version": "x", "model_hash": "x", "as_of": dt.date(2025, 1, 1),
                                     "model_text": "", "model_path": ""})
    try:
        resp = admin_api.post("/api/v1/score-runs")
        assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
        assert "in progress" in resp.get_json()["detail"]
    finally:
        with api_store.begin() as conn:
            locks.release(conn, lock)

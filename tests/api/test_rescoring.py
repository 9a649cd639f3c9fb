"""A signal posted to the API re-scores its park at once, against the published run."""
from __future__ import annotations

import datetime as dt

from service.demo import load_demo
from service.scoring import park_score, published_run, score_run


def test_posted_violation_raises_the_park_score_incrementally(client, store, settings) -> None:
    load_demo(store, settings)
    run = score_run(store, settings)
    as_of = dt.date.fromisoformat(str(published_run(store)["as_of"]))
    before = park_score(store, 1)["score"]
    payload = [{"source_id": f"v{i}", "type": "inspection", "date": as_of.isoformat(), "park_id": 1,
                "violation": True, "categories": ["permanent_residence", "overcrowding", "fire_safety"]}
               for i in range(5)]
    resp = client.post("/api/v1/signals?source=toezicht", json=payload)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["rescoring"]["status"] == "updated" and 1 in body["rescoring"]["rescored"]
    after = park_score(store, 1)
    assert after["score"] > before
    assert published_run(store)["id"] == run["run_id"], "an incremental update must not start a new run"
    assert abs(sum(f["points"] for f in after["factors"]) - after["score"]) < 1e-6


def test_posting_without_a_published_run_stores_and_says_so(client, store, settings) -> None:
    load_demo(store, settings)
    resp = client.post("/api/v1/signals", json=[{"type": "complaint", "date": "2024-01-01", "park_id": 2}])
    assert resp.status_code == 201
    assert resp.get_json()["rescoring"]["status"] == "no_published_run"

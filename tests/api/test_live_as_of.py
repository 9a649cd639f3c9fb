"""The analysts' API shows each park's own as-of date: live incremental updates move it to today."""
from __future__ import annotations

import datetime as dt

from service.demo import load_demo
from service.scoring import score_run
from tests.conftest import DEMO_TODAY, signed_in_app


def test_a_signal_posted_today_moves_its_parks_as_of_date(settings, store) -> None:
    load_demo(store, settings, today=DEMO_TODAY)
    run = score_run(store, settings)
    assert run["as_of"] == "2025-12-31"
    later = settings.with_overrides(today=dt.date(2026, 1, 5))
    client = signed_in_app(later, store, "admin").test_client()
    payload = [{"source_id": "live-1", "type": "inspection", "date": "2026-01-05", "park_id": 1, "violation": True,
                "categories": ["permanent_residence", "fire_safety"]}]
    resp = client.post("/api/v1/signals?source=toezicht", json=payload)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()["rescoring"]
    assert body["as_of"] == "2026-01-05" and body["signals_after_as_of"] == 0
    park = client.get("/api/v1/parks/1").get_json()
    text = str(park)
    assert "2026-01-05" in text and "'run_as_of': '2025-12-31'" in text
    features = client.get("/api/v1/parks?geometry=false&limit=10000").get_json()["features"]
    dates = {f["properties"]["id"]: f["properties"]["as_of"] for f in features}
    assert dates[1] == "2026-01-05"
    assert sum(d == "2025-12-31" for d in dates.values()) > 200

"""GET /api/v1/changes (and .atom): parks that changed class since a run or a date."""
from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from service import scoring
from service.ingest import import_signal_records


def _push_to_high(store, settings, park_id: int) -> None:
    """Serious findings on one park today, then the incremental update: its class goes up."""
    as_of = dt.date.fromisoformat(str(scoring.published_run(store)["as_of"]))
    records = [{"source_id": f"x{i}", "type": "inspection", "date": as_of.isoformat(), "park_id": park_id,
                "violation": True, "categories": ["permanent_residence", "overcrowding", "fire_safety", "drugs"]}
               for i in range(8)]
    records += [{"source_id": f"i{i}", "type": "incident", "subtype": "hennepkwekerij", "date": as_of.isoformat(),
                 "park_id": park_id} for i in range(4)]
    import_signal_records(store, records, settings=settings, source="toezicht")
    scoring.rescore_parks(store, settings, [park_id], reason="test")


def test_a_class_change_is_listed_with_the_factors_that_moved(api, api_store, api_settings) -> None:
    run_id = scoring.published_run_id(api_store)
    low = next(p for p, s in scoring.run_scores(api_store, run_id).items() if s.risk_class == "laag")
    assert api.get(f"/api/v1/changes?since={run_id}").get_json()["changes"] == []
    _push_to_high(api_store, api_settings, low)
    body = api.get(f"/api/v1/changes?since={run_id}").get_json()
    change = next(c for c in body["changes"] if c["park_id"] == low)
    assert change["old_class"] == "laag" and change["new_class"] != "laag"
    assert change["new_score"] > change["old_score"]
    assert change["factors"] and all(abs(f["delta"]) > 0 for f in change["factors"])
    assert abs(change["factors"][0]["delta"]) >= abs(change["factors"][-1]["delta"])
    assert body["since"]["run_id"] == run_id
    scoring.score_run(api_store, api_settings)  # a new full run: compared with run_id as it was published
    across = next(c for c in api.get(f"/api/v1/changes?since={run_id}").get_json()["changes"] if c["park_id"] == low)
    assert across["old_class"] == "laag" and across["old_score"] == change["old_score"] and across["factors"]
    changed = api.get(f"/api/v1/parks?changed_since={run_id}&geometry=false").get_json()
    assert low in [f["id"] for f in changed["features"]]


def test_a_date_before_any_run_makes_every_scored_park_new(api) -> None:
    body = api.get("/api/v1/changes?since=2000-01-01").get_json()
    assert body["since"]["run_id"] is None and body["changes"]
    assert all(c["old_class"] is None for c in body["changes"])
    today = api.get(f"/api/v1/changes?since={dt.date.today().isoformat()}").get_json()
    assert today["since"]["run_id"] is not None and today["changes"] == []


def test_bad_references_are_client_errors(api) -> None:
    assert api.get("/api/v1/changes").status_code == 400
    assert api.get("/api/v1/changes?since=soon").status_code == 400
    assert api.get("/api/v1/changes?since=4242").status_code == 404


def test_the_atom_feed_has_one_entry_per_change(api, api_store, api_settings) -> None:
    run_id = scoring.published_run_id(api_store)
    low = next(p for p, s in scoring.run_scores(api_store, run_id).items() if s.risk_class == "laag")
    _push_to_high(api_store, api_settings, low)
    resp = api.get(f"/api/v1/changes.atom?since={run_id}")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(resp.get_data())
    entries = feed.findall("a:entry", ns)
    assert len(entries) == len(api.get(f"/api/v1/changes?since={run_id}").get_json()["changes"]) >= 1
    assert any(e.find("a:link", ns).get("href").endswith(f"/parks/{low}") for e in entries)
    assert feed.find("a:updated", ns).text and feed.find("a:id", ns).text
    again = api.get(f"/api/v1/changes.atom?since={run_id}", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304

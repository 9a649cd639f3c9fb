"""POST /api/v1/signals and the read endpoints: what was stored, what was rejected and why."""
from __future__ import annotations

import pytest

from service.ingest import import_parks
from tests.helpers import square, write_geojson

RD_X, RD_Y = 180_000, 470_000


@pytest.fixture
def park_id(store, settings, tmp_path) -> int:
    path = write_geojson(tmp_path / "p.geojson",
                         [({"source_id": "A", "name": "<b>Park</b> A"}, square(RD_X, RD_Y, 200))],
                         crs="urn:ogc:def:crs:EPSG::28992")
    import_parks(store, path, settings=settings, source="t")
    return 1


def lonlat_in_park() -> tuple[float, float]:
    from service.geo import to_lonlat

    lon, lat = to_lonlat([RD_X + 100], [RD_Y + 100], "EPSG:28992")
    return float(lon[0]), float(lat[0])


def test_post_list_of_signals(client, park_id) -> None:
    lon, lat = lonlat_in_park()
    resp = client.post("/api/v1/signals", json=[
        {"source_id": "c1", "type": "complaint", "date": "2024-04-01", "lon": lon, "lat": lat, "subtype": "geluid"},
        {"source_id": "c2", "type": "inspection", "date": "2024-04-02", "park_id": park_id, "violation": True,
         "categories": ["overcrowding"], "attributes": {"team": "west"}},
        {"source_id": "c3", "type": "complaint", "date": "2999-01-01", "lon": lon, "lat": lat},
    ])
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["read"], body["stored"], body["rejected"]) == (3, 2, 1)
    assert body["assignment"]["inside"] == 1 and body["assignment"]["explicit"] == 1
    assert len(body["ids"]) == 2
    (rej,) = body["rejected_rows"]
    assert rej["field"] == "date" and "future" in rej["reason"] and rej["raw"]["source_id"] == "c3"


def test_post_feature_collection(client, park_id) -> None:
    lon, lat = lonlat_in_park()
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "f1",
         "properties": {"type": "energy_anomaly", "date": "2024-01-05", "excess_kwh": 5400},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}},
    ]}
    resp = client.post("/api/v1/signals?source=netbeheerder", json=fc)
    assert resp.status_code == 201, resp.get_json()
    detail = client.get("/api/v1/imports").get_json()["batches"][0]
    assert detail["source"] == "netbeheerder" and detail["stored"] == 1


def test_repeat_post_is_unchanged(client, park_id) -> None:
    payload = [{"source_id": "x", "type": "incident", "date": "2024-01-01", "park_id": park_id}]
    assert client.post("/api/v1/signals", json=payload).status_code == 201
    again = client.post("/api/v1/signals", json=payload)
    assert again.status_code == 200 and again.get_json()["unchanged"] == 1


def test_everything_rejected_is_422_problem(client, park_id) -> None:
    resp = client.post("/api/v1/signals", json=[{"type": "teleport", "date": "2024-01-01", "park_id": park_id}])
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == 422 and "unknown signal type 'teleport'" in body["rejected_rows"][0]["reason"]


@pytest.mark.parametrize("data, content_type, detail", [
    ("not json", "application/json", "must be JSON"),
    ('{"hello": 1}', "application/json", "send a JSON list"),
    ("[]", "application/json", "no signals"),
    ("[1, 2]", "application/json", "must be a JSON object"),
    ('{"type": "FeatureCollection", "features": [{"type": "Nope"}]}', "application/json", "not a GeoJSON Feature"),
])
def test_bad_requests_are_problems_not_stack_traces(client, data, content_type, detail) -> None:
    resp = client.post("/api/v1/signals", data=data, content_type=content_type)
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert detail in resp.get_json()["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "text/csv"])
def test_a_body_that_is_not_json_is_415(client, content_type) -> None:
    resp = client.post("/api/v1/signals", data="type=complaint", content_type=content_type)
    assert resp.status_code == 415 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["title"] == "Unsupported Media Type"


def test_park_endpoints(client, park_id) -> None:
    listing = client.get("/api/v1/parks?limit=10").get_json()
    assert listing["numberMatched"] == 1 and listing["features"][0]["properties"]["name"] == "<b>Park</b> A"
    feature = client.get(f"/api/v1/parks/{park_id}")
    assert feature.mimetype == "application/geo+json"
    lon, lat = feature.get_json()["geometry"]["coordinates"][0][0]
    assert 3 < lon < 8 and 50 < lat < 54  # WGS84 lon/lat order (RFC 7946)
    missing = client.get("/api/v1/parks/999")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/api/v1/parks?limit=abc").status_code == 400


def test_rejected_rows_endpoint(client, park_id) -> None:
    client.post("/api/v1/signals", json=[{"type": "complaint", "date": "nope", "park_id": park_id},
                                         {"type": "complaint", "date": "2024-01-01", "park_id": park_id}])
    batch = client.get("/api/v1/imports").get_json()["batches"][0]["id"]
    rows = client.get(f"/api/v1/imports/{batch}/rejected").get_json()["rejected"]
    assert [r["row_number"] for r in rows] == [1]
    assert client.get("/api/v1/imports/9999/rejected").status_code == 404

"""Hardening, each found by trying as an attacker would: no internals in answers, 4xx for absurd input, the
language link from the route, spreadsheet-safe CSV, headers on every response, no Server banner, 413."""
from __future__ import annotations

import csv
import io
import threading
import urllib.request

import geopandas as gpd
import pytest
import shapely
from werkzeug.serving import make_server

from service.app import MAX_JSON_DEPTH, runtime
from service.ingest import import_park_frame


@pytest.mark.parametrize("path", ["/parks/99999999999999999999", "/api/v1/parks/99999999999999999999",
                                  "/api/v1/imports/99999999999999999999/rejected", "/parks/2147483648/visits"])
def test_huge_ids_in_paths_are_404(client, path) -> None:
    resp = client.post(path) if path.endswith("visits") else client.get(path)
    assert resp.status_code == 404


@pytest.mark.parametrize("query", ["offset=1e20", "offset=99999999999999999999", "limit=99999999999999999999"])
def test_huge_numbers_in_parameters_are_400(client, query) -> None:
    resp = client.get(f"/api/v1/parks?{query}")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert client.get(f"/worklist?{query}").status_code == 200  # pages drop what they do not understand


def test_json_nested_absurdly_deep_is_a_400_with_a_reason(client) -> None:
    body = "[" * 100_000 + "]" * 100_000
    resp = client.post("/api/v1/signals", data=body, content_type="application/json")
    assert resp.status_code == 400 and f"deeper than {MAX_JSON_DEPTH}" in resp.get_json()["detail"]
    ok = "[" * 3 + "{}" + "]" * 3
    assert client.post("/api/v1/signals", data=ok, content_type="application/json").status_code == 400


def test_a_lone_surrogate_is_a_400_naming_the_field(client) -> None:
    body = '[{"source_id": "s1", "type": "complaint", "date": "2024-01-01", "subtype": "\\ud800"}]'
    resp = client.post("/api/v1/signals", data=body, content_type="application/json")
    assert resp.status_code == 400 and "signals[0].subtype" in resp.get_json()["detail"]


def test_mixed_time_zones_in_one_post_count_on_their_own_dates(client) -> None:
    resp = client.post("/api/v1/signals", json=[
        {"source_id": "t1", "type": "complaint", "date": "2024-01-01T23:30:00+01:00", "lon": 5.8, "lat": 52.2},
        {"source_id": "t2", "type": "complaint", "date": "2024-06-01T10:00:00+02:00", "lon": 5.8, "lat": 52.2},
        {"source_id": "t3", "type": "complaint", "date": "2024-06-01T10:00:00Z", "lon": 5.8, "lat": 52.2},
    ])
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["stored"] == 3


def test_the_language_link_is_built_from_the_route(demo_client) -> None:
    html = demo_client.get("/%5Cevil.example/x").get_data(as_text=True)
    assert "evil.example" not in html
    assert 'href="/?lang=en"' in html
    park = demo_client.get("/parks/1?x=%5C%5Cevil").get_data(as_text=True)
    assert 'href="/parks/1?x=%5C%5Cevil&amp;lang=en"' in park


def test_every_response_carries_the_security_headers(demo_client) -> None:
    for path in ("/", "/worklist.csv", "/static/app.css", "/healthz", "/api/v1/nothing-here", "/login"):
        resp = demo_client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Referrer-Policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"], path
        assert "Server" not in resp.headers, path
    assert demo_client.get("/worklist.csv").headers["Cache-Control"] == "no-store"


def test_no_server_header_on_the_real_server(demo_app) -> None:
    srv = make_server("127.0.0.1", 0, demo_app)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/healthz") as resp:
            assert resp.status == 200 and resp.headers.get("Server") is None
    finally:
        srv.shutdown()


def test_a_body_over_the_limit_is_413_on_every_route(app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    client = app.test_client(token=None)
    for path in ("/healthz", "/login", "/worklist", "/api/v1/model"):
        assert client.post(path, data="x" * 5000).status_code == 413, path
        assert client.get(path, data="x" * 5000).status_code == 413, path


def test_worklist_csv_quotes_separators_and_defuses_formulas(demo_app, demo_client) -> None:
    rt = runtime(demo_app)
    names = ["=HYPERLINK(\"http://x\");-1", "Camping; =1+1", "+31\tplus", "@SUM(A1)"]
    frame = gpd.GeoDataFrame([{"source_id": f"F{i}", "name": n, "kind": "camping", "municipality_code": "GM0200",
                               "municipality_name": "-Apeldoorn", "geometry": shapely.box(210_000 + i * 400, 470_000,
                                                                                         210_250 + i * 400, 470_200)}
                              for i, n in enumerate(names)], geometry="geometry", crs="EPSG:28992")
    import_park_frame(rt.store, frame, settings=rt.settings, source="formula", crs="EPSG:28992")
    text = demo_client.get("/worklist.csv").get_data(as_text=True).lstrip("\ufeff")
    for line in text.splitlines()[:3]:
        assert line.startswith('"') and line.endswith('"')  # every field quoted
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for r in rows[1:] for c in r]
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells if not _number(c))
    assert "'=HYPERLINK(\"http://x\");-1" in cells and "'-Apeldoorn" in cells
    for row in csv.reader(io.StringIO(text), delimiter=";"):  # a Dutch spreadsheet splitting on ';'
        assert not any(c.lstrip('"')[:1] in ("=", "+", "@") for c in row)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True

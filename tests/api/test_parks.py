"""GET /api/v1/parks: scored GeoJSON, filters, sorting, paging, ETags, exports; one park; its signals."""
from __future__ import annotations

import csv
import io

import geopandas as gpd
import numpy as np
import pytest
import shapely

from service import reads, scoring
from service.reads.catalogue import PROPERTY_FIELDS


def collection(api, url: str) -> dict:
    resp = api.get(url)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/geo+json"
    return resp.get_json()


def test_the_list_is_geojson_with_scores_classes_themes_and_reasons(api, api_store) -> None:
    body = collection(api, "/api/v1/parks?limit=1000")
    assert body["type"] == "FeatureCollection"
    n_parks = len(reads.park_rows(api_store, None, with_geometry=False))
    assert body["numberMatched"] == body["numberReturned"] == len(body["features"]) == n_parks
    first = body["features"][0]
    props = first["properties"]
    assert set(PROPERTY_FIELDS) <= set(props)
    assert props["risk_class"] in ("laag", "verhoogd", "hoog") and 0 <= props["score"] <= 100
    theme_sum = sum(props[f"points_{t}"] for t in ("ownership", "economic", "social", "crime", "fire_safety"))
    assert theme_sum == pytest.approx(props["score"], abs=0.06)
    assert props["factor_1"] and props["factor_1_points"] >= (props["factor_2_points"] or 0)
    lon, lat = np.array(first["geometry"]["coordinates"][0]).T
    assert 3 < lon.min() < lon.max() < 8 and 50 < lat.min() < lat.max() < 54, "RFC 7946: WGS84 lon/lat"
    score = scoring.park_score(api_store, first["id"])
    assert props["score"] == pytest.approx(score["score"], abs=0.005)


def test_filters_match_a_direct_count(api, api_store) -> None:
    rows = reads.park_rows(api_store, scoring.published_run_id(api_store), with_geometry=True)
    high = [r for r in rows if r.risk_class == "hoog"]
    assert collection(api, "/api/v1/parks?risk_class=hoog&geometry=false")["numberMatched"] == len(high)
    both = collection(api, "/api/v1/parks?risk_class=hoog&risk_class=verhoogd&geometry=false")["numberMatched"]
    assert both == collection(api, "/api/v1/parks?risk_class=hoog,verhoogd&geometry=false")["numberMatched"]
    assert both == sum(r.risk_class in ("hoog", "verhoogd") for r in rows)
    code, name = rows[0].municipality_code, rows[0].municipality_name
    by_code = collection(api, f"/api/v1/parks?municipality={code}&geometry=false")["numberMatched"]
    assert by_code == collection(api, f"/api/v1/parks?municipality={name.upper()}&geometry=false")["numberMatched"]
    assert by_code == sum(r.municipality_code == code for r in rows)
    mid = collection(api, "/api/v1/parks?min_score=20&max_score=40&geometry=false")
    assert mid["numberMatched"] == sum(20 <= (r.score or -1) <= 40 for r in rows)
    assert all(20 <= f["properties"]["score"] <= 40 for f in mid["features"])
    hot = collection(api, "/api/v1/parks?hotspot=hot&geometry=false")["numberMatched"]
    assert hot == sum(r.hotspot == "hot" for r in rows) > 0
    camping = collection(api, "/api/v1/parks?kind=camping&geometry=false")["numberMatched"]
    assert camping == sum(r.kind == "camping" for r in rows)


def test_bbox_counts_equal_a_shapely_count(api, api_store) -> None:
    from service import geo

    rows = reads.park_rows(api_store, None, with_geometry=True)
    geoms = np.asarray(geo.to_wgs84(shapely.from_wkb([r.geom_wkb for r in rows])))
    for box in [(5.7, 52.2, 5.8, 52.3), (5.5, 52.0, 6.2, 52.6), (4.0, 51.0, 4.1, 51.1)]:
        expected = int(shapely.intersects(geoms, shapely.box(*box)).sum())
        got = collection(api, "/api/v1/parks?geometry=false&limit=10000&bbox=" + ",".join(map(str, box)))
        assert got["numberMatched"] == expected


def test_sorting_and_paging_visit_every_park_once(api) -> None:
    body = collection(api, "/api/v1/parks?sort=-score&geometry=false&limit=1000")
    scores = [f["properties"]["score"] for f in body["features"]]
    assert scores == sorted(scores, reverse=True)
    by_name = collection(api, "/api/v1/parks?sort=name&geometry=false&limit=1000")["features"]
    names = [f["properties"]["name"].lower() for f in by_name]
    assert names == sorted(names)
    seen, url, pages = [], "/api/v1/parks?limit=37&sort=-score&geometry=false", 0
    while url:
        page = collection(api, url)
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        pages += 1
    assert len(seen) == len(set(seen)) == body["numberMatched"] and pages == -(-len(seen) // 37)


def test_geometry_false_gives_a_light_answer(api) -> None:
    light = collection(api, "/api/v1/parks?geometry=false&limit=5")
    assert all(f["geometry"] is None for f in light["features"])


def test_an_unchanged_answer_costs_a_304_until_the_data_changes(api, api_store, api_settings) -> None:
    first = api.get("/api/v1/parks?limit=3")
    etag = first.headers["ETag"]
    again = api.get("/api/v1/parks?limit=3", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.get_data()
    scoring.rescore_parks(api_store, api_settings, [1], reason="test")
    after = api.get("/api/v1/parks?limit=3", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


@pytest.mark.parametrize(("query", "name"), [
    ("foo=1", "foo"), ("bbox=1,2,3", "bbox"), ("bbox=5,52,4,53", "bbox"), ("bbox=100000,400000,200000,500000", "bbox"),
    ("limit=0", "limit"), ("limit=10001", "limit"), ("offset=-1", "offset"), ("kind=castle", "kind.0"),
    ("risk_class=red", "risk_class.0"), ("sort=-height", "sort"), ("min_score=101", "min_score"),
    ("changed_since=yesterday", "changed_since"), ("limit=1&limit=2", "limit"),
])
def test_bad_parameters_are_400_problems_that_name_them(api, query, name) -> None:
    resp = api.get(f"/api/v1/parks?{query}")
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert name in [p["name"] for p in resp.get_json()["invalid_params"]]


def test_formats_by_accept_and_f(api) -> None:
    assert api.get("/api/v1/parks?limit=1", headers={"Accept": "text/html"}).status_code == 406
    assert api.get("/api/v1/parks?f=xml").status_code == 400
    assert api.get("/api/v1/parks?limit=1", headers={"Accept": "application/json"}).status_code == 200
    csv_resp = api.get("/api/v1/parks", headers={"Accept": "text/csv"})
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"


def test_csv_export_is_the_whole_selection_and_spreadsheet_safe(api) -> None:
    matched = collection(api, "/api/v1/parks?risk_class=hoog&limit=1")["numberMatched"]
    text = api.get("/api/v1/parks?f=csv&risk_class=hoog&limit=1").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [*PROPERTY_FIELDS, "wkt"] and len(rows) == matched + 1, "exports ignore paging"
    assert all(line.startswith('"') for line in text.splitlines())
    assert shapely.from_wkt(rows[1][-1]).geom_type in ("Polygon", "MultiPolygon")
    lonlat_text = api.get("/api/v1/parks?f=csv&csv_geometry=lonlat").get_data(as_text=True)
    lonlat = list(csv.reader(io.StringIO(lonlat_text)))
    assert lonlat[0][-2:] == ["lon", "lat"] and 3 < float(lonlat[1][-2]) < 8


@pytest.mark.parametrize("fmt", ["gpkg", "parquet", "geojson"])
def test_file_exports_read_back(api, tmp_path, fmt) -> None:
    resp = api.get(f"/api/v1/parks?f={fmt}&risk_class=verhoogd")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    path = tmp_path / f"parks.{fmt}"
    path.write_bytes(resp.get_data())
    frame = gpd.read_parquet(path) if fmt == "parquet" else gpd.read_file(path)
    assert len(frame) == collection(api, "/api/v1/parks?risk_class=verhoogd&limit=1")["numberMatched"]
    assert set(frame["risk_class"]) == {"verhoogd"}
    assert frame.crs.equals("OGC:CRS84") or frame.crs.to_epsg() == 4326


def test_one_park_decomposes_into_factors_and_signals(api, api_store) -> None:
    pid = collection(api, "/api/v1/parks?sort=-score&limit=1&geometry=false")["features"][0]["id"]
    resp = api.get(f"/api/v1/parks/{pid}")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    park = resp.get_json()
    factors = park["score"]["factors"]
    assert sum(f["points"] for f in factors) == pytest.approx(park["score"]["score"], abs=1e-6)
    assert all({"raw", "normalised", "points"} <= set(f) for f in factors)
    evidence = {s for f in factors for s in (f.get("signals") or [])}
    assert evidence, "the factors name the signals behind them"
    assert park["history"] and park["history"][-1]["score"] == park["score"]["score"]
    summary = park["signal_summary"]
    total = sum(v["count"] for v in summary.values())
    assert total == api.get(f"/api/v1/parks/{pid}/signals?limit=1").get_json()["numberMatched"]
    assert api.get("/api/v1/parks/999999").status_code == 404


def test_a_parks_signals_are_paged_and_filtered(api) -> None:
    pid = collection(api, "/api/v1/parks?sort=-score&limit=1&geometry=false")["features"][0]["id"]
    everything = api.get(f"/api/v1/parks/{pid}/signals?limit=1000").get_json()
    inspections = api.get(f"/api/v1/parks/{pid}/signals?type=inspection&limit=1000").get_json()
    assert inspections["numberMatched"] == sum(s["type"] == "inspection" for s in everything["signals"])
    dates = [s["date"] for s in everything["signals"]]
    assert dates == sorted(dates, reverse=True)
    recent = api.get(f"/api/v1/parks/{pid}/signals?date_from=2025-07-01&limit=1000").get_json()
    assert all(s["date"] >= "2025-07-01" for s in recent["signals"])
    page = api.get(f"/api/v1/parks/{pid}/signals?limit=2").get_json()
    assert page["numberReturned"] == 2 and any(link["rel"] == "next" for link in page["links"])
    assert api.get(f"/api/v1/parks/{pid}/signals?type=gossip").status_code == 400
    assert api.get("/api/v1/parks/999999/signals").status_code == 404


def test_small_registration_counts_are_suppressed_for_analysts_not_admins(api, admin_api, api_store,
                                                                         api_settings) -> None:
    from service.ingest import import_signal_records

    pid = collection(api, "/api/v1/parks?limit=1&geometry=false")["features"][0]["id"]
    import_signal_records(api_store, [{"source_id": "r-small", "type": "registration", "date": "2025-12-30",
                                       "park_id": pid, "residents": 3}], settings=api_settings, source="brp")
    rows = api.get(f"/api/v1/parks/{pid}/signals?type=registration&limit=1000").get_json()["signals"]
    small = next(s for s in rows if s["attributes"].get("residents") in (3, "< 5"))
    assert small["attributes"]["residents"] == "< 5"
    admin_rows = admin_api.get(f"/api/v1/parks/{pid}/signals?type=registration&limit=1000").get_json()["signals"]
    assert 3 in [s["attributes"].get("residents") for s in admin_rows]
    detail = api.get(f"/api/v1/parks/{pid}").get_json()
    assert detail["signal_summary"]["registration"]["count"] not in (1, 2, 3, 4)
    persons = [f for f in detail["score"]["factors"] if f["id"] == "brp_residents"]
    assert all(f["raw"] is None or f["raw"] == "< 5" or f["raw"] == 0 or f["raw"] >= 5 for f in persons)


def test_every_export_is_audited(api, api_store) -> None:
    from service import audit

    api.get("/api/v1/parks?f=csv&risk_class=hoog")
    _total, rows = audit.entries(api_store, limit=20, action="export")
    assert rows and rows[0]["target"] == "parks" and "analist" in rows[0].values()

"""GET /api/v1/areas/municipalities|provinces: counts per class, mean and highest score, boundaries."""
from __future__ import annotations

from collections import Counter

from service import reads, scoring


def test_municipal_aggregates_add_up_to_the_parks(api, api_store) -> None:
    resp = api.get("/api/v1/areas/municipalities")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    body = resp.get_json()
    rows = reads.park_rows(api_store, scoring.published_run_id(api_store), with_geometry=False)
    by_code = Counter(r.municipality_code for r in rows)
    assert {f["properties"]["code"]: f["properties"]["park_count"] for f in body["features"]} == dict(by_code)
    for f in body["features"]:
        p = f["properties"]
        members = [r for r in rows if r.municipality_code == p["code"]]
        assert p["count_hoog"] == sum(r.risk_class == "hoog" for r in members)
        assert p["count_laag"] + p["count_verhoogd"] + p["count_hoog"] + p["count_unscored"] == p["park_count"]
        assert p["max_score"] == round(max(r.score for r in members), 2)
        assert p["hotspot_parks"] == sum(r.hotspot == "hot" for r in members)
        assert f["geometry"] is None and p["boundary"] is False, "no boundaries imported in the demo"


def test_provinces_and_unknown_levels(api) -> None:
    provinces = api.get("/api/v1/areas/provinces?geometry=false").get_json()
    assert [f["properties"]["name"] for f in provinces["features"]] == ["Gelderland"]
    assert provinces["features"][0]["properties"]["park_count"] > 0
    assert api.get("/api/v1/areas/countries").status_code == 404
    assert api.get("/api/v1/areas/provinces?nope=1").status_code == 400


def test_imported_boundaries_come_with_the_aggregates(api, api_store) -> None:
    import shapely
    import sqlalchemy as sa

    from service.store import schema

    rows = reads.park_rows(api_store, None, with_geometry=True)
    code = rows[0].municipality_code
    hull = shapely.union_all(shapely.from_wkb([r.geom_wkb for r in rows if r.municipality_code == code])).convex_hull
    with api_store.begin() as conn:
        conn.execute(sa.insert(schema.areas).values(level="municipality", code=code, name=rows[0].municipality_name,
                                                    geom_wkb=shapely.to_wkb(hull), minx=hull.bounds[0],
                                                    miny=hull.bounds[1], maxx=hull.bounds[2], maxy=hull.bounds[3],
                                                    source="test"))
    body = api.get("/api/v1/areas/municipalities").get_json()
    feature = next(f for f in body["features"] if f["properties"]["code"] == code)
    assert feature["properties"]["boundary"] is True and feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert 3 < lon < 8 and 50 < lat < 54

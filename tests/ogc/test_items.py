"""Items of the three collections: paging, bbox and bbox-crs, crs, datetime, property filters, one feature,
and the aggregates' agreement with the parks they summarise."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from service.app import runtime
from service.reads.catalogue import CRS84, RD_CRS
from service.store import schema

ITEMS = "/ogc/collections/parks/items"


def _page(client: FlaskClient, path: str = ITEMS, **query: Any) -> dict[str, Any]:
    resp = client.get(path, query_string=query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _all(client: FlaskClient, path: str = ITEMS, **query: Any) -> list[dict[str, Any]]:
    return _page(client, path, limit=10_000, **query)["features"]


def _links(doc: dict[str, Any]) -> dict[str, str]:
    return {lk["rel"]: lk["href"] for lk in doc["links"]}


def test_default_page_of_100_with_counts_and_links(ogc: FlaskClient) -> None:
    resp = ogc.get(ITEMS)
    assert resp.mimetype == "application/geo+json"
    assert resp.headers["Content-Crs"] == f"<{CRS84}>"
    doc = resp.get_json()
    total = doc["numberMatched"]
    assert total > 100 and doc["numberReturned"] == len(doc["features"]) == 100
    links = _links(doc)
    assert "offset=100" in links["next"] and "limit=100" in links["next"]
    assert "f=html" in links["alternate"] and links["collection"].endswith("/ogc/collections/parks")
    assert "prev" not in links


def test_a_limit_above_the_maximum_is_the_maximum_not_an_error(ogc: FlaskClient) -> None:
    doc = _page(ogc, limit=50_000)
    assert doc["numberReturned"] == doc["numberMatched"]
    assert ogc.get(ITEMS, query_string={"limit": 0}).status_code == 400
    assert ogc.get(ITEMS, query_string={"limit": "many"}).status_code == 400


def test_offset_pages_do_not_overlap(ogc: FlaskClient) -> None:
    first, second = _page(ogc, limit=10), _page(ogc, limit=10, offset=10)
    ids = [f["id"] for f in first["features"] + second["features"]]
    assert len(set(ids)) == 20
    assert "prev" in _links(second)


@pytest.mark.parametrize("crs", [RD_CRS, "EPSG:28992"])
def test_bbox_in_rd_new_and_features_in_rd_new(ogc: FlaskClient, ogc_app: Flask, crs: str) -> None:
    box = (185_000.0, 460_000.0, 195_000.0, 475_000.0)
    resp = ogc.get(ITEMS, query_string={"bbox": ",".join(map(str, box)), "bbox-crs": crs, "crs": crs,
                                        "limit": 10_000})
    assert resp.headers["Content-Crs"] == f"<{RD_CRS}>"
    feats = resp.get_json()["features"]
    with runtime(ogc_app).store.connect() as conn:
        rows = list(conn.execute(sa.select(schema.parks.c.id, schema.parks.c.geom_wkb)))
    stored = {r.id: shapely.from_wkb(r.geom_wkb) for r in rows}
    expected = {pid for pid, g in stored.items() if g.intersects(shapely.box(*box))}
    assert {f["id"] for f in feats} == expected
    for f in feats[:5]:  # coordinates in metres, the stored geometry to the centimetre
        served = shapely.geometry.shape(f["geometry"])
        assert served.equals_exact(shapely.set_precision(stored[f["id"]], 0.01), tolerance=0.011)


def test_bbox_in_crs84_must_be_degrees(ogc: FlaskClient) -> None:
    resp = ogc.get(ITEMS, query_string={"bbox": "185000,460000,195000,475000"})
    assert resp.status_code == 400 and "bbox-crs" in resp.get_json()["detail"]
    for bad in ("1,2,3", "a,b,c,d", "6,53,5,52", "nan,1,2,3"):
        assert ogc.get(ITEMS, query_string={"bbox": bad}).status_code == 400, bad
    assert ogc.get(ITEMS, query_string={"bbox": "5.6,52.1,0,6.1,52.45,100"}).status_code == 200  # 3D box


def test_unoffered_crs_is_a_400(ogc: FlaskClient) -> None:
    for param in ("crs", "bbox-crs"):
        resp = ogc.get(ITEMS, query_string={param: "http://www.opengis.net/def/crs/EPSG/0/3857"})
        assert resp.status_code == 400 and "offered" in resp.get_json()["detail"]


def test_datetime_filters_on_the_as_of_date(ogc: FlaskClient) -> None:
    scored = [f for f in _all(ogc) if f["properties"]["as_of"]]
    as_of = scored[0]["properties"]["as_of"]
    assert len(_all(ogc, datetime=as_of)) == len(scored)
    assert len(_all(ogc, datetime=f"{as_of}T12:00:00Z")) == len(scored)
    assert len(_all(ogc, datetime=f"../{as_of}")) == len(scored)
    assert _all(ogc, datetime="1990-01-01/1999-12-31") == []
    assert _all(ogc, datetime="2999-01-01/..") == []
    for bad in ("yesterday", "2024-02-30", "2025-01-01/2024-01-01"):
        assert ogc.get(ITEMS, query_string={"datetime": bad}).status_code == 400, bad


def test_property_filters_are_equality_on_the_flat_properties(ogc: FlaskClient) -> None:
    everything = _all(ogc)
    hoog = _all(ogc, risk_class="hoog")
    assert hoog and {f["id"] for f in hoog} == {f["id"] for f in everything if f["properties"]["risk_class"] == "hoog"}
    code = everything[0]["properties"]["municipality_code"]
    both = _all(ogc, risk_class="hoog", municipality_code=code)
    assert all(f["properties"]["municipality_code"] == code for f in both)
    assert "risk_class=hoog" in _links(_page(ogc, risk_class="hoog", limit=1))["next"]
    assert ogc.get(ITEMS, query_string=[("kind", "camping"), ("kind", "bungalowpark")]).status_code == 400


def test_one_feature_by_id_with_links(ogc: FlaskClient) -> None:
    first = _page(ogc, limit=1)["features"][0]
    resp = ogc.get(f"{ITEMS}/{first['id']}")
    assert resp.mimetype == "application/geo+json" and resp.headers["Content-Crs"] == f"<{CRS84}>"
    doc = resp.get_json()
    assert doc["id"] == first["id"] and doc["properties"] == first["properties"]
    assert {"self", "alternate", "collection"} <= set(_links(doc))
    rd = ogc.get(f"{ITEMS}/{first['id']}", query_string={"crs": RD_CRS})
    assert rd.headers["Content-Crs"] == f"<{RD_CRS}>" and rd.get_json()["geometry"]["coordinates"][0][0][0] > 1000
    for missing in ("999999", "abc", "-1"):
        resp = ogc.get(f"{ITEMS}/{missing}")
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


def test_an_unchanged_page_costs_a_304(ogc: FlaskClient) -> None:
    first = ogc.get(ITEMS, query_string={"limit": 5})
    again = ogc.get(ITEMS, query_string={"limit": 5}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_html_items_page_escapes_hostile_names(ogc: FlaskClient) -> None:
    html = ogc.get(ITEMS, query_string={"f": "html", "limit": 10_000}).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in html


# -- municipalities and hot spots ---------------------------------------------------------------------------
def test_municipal_aggregates_add_up_to_the_parks(ogc: FlaskClient) -> None:
    parks = _all(ogc)
    municipalities = _all(ogc, "/ogc/collections/municipalities/items")
    assert sum(m["properties"]["park_count"] for m in municipalities) == len(parks)
    for m in municipalities:
        p = m["properties"]
        mine = [f["properties"] for f in parks if (f["properties"]["municipality_code"] or "unknown") == m["id"]]
        assert p["park_count"] == len(mine)
        assert p["count_hoog"] == sum(1 for x in mine if x["risk_class"] == "hoog")
        assert p["count_laag"] + p["count_verhoogd"] + p["count_hoog"] + p["count_unscored"] == len(mine)
        scores = [x["score"] for x in mine if x["score"] is not None]
        assert p["max_score"] == (max(scores) if scores else None)
        assert p["mean_score"] == (pytest.approx(np.mean(scores), abs=0.01) if scores else None)
        assert m["geometry"] is None and p["boundary"] is False  # no boundaries imported in the demo


def test_municipal_boundaries_come_from_the_areas_table(private_ogc: tuple[Flask, FlaskClient]) -> None:
    ogc_app, ogc = private_ogc
    first = _all(ogc, "/ogc/collections/municipalities/items")[0]
    outline = shapely.box(150_000, 440_000, 220_000, 500_000)
    with runtime(ogc_app).store.begin() as conn:
        conn.execute(schema.areas.insert().values(level="municipality", code=first["id"], name="x",
                                                  geom_wkb=shapely.to_wkb(outline), minx=150_000, miny=440_000,
                                                  maxx=220_000, maxy=500_000, source="test"))
    doc = ogc.get(f"/ogc/collections/municipalities/items/{first['id']}", query_string={"crs": RD_CRS}).get_json()
    assert doc["properties"]["boundary"] is True
    assert shapely.geometry.shape(doc["geometry"]).equals(outline)
    inside = _all(ogc, "/ogc/collections/municipalities/items", bbox="200000,450000,201000,451000",
                  **{"bbox-crs": RD_CRS})
    assert [m["id"] for m in inside] == [first["id"]]


def test_hotspots_are_areas_around_hot_parks(ogc: FlaskClient) -> None:
    parks = {f["id"]: f for f in _all(ogc, crs=RD_CRS)}
    hot = {pid for pid, f in parks.items() if f["properties"]["hotspot"] == "hot"}
    areas = _all(ogc, "/ogc/collections/hotspots/items", crs=RD_CRS)
    assert hot and areas
    members = [int(i) for a in areas for i in a["properties"]["park_ids"].split(",")]
    assert sorted(members) == sorted(hot)  # every hot park in exactly one area
    for a in areas:
        shape = shapely.geometry.shape(a["geometry"])
        ids = [int(i) for i in a["properties"]["park_ids"].split(",")]
        assert a["id"] == min(ids) and a["properties"]["park_count"] == len(ids)
        for pid in ids:
            assert shape.contains(shapely.point_on_surface(shapely.geometry.shape(parks[pid]["geometry"])))

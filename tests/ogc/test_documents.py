"""The landing page, conformance, the collections and the OpenAPI 3.0 document: what the standard asks of them,
in JSON for a client that sends no Accept header and in HTML for f=html or a browser."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PAGES = ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/parks", "/ogc/api",
         "/ogc/collections/hotspots/queryables",
         "/ogc/collections/parks/items", "/ogc/collections/parks/items/1"]


def _rels(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lk["rel"]: lk for lk in doc["links"]}


def test_landing_page_links_what_the_standard_asks_for(ogc: FlaskClient) -> None:
    resp = ogc.get("/ogc")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    links = _rels(resp.get_json())
    assert links["self"]["type"] == "application/json"
    assert links["alternate"]["type"] == "text/html"
    assert links["service-desc"]["type"] == OPENAPI_30
    assert links["service-desc"]["href"].endswith("/ogc/api")
    assert links["service-doc"]["type"] == "text/html"
    assert links["conformance"]["href"].endswith("/ogc/conformance")
    assert links["data"]["href"].endswith("/ogc/collections")
    assert ogc.get("/ogc/").status_code == 200


def test_conformance_declares_core_geojson_html_oas30_crs_and_queryables(ogc: FlaskClient) -> None:
    classes = ogc.get("/ogc/conformance").get_json()["conformsTo"]
    assert {c.rsplit("/", 1)[-1] for c in classes} == {"core", "geojson", "html", "oas30", "crs", "queryables",
                                                       "queryables-query-parameters"}
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in classes


def test_collections_offer_crs84_and_rd_new(ogc: FlaskClient) -> None:
    doc = ogc.get("/ogc/collections").get_json()
    assert [c["id"] for c in doc["collections"]] == ["parks", "municipalities", "hotspots"]
    for c in doc["collections"]:
        assert c["itemType"] == "feature"
        assert c["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                            "http://www.opengis.net/def/crs/EPSG/0/28992"]
        assert c["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
        items = [lk for lk in c["links"] if lk["rel"] == "items"]
        assert {lk["type"] for lk in items} == {"application/geo+json", "text/html"}
    parks = doc["collections"][0]
    minx, miny, maxx, maxy = parks["extent"]["spatial"]["bbox"][0]
    assert 3 < minx < maxx < 8 and 50 < miny < maxy < 54
    assert parks["extent"]["temporal"]["interval"][0][0].endswith("T00:00:00Z")


def test_one_collection_and_an_unknown_one(ogc: FlaskClient) -> None:
    doc = ogc.get("/ogc/collections/municipalities").get_json()
    assert doc["id"] == "municipalities" and _rels(doc)["self"]["href"].endswith("/ogc/collections/municipalities")
    resp = ogc.get("/ogc/collections/campings")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert "parks" in resp.get_json()["detail"]


@pytest.mark.parametrize("path", PAGES)
def test_json_without_accept_html_with_f_html_or_a_browser(ogc: FlaskClient, path: str) -> None:
    plain = ogc.get(path)
    assert plain.status_code == 200
    assert plain.mimetype in ("application/json", "application/geo+json", "application/vnd.oai.openapi+json",
                              "application/schema+json")
    html = ogc.get(path, query_string={"f": "html"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "<script>" not in html.get_data(as_text=True) and " style=" not in html.get_data(as_text=True)
    assert "script-src 'self'" in html.headers["Content-Security-Policy"]
    assert ogc.get(path, headers={"Accept": BROWSER}).mimetype == "text/html"
    assert ogc.get(path, query_string={"f": "json"}).mimetype == plain.mimetype


@pytest.mark.parametrize("path", PAGES)
def test_unknown_parameters_are_a_400_naming_them(ogc: FlaskClient, path: str) -> None:
    resp = ogc.get(path, query_string={"colour": "red"})
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["invalid_params"] == [{"name": "colour", "reason": "unknown parameter"}]


def test_an_unoffered_format_is_a_406(ogc: FlaskClient) -> None:
    assert ogc.get("/ogc", query_string={"f": "xml"}).status_code == 400  # not a format of the vocabulary
    assert ogc.get("/ogc/collections", headers={"Accept": "application/xml"}).status_code == 406


def test_every_ogc_route_needs_an_analysts_token(ogc_app) -> None:
    anonymous = ogc_app.test_client()
    for path in PAGES:
        resp = anonymous.get(path)
        assert resp.status_code == 401 and resp.mimetype == "application/problem+json", path


def test_queryables_are_the_properties_as_json_schema(ogc: FlaskClient) -> None:
    doc = ogc.get("/ogc/collections/parks/queryables").get_json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc["type"] == "object"
    assert doc["properties"]["score"]["type"] == ["number", "null"]
    assert doc["properties"]["risk_class"]["enum"] == ["laag", "verhoogd", "hoog"]
    links = ogc.get("/ogc/collections/parks").get_json()["links"]
    assert any(lk["rel"].endswith("/queryables") for lk in links)


# -- the OpenAPI document -------------------------------------------------------------------------------------
def _walk(node: Any) -> list[Any]:
    out = [node]
    if isinstance(node, dict):
        for v in node.values():
            out += _walk(v)
    elif isinstance(node, list):
        for v in node:
            out += _walk(v)
    return out


def test_the_api_definition_is_openapi_30(ogc: FlaskClient) -> None:
    resp = ogc.get("/ogc/api")
    assert resp.headers["Content-Type"] == OPENAPI_30
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.0.")
    schemas = [n for n in _walk(doc) if isinstance(n, dict) and "type" in n and not isinstance(n["type"], dict)]
    assert not [s for s in schemas if s["type"] == "null" or isinstance(s["type"], list)], "3.0 has no null type"
    assert not [n for n in _walk(doc) if isinstance(n, dict) and ("examples" in n or "const" in n)
                and "schema" not in n]
    assert {"/", "/conformance", "/api", "/collections", "/collections/parks", "/collections/parks/items",
            "/collections/parks/items/{featureId}", "/collections/hotspots/items"} <= set(doc["paths"])


def test_the_items_paths_list_the_standard_and_the_property_parameters(ogc: FlaskClient) -> None:
    doc = ogc.get("/ogc/api").get_json()
    params = {p["name"]: p for p in doc["paths"]["/collections/parks/items"]["get"]["parameters"]}
    assert {"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f", "score", "risk_class"} <= set(params)
    assert params["bbox"]["schema"]["type"] == "array" and params["bbox"]["explode"] is False
    assert params["limit"]["schema"] == {"type": "integer", "default": 100, "minimum": 1, "maximum": 10_000}
    assert params["risk_class"]["schema"]["enum"] == ["laag", "verhoogd", "hoog"]
    assert params["crs"]["schema"]["nullable"] is True
    municipal = {p["name"] for p in doc["paths"]["/collections/municipalities/items"]["get"]["parameters"]}
    assert "count_hoog" in municipal and "risk_class" not in municipal
    responses = doc["paths"]["/collections/parks/items"]["get"]["responses"]
    assert responses["200"]["content"]["application/geo+json"]["schema"] == {
        "$ref": "#/components/schemas/parksFeatureCollectionGeoJSON"}
    assert responses["400"] == {"$ref": "#/components/responses/E400"}


def test_the_api_definition_validates_as_openapi_30(ogc: FlaskClient) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(ogc.get("/ogc/api").get_json())

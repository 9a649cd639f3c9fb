"""The pieces under the views: CRS names, query parsing into a catalogue filter, JSON Schema to OpenAPI 3.0."""
from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.datastructures import MultiDict

from service.api.problems import BadRequest
from service.ogc.openapi import to_oas30
from service.ogc.query import MAX_LIMIT, parse_crs, parse_items
from service.reads.catalogue import CRS84, RD_CRS


@pytest.mark.parametrize("name, uri", [
    (CRS84, CRS84), (RD_CRS, RD_CRS), ("EPSG:28992", RD_CRS), ("epsg:28992", RD_CRS), ("[EPSG:28992]", RD_CRS),
    ("urn:ogc:def:crs:EPSG::28992", RD_CRS), ("OGC:CRS84", CRS84), ("https://www.opengis.net/def/crs/EPSG/0/28992",
                                                                    RD_CRS)])
def test_crs_spellings_resolve_to_the_offered_uris(name: str, uri: str) -> None:
    assert parse_crs(name) == uri


@pytest.mark.parametrize("name", ["EPSG:4326", "EPSG:3857", "", "28992"])
def test_crs_not_offered(name: str) -> None:
    with pytest.raises(ValueError, match="offered"):
        parse_crs(name)


def test_items_query_becomes_a_catalogue_filter() -> None:
    q, equals = parse_items(MultiDict([("bbox", "5.6,52.1,6.0,52.4"), ("datetime", "2024-01-01/.."),
                                       ("risk_class", "hoog"), ("limit", "99999")]), ["risk_class", "name"])
    flt = q.to_filter(equals)
    assert flt.bbox == (5.6, 52.1, 6.0, 52.4) and flt.bbox_crs == CRS84
    assert (flt.as_of_from, flt.as_of_to) == (dt.date(2024, 1, 1), None)
    assert flt.equals == (("risk_class", "hoog"),)
    assert q.page_size == MAX_LIMIT


def test_a_property_that_is_not_queryable_is_unknown() -> None:
    with pytest.raises(BadRequest, match="unknown query parameter"):
        parse_items(MultiDict([("colour", "red")]), ["risk_class"])


def test_json_schema_to_openapi_30() -> None:
    assert to_oas30({"anyOf": [{"type": "string"}, {"type": "null"}], "title": "X", "default": None}) == {
        "type": "string", "nullable": True, "default": None}
    assert to_oas30({"const": "a"}) == {"enum": ["a"]}
    assert to_oas30({"type": ["integer", "null"], "examples": [3]}) == {"type": "integer", "nullable": True,
                                                                       "example": 3}
    assert to_oas30({"anyOf": [{"type": "string"}, {"type": "integer"}]}) == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert to_oas30({"type": "array", "items": {"anyOf": [{"type": "number"}, {"type": "null"}]}}) == {
        "type": "array", "items": {"type": "number", "nullable": True}}

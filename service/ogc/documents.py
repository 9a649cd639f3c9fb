"""The JSON documents of OGC API – Features besides the features: landing page, conformance, collections.

Built as plain dicts with absolute links (``url_for(..., _external=True)``), so the HTML pages render the very
same documents. Media types and link relations are the standard's (Part 1, Part 2).
"""
from __future__ import annotations

from typing import Any

from flask import url_for

from .collections import COLLECTIONS, Collection, Features, spatial_extent
from .query import CRS_URIS

__all__ = ["JSON", "GEOJSON", "HTML", "OPENAPI_30", "CONFORMANCE", "link", "self_links", "landing_page",
           "conformance", "collection_document", "collections_document", "queryables_document", "TITLE",
           "SCHEMA_JSON"]

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
TITLE = "Parkwacht OGC API – Features"
_OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0/"
_TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
_STORAGE_CRS = CRS_URIS[1]  # parks are stored in RD New

#: The conformance classes this service implements.
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
)


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, Any]:
    out = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


def self_links(endpoint: str, fmt: str, json_type: str = JSON, **view_args: Any) -> list[dict[str, Any]]:
    """``self`` in the format answered and ``alternate`` in the other one."""
    as_json = link(url_for(endpoint, _external=True, **view_args), "self", json_type, "this document")
    as_html = link(url_for(endpoint, _external=True, f="html", **view_args), "self", HTML, "this document as HTML")
    if fmt == "html":
        return [as_html, {**as_json, "rel": "alternate", "title": "this document as JSON"}]
    return [as_json, {**as_html, "rel": "alternate"}]


def landing_page(fmt: str) -> dict[str, Any]:
    """The landing page: what this is and where the API definition, conformance and data are."""
    return {
        "title": TITLE,
        "description": "Dutch holiday parks with their published ondermijning risk scores, municipal aggregates and "
                       "regional hot spots, for GIS tools (QGIS, GDAL, OWSLib). Coordinates in CRS84 by default; "
                       "RD New (EPSG:28992) on request with crs=. A score leads to a visit, never to a sanction.",
        "links": [
            *self_links("ogc.landing", fmt),
            link(url_for("ogc.api", _external=True), "service-desc", OPENAPI_30, "the API definition (OpenAPI 3.0)"),
            link(url_for("ogc.api", _external=True, f="html"), "service-doc", HTML, "the API documentation"),
            link(url_for("ogc.conformance", _external=True), "conformance", JSON, "conformance classes"),
            link(url_for("ogc.conformance", _external=True), _OGC_REL + "conformance", JSON, "conformance classes"),
            link(url_for("ogc.collections", _external=True), "data", JSON, "the feature collections"),
            link(url_for("ogc.collections", _external=True), _OGC_REL + "data", JSON, "the feature collections"),
        ],
    }


def conformance(fmt: str) -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE), "links": self_links("ogc.conformance", fmt)}


def _extent(coll: Collection, data: Features) -> dict[str, Any]:
    box = spatial_extent(coll.id, data)
    extent: dict[str, Any] = {"spatial": {"bbox": [box or [-180.0, -90.0, 180.0, 90.0]], "crs": CRS_URIS[0]}}
    days = sorted({p["as_of"] for p in data.props if p.get("as_of")})
    if days:
        extent["temporal"] = {"interval": [[f"{days[0]}T00:00:00Z", f"{days[-1]}T23:59:59Z"]], "trs": _TRS}
    return extent


def collection_document(coll: Collection, data: Features, fmt: str = "json",
                        with_self: bool = True) -> dict[str, Any]:
    """One collection: texts, extent, CRSs (Part 2) and links to its items."""
    links = self_links("ogc.collection", fmt, collection_id=coll.id) if with_self else [
        link(url_for("ogc.collection", _external=True, collection_id=coll.id), "self", JSON, coll.title)]
    links += [
        link(url_for("ogc.items", _external=True, collection_id=coll.id), "items", GEOJSON, "the features as GeoJSON"),
        link(url_for("ogc.items", _external=True, collection_id=coll.id, f="html"), "items", HTML,
             "the features as HTML"),
        link(url_for("ogc.queryables", _external=True, collection_id=coll.id), _OGC_REL + "queryables",
             SCHEMA_JSON, "the properties to filter on"),
    ]
    return {
        "id": coll.id, "title": coll.title, "description": coll.description, "keywords": list(coll.keywords),
        "itemType": "feature", "links": links, "extent": _extent(coll, data),
        "crs": list(CRS_URIS), "storageCrs": _STORAGE_CRS, "numberOfFeatures": len(data),
    }


def queryables_document(coll: Collection) -> dict[str, Any]:
    """The collection's properties as a JSON Schema (2020-12: a nullable property may also be null)."""
    props = {}
    for name, schema in coll.properties.items():
        prop = {k: v for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") and "type" in prop:
            prop["type"] = [prop["type"], "null"]
        props[name] = prop
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": url_for("ogc.queryables", _external=True, collection_id=coll.id), "type": "object",
            "title": coll.title, "properties": props}


def collections_document(loaded: dict[str, Features], fmt: str) -> dict[str, Any]:
    """Every collection, each as in :func:`collection_document`, plus the CRSs offered."""
    return {
        "links": self_links("ogc.collections", fmt),
        "collections": [collection_document(COLLECTIONS[cid], data, with_self=False) for cid, data in loaded.items()],
        "crs": list(CRS_URIS),
    }

"""The OpenAPI 3.0 document of ``/ogc``, generated from the routes' own descriptions (``@documented``).

OGC API – Features Part 1 asks for OpenAPI 3.0 (conformance class ``oas30``). The query parameters come from
the same pydantic models that validate requests, converted from JSON Schema 2020-12 to OpenAPI 3.0 (``nullable``
instead of a ``null`` type, ``example`` instead of ``examples``). Paths under ``{collectionId}`` are written out
per collection, as OGC servers do, so each items path lists its own property filters (GDAL reads them to
filter on the server). The few response schemas are the standard's, written by hand.
"""
from __future__ import annotations

import re
from typing import Any

from flask import current_app, url_for

from ..access import required_role
from ..api.spec import PROBLEM, OperationDoc, Query, operation_doc
from .collections import COLLECTIONS, Collection
from .documents import TITLE

__all__ = ["build_document", "to_oas30", "SCHEMA"]

_PREFIX = "/ogc"
_VARIABLE = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_ERROR_TEXTS = {400: "a parameter is unknown or malformed", 401: "no or an unknown bearer token",
                403: "the token's role may not use this", 404: "no such collection or feature",
                406: "none of the accepted media types is offered", 500: "the server could not answer"}


def SCHEMA(name: str) -> dict[str, str]:  # noqa: N802  (reads like the reference it makes)
    """A reference to a schema of this document's components."""
    return {"$ref": f"#/components/schemas/{name}"}


def to_oas30(schema: Any) -> Any:
    """A JSON Schema 2020-12 fragment (as pydantic writes it) in OpenAPI 3.0's dialect."""
    if isinstance(schema, list):
        return [to_oas30(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: to_oas30(v) for k, v in schema.items() if k not in ("title", "examples", "const", "anyOf")}
    if "examples" in schema and schema["examples"]:
        out["example"] = schema["examples"][0]
    if "const" in schema:
        out["enum"] = [schema["const"]]
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(options) < len(schema["anyOf"]):
            out["nullable"] = True
        if len(options) == 1:
            out = {**to_oas30(options[0]), **out}
        else:
            out["anyOf"] = to_oas30(options)
    if isinstance(out.get("type"), list):  # ["string", "null"]
        types = [t for t in out["type"] if t != "null"]
        out["nullable"] = out.get("nullable", False) or len(types) < len(out["type"])
        out["type"] = types[0] if len(types) == 1 else types
    return out


def _parameters(model: type[Query]) -> list[dict[str, Any]]:
    """One query parameter per field of ``model``; ``bbox`` in the standard's array form."""
    schema = model.model_json_schema(by_alias=True)
    params = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.get("description")
        if name == "bbox":
            param = {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
                     "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}}
        else:
            param = {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
                     "schema": {k: v for k, v in to_oas30(prop).items() if k != "description"}}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _property_parameters(coll: Collection) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "style": "form", "explode": False,
             "description": f"only features whose {name} equals this value", "schema": schema}
            for name, schema in coll.properties.items()]


def _responses(doc: OperationDoc, coll: Collection | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, answer in sorted(doc.responses.items()):
        entry: dict[str, Any] = {"description": answer.description}
        if answer.schema is not None and answer.media_types:
            schema = answer.schema if isinstance(answer.schema, dict) else {"type": "object"}
            base = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
            if coll is not None and base in ("featureGeoJSON", "featureCollectionGeoJSON"):
                schema = SCHEMA(coll.id + base[0].upper() + base[1:])  # the collection's own feature schema
            entry["content"] = {m: {"schema": {"type": "string"} if m == "text/html" else schema}
                                for m in answer.media_types}
        if answer.headers:
            entry["headers"] = {h: {"schema": {"type": "string"}} for h in answer.headers}
        out[str(status)] = entry
    for status in sorted({*doc.errors, 401, 403, 500}):
        out[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    return out


def _operation(endpoint: str, doc: OperationDoc, role: str | None, coll: Collection | None,
               path_params: list[str]) -> dict[str, Any]:
    name = endpoint.split(".", 1)[-1]
    params: list[dict[str, Any]] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                    for p in path_params]
    if doc.params is not None:
        params += _parameters(doc.params)
    if coll is not None and name == "items":
        params += _property_parameters(coll)
    op: dict[str, Any] = {
        "operationId": f"{name}_{coll.id}" if coll else name, "summary": doc.summary + (f": {coll.id}" if coll else ""),
        "description": (doc.description + (f" Needs the {role} role." if role else "")).strip(),
        "tags": list(doc.tags), "parameters": params, "responses": _responses(doc, coll),
    }
    return op


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    app = current_app
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("ogc.")), key=lambda r: r.rule)
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        doc = operation_doc(view)
        if doc is None:
            continue
        template = rule.rule.removeprefix(_PREFIX) or "/"
        variables = _VARIABLE.findall(template)
        for coll in (COLLECTIONS.values() if "collection_id" in variables else [None]):
            path = template.replace("<collection_id>", coll.id) if coll else template
            path = path.replace("<feature_id>", "{featureId}")
            path_params = ["featureId"] if "feature_id" in variables else []
            paths.setdefault(path, {})["get"] = _operation(rule.endpoint, doc, required_role(view), coll, path_params)
    return paths


_LINK = {"type": "object", "required": ["href", "rel"], "properties": {
    "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
    "hreflang": {"type": "string"}, "title": {"type": "string"}, "length": {"type": "integer"}}}
_LINKS = {"type": "array", "items": SCHEMA("link")}
_GEOMETRY = {"type": "object", "nullable": True, "required": ["type"], "properties": {
    "type": {"type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                                        "MultiPolygon", "GeometryCollection"]},
    "coordinates": {"type": "array", "items": {}}, "geometries": {"type": "array", "items": {"type": "object"}}}}
_FEATURE = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
    "type": {"type": "string", "enum": ["Feature"]}, "geometry": SCHEMA("geometryGeoJSON"),
    "properties": {"type": "object", "nullable": True}, "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "links": _LINKS}}
_FEATURES = {"type": "object", "required": ["type", "features"], "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]}, "features": {"type": "array", "items": {}},
    "links": _LINKS, "numberMatched": {"type": "integer", "minimum": 0},
    "numberReturned": {"type": "integer", "minimum": 0}, "timeStamp": {"type": "string", "format": "date-time"}}}
_COLLECTION = {"type": "object", "required": ["id", "links"], "properties": {
    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"}, "links": _LINKS,
    "extent": {"type": "object"}, "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}},
    "storageCrs": {"type": "string"}}}
_STATIC_SCHEMAS: dict[str, Any] = {
    "link": _LINK,
    "landingPage": {"type": "object", "required": ["links"], "properties": {
        "title": {"type": "string"}, "description": {"type": "string"}, "links": _LINKS}},
    "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
        "conformsTo": {"type": "array", "items": {"type": "string"}}}},
    "collection": _COLLECTION,
    "collections": {"type": "object", "required": ["links", "collections"], "properties": {
        "links": _LINKS, "collections": {"type": "array", "items": SCHEMA("collection")},
        "crs": {"type": "array", "items": {"type": "string"}}}},
    "geometryGeoJSON": _GEOMETRY,
    "featureGeoJSON": _FEATURE,
    "featureCollectionGeoJSON": _FEATURES,
    "exception": {"type": "object", "required": ["title", "status"], "description": "RFC 9457 problem details",
                  "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                 "status": {"type": "integer"}, "detail": {"type": "string"},
                                 "invalid_params": {"type": "array", "items": {"type": "object"}}}},
}


def _collection_schemas() -> dict[str, Any]:
    """Per collection: its properties, its feature and its feature collection (clients can be generated)."""
    out: dict[str, Any] = {}
    for cid, coll in COLLECTIONS.items():
        out[f"{cid}Properties"] = {"type": "object", "properties": coll.properties}
        out[f"{cid}FeatureGeoJSON"] = {"allOf": [SCHEMA("featureGeoJSON"), {"type": "object", "properties": {
            "properties": SCHEMA(f"{cid}Properties")}}]}
        out[f"{cid}FeatureCollectionGeoJSON"] = {"allOf": [SCHEMA("featureCollectionGeoJSON"), {
            "type": "object", "properties": {"features": {"type": "array", "items": SCHEMA(f"{cid}FeatureGeoJSON")}}}]}
    return out


def build_document() -> dict[str, Any]:
    """The whole document for the current request's host."""
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": "1.0.0",
                 "description": "OGC API – Features (Parts 1 and 2) over Parkwacht's parks, municipal aggregates and "
                                "hot spots. Every operation needs a bearer token of an analyst."},
        "servers": [{"url": url_for("ogc.landing", _external=True)}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": "Capabilities"}, {"name": "Data"}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {**_STATIC_SCHEMAS, **_collection_schemas()},
            "responses": {f"E{status}": {"description": text, "content": {PROBLEM: {"schema": SCHEMA("exception")}}}
                          for status, text in _ERROR_TEXTS.items()},
        },
    }

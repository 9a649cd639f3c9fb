"""The OpenAPI 3.1 document of ``/api/v1``, generated from the routes and their descriptions, and the
interactive documentation page (Swagger UI, served by the app itself under the pages' CSP)."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, json, render_template, url_for
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..access import PUBLIC, required_role, requires
from . import bp, schemas
from .spec import JSON, PROBLEM, OperationDoc, Query, documented, operation_doc
from .spec import Response as Doc

__all__ = ["build_document", "undocumented_operations", "ROUTE_DOCS"]

_PREFIX = "/api/v1"
_REF = "#/components/schemas/{model}"
_MAX_ID = 2**31 - 1  # the largest id an integer column holds on PostgreSQL (larger ids answer 404)


class SignalPostQuery(Query):
    """Query parameters of ``POST /signals``."""

    source: str | None = None
    crs: str | None = None


class ImportsQuery(Query):
    """``GET /imports`` takes no parameters."""


#: Descriptions of routes defined elsewhere without ``@documented`` (keyed by endpoint).
ROUTE_DOCS: dict[str, OperationDoc] = {
    "api.post_signals": OperationDoc(
        "Store signals", tags=("signals",), params=SignalPostQuery, errors=(400, 409, 413, 415, 422),
        description="Takes a JSON list of signals, {\"signals\": [...]} or a GeoJSON FeatureCollection; answers "
                    "with what was stored and each rejected row with its reason (422 when everything was rejected).",
        body={"oneOf": [{"type": "array", "items": {"$ref": _REF.format(model="SignalPost")}},
                        {"type": "object", "required": ["signals"], "properties": {
                            "signals": {"type": "array", "items": {"$ref": _REF.format(model="SignalPost")}}}},
                        {"type": "object", "required": ["type", "features"],
                         "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}}}]},
        responses={201: Doc("stored", schemas.SignalImport), 200: Doc("nothing new", schemas.SignalImport)}),
    "api.list_imports": OperationDoc(
        "Import batches", tags=("imports",), params=ImportsQuery,
        responses={200: Doc("recent batches", {"type": "object", "properties": {"batches": {"type": "array"}}})}),
    "api.get_model": OperationDoc(
        "The model card", tags=("meta",),
        description="Purpose, factors with weights and rationale, thresholds, data sources and their gaps, the "
                    "latest backtest figures; shaped for the Dutch algorithm register.",
        responses={200: Doc("the model card", {"type": "object"})}),
    "api.get_rejected": OperationDoc(
        "Rejected rows of a batch", tags=("imports",), errors=(404,),
        responses={200: Doc("rows with reasons", {"type": "object", "properties": {
            "batch_id": {"type": "integer"}, "rejected": {"type": "array"}}})}),
}


def _doc(app: Flask, endpoint: str) -> OperationDoc | None:
    return operation_doc(app.view_functions[endpoint]) or ROUTE_DOCS.get(endpoint)


def _api_rules(app: Flask) -> list[Any]:
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(_PREFIX + "/")]


def undocumented_operations(app: Flask) -> list[str]:
    """API routes that the document would leave out (a test keeps this empty)."""
    return sorted(r.endpoint for r in _api_rules(app) if _doc(app, r.endpoint) is None)


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for conv, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": _MAX_ID} if conv == "int" else {
            "type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)[len(_PREFIX):], params


def _query_params(model: type[Query] | None, defs: dict[str, Any]) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if prop.get("description"):
            param["description"] = prop["description"]
        if "array" in _types(prop):
            param.update(style="form", explode=False)
        out.append(param)
    return out


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type")
    found = {kind} if isinstance(kind, str) else set()
    for alt in prop.get("anyOf", []):
        found |= _types(alt)
    return found


def _schema(value: type[BaseModel] | dict[str, Any] | None, models: set[type[BaseModel]]) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    models.add(value)
    return {"$ref": _REF.format(model=value.__name__)}


def _operation(endpoint: str, doc: OperationDoc, role: str | None, path_params: list[dict[str, Any]],
               defs: dict[str, Any], models: set[type[BaseModel]]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, r in doc.responses.items():
        entry: dict[str, Any] = {"description": r.description}
        schema = _schema(r.schema, models)
        if r.media_types:
            typed = {JSON, "application/geo+json"} if len(r.media_types) > 1 else set(r.media_types)
            entry["content"] = {m: ({"schema": schema} if schema and m in typed else {}) for m in r.media_types}
        if r.headers:
            entry["headers"] = {h: {"schema": {"type": "string"}} for h in r.headers}
        responses[str(status)] = entry
    problem = {PROBLEM: {"schema": {"$ref": _REF.format(model="Problem")}}}
    errors = set(doc.errors) | {500} | ({401, 403} if role != PUBLIC else set())
    for status in sorted(errors):
        responses.setdefault(str(status), {"description": "problem details (RFC 9457)", "content": problem})
    op: dict[str, Any] = {"operationId": endpoint.split(".", 1)[-1], "summary": doc.summary, "tags": list(doc.tags),
                          "parameters": path_params + _query_params(doc.params, defs), "responses": responses}
    if doc.description:
        op["description"] = doc.description
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {m: {"schema": _schema(doc.body, models)}
                                                           for m in doc.body_media_types}}
    if role not in (None, PUBLIC):
        op["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
        op["x-required-role"] = role
    return op


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``/api/v1`` route."""
    paths: dict[str, dict[str, Any]] = {}
    defs: dict[str, Any] = {}
    models: set[type[BaseModel]] = {schemas.Problem, schemas.SignalPost}
    for rule in sorted(_api_rules(app), key=lambda r: r.rule):
        doc = _doc(app, rule.endpoint)
        if doc is None:
            continue
        path, path_params = _path(rule.rule)
        role = required_role(app.view_functions[rule.endpoint])
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, doc, role, path_params, defs,
                                                                    models)
    _refs, generated = models_json_schema([(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)],
                                          ref_template=_REF)
    defs.update(generated.get("$defs", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Parkwacht API", "version": _version(),
                 "description": "Holiday parks with their explainable risk scores, for governance analysts. Scores are "
                                "per park, never per person; a score leads to a visit, never to a sanction."},
        "servers": [{"url": _PREFIX}],
        "paths": paths,
        "components": {"schemas": defs, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"}}},
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("parkwacht")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0"


def _document_text() -> str:
    """The document, built once per app (routes do not change while it runs)."""
    text = current_app.extensions.get("parkwacht_openapi")
    if text is None:
        text = current_app.extensions["parkwacht_openapi"] = json.dumps(build_document(current_app))
    return str(text)


@bp.get("/openapi.json")
@requires("analyst")
@documented("This document", tags=("meta",), responses={200: Doc("the OpenAPI 3.1 document", {"type": "object"})})
def openapi_document() -> Response:
    return Response(_document_text(), mimetype=JSON)


@bp.get("/docs")
@requires("analyst")
@documented("Interactive documentation", tags=("meta",),
            responses={200: Doc("an HTML page (Swagger UI)", {"type": "string"}, ("text/html",))})
def openapi_page() -> str:
    return render_template("api_docs.html", spec_url=url_for("api.openapi_document"))

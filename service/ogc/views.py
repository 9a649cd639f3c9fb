"""Routes of ``/ogc``: each parses its query, calls the core (through :mod:`.collections`) and renders JSON or
HTML. JSON is the answer for a client that sends no ``Accept`` header; HTML for ``f=html`` or a browser."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
from flask import Response, render_template, request, url_for

from .. import exports
from ..access import requires
from ..api.http import etag_for, negotiate, not_modified, page_links, with_etag
from ..api.spec import Response as Doc
from ..api.spec import documented, parse_query
from ..app import runtime
from ..auth.trail import audited
from ..reads import NotFound
from ..reads.catalogue import CRS84
from . import bp
from .collections import COLLECTIONS, collection
from .documents import (
    GEOJSON,
    HTML,
    JSON,
    OPENAPI_30,
    SCHEMA_JSON,
    TITLE,
    collection_document,
    collections_document,
    conformance,
    landing_page,
    link,
    queryables_document,
)
from .openapi import SCHEMA, build_document
from .query import FormatQuery, ItemQuery, ItemsQuery, content_crs, parse_items

__all__ = ["landing", "conformance_page", "api", "collections_page", "collection_page", "queryables", "items",
           "item"]

_DOC_MEDIA = {"json": JSON, "html": HTML}
_FEATURE_MEDIA = {"json": GEOJSON, "html": HTML}
_ERRORS = (400, 406)
#: Pages with more features than this are streamed in chunks rather than joined into one string first.
_STREAM_FROM = 1000


def _answer(document: dict[str, Any], fmt: str, template: str, media_type: str = JSON, **context: Any) -> Response:
    if fmt == "html":
        return Response(render_template(template, doc=document, title=TITLE, **context), mimetype=HTML)
    return Response(json.dumps(document, ensure_ascii=False), content_type=media_type)


def _format(f: str | None, offered: dict[str, str]) -> str:
    return negotiate(f, offered, "json")


@bp.get("", strict_slashes=False)
@requires("analyst")
@documented("Landing page", tags=("Capabilities",), params=FormatQuery, errors=_ERRORS,
            description="Links to the API definition, the conformance declaration and the collections.",
            responses={200: Doc("the landing page", SCHEMA("landingPage"), (JSON, HTML))})
def landing() -> Response:
    q = parse_query(FormatQuery, request.args)
    fmt = _format(q.f, _DOC_MEDIA)
    return _answer(landing_page(fmt), fmt, "ogc/landing.html")


@bp.get("/conformance", endpoint="conformance")
@requires("analyst")
@documented("Conformance classes", tags=("Capabilities",), params=FormatQuery, errors=_ERRORS,
            description="The conformance classes of OGC API – Features Parts 1 and 2 this server implements.",
            responses={200: Doc("the conformance declaration", SCHEMA("confClasses"), (JSON, HTML))})
def conformance_page() -> Response:
    q = parse_query(FormatQuery, request.args)
    fmt = _format(q.f, _DOC_MEDIA)
    return _answer(conformance(fmt), fmt, "ogc/conformance.html")


@bp.get("/api")
@requires("analyst")
@documented("API definition", tags=("Capabilities",), params=FormatQuery, errors=_ERRORS,
            description="This document: OpenAPI 3.0, generated from the routes' own descriptions; f=html for a "
                        "readable page.",
            responses={200: Doc("the API definition", {"type": "object"}, (OPENAPI_30, HTML))})
def api() -> Response:
    q = parse_query(FormatQuery, request.args)
    fmt = _format(q.f, {"json": OPENAPI_30, "html": HTML})
    return _answer(build_document(), fmt, "ogc/api.html", media_type=OPENAPI_30)


@bp.get("/collections", endpoint="collections")
@requires("analyst")
@documented("Feature collections", tags=("Data",), params=FormatQuery, errors=_ERRORS,
            description="Parks with their scores, municipal aggregates and regional hot spots.",
            responses={200: Doc("the collections", SCHEMA("collections"), (JSON, HTML))})
def collections_page() -> Response:
    q = parse_query(FormatQuery, request.args)
    fmt = _format(q.f, _DOC_MEDIA)
    store = runtime().store
    loaded = {cid: c.load(store) for cid, c in COLLECTIONS.items()}
    return _answer(collections_document(loaded, fmt), fmt, "ogc/collections.html")


@bp.get("/collections/<collection_id>", endpoint="collection")
@requires("analyst")
@documented("One feature collection", tags=("Data",), params=FormatQuery, errors=(*_ERRORS, 404),
            description="The collection's extent, CRSs and links to its items.",
            responses={200: Doc("the collection", SCHEMA("collection"), (JSON, HTML))})
def collection_page(collection_id: str) -> Response:
    coll = collection(collection_id)
    q = parse_query(FormatQuery, request.args)
    fmt = _format(q.f, _DOC_MEDIA)
    doc = collection_document(coll, coll.load(runtime().store), fmt)
    return _answer(doc, fmt, "ogc/collection.html", properties=coll.properties)


@bp.get("/collections/<collection_id>/queryables")
@requires("analyst")
@documented("Queryable properties", tags=("Data",), params=FormatQuery, errors=(*_ERRORS, 404),
            description="The properties a client may filter on with property=value (Part 3, queryables as query "
                        "parameters), as a JSON Schema.",
            responses={200: Doc("the queryables", {"type": "object"}, (SCHEMA_JSON, HTML))})
def queryables(collection_id: str) -> Response:
    coll = collection(collection_id)
    q = parse_query(FormatQuery, request.args)
    fmt = _format(q.f, {"json": SCHEMA_JSON, "html": HTML})
    return _answer(queryables_document(coll), fmt, "ogc/queryables.html", media_type=SCHEMA_JSON, collection=coll)


@bp.get("/collections/<collection_id>/items")
@requires("analyst")
@documented("Features of a collection", tags=("Data",), params=ItemsQuery, errors=(*_ERRORS, 404),
            description="A page of features: filter with bbox (bbox-crs), datetime (the score's as-of date) and "
                        "property=value; follow the next link for the following page. crs= chooses CRS84 or RD New.",
            responses={200: Doc("a page of features", SCHEMA("featureCollectionGeoJSON"), (GEOJSON, HTML),
                                ("Content-Crs",)),
                       304: Doc("not modified since the ETag in If-None-Match", None, ())})
def items(collection_id: str) -> Response:
    coll = collection(collection_id)
    q, equals = parse_items(request.args, coll.properties)
    fmt = _format(q.f, _FEATURE_MEDIA)
    data = coll.load(runtime().store)
    etag = etag_for(coll.id, data.version, sorted(request.args.items(multi=True)), fmt)
    unchanged = not_modified(etag)
    if unchanged is not None:
        return unchanged
    positions = data.select(q.to_filter(equals))
    page = positions[q.offset:q.offset + q.page_size]
    crs = q.crs or CRS84
    texts = data.features(page, crs=crs)
    media = HTML if fmt == "html" else GEOJSON
    alternate = ("json", GEOJSON) if fmt == "html" else ("html", HTML)
    links = page_links("ogc.items", limit=q.page_size, offset=q.offset, matched=len(positions),
                       returned=len(page), media_type=media, alternates=[alternate], collection_id=coll.id)
    links.append(link(url_for("ogc.collection", _external=True, collection_id=coll.id), "collection", JSON,
                      coll.title))
    members = {"numberMatched": len(positions), "numberReturned": len(page), "links": links}
    if fmt == "html":
        resp = Response(render_template("ogc/items.html", doc=members, title=TITLE, collection=coll,
                                        features=[json.loads(t) for t in texts], offset=q.offset), mimetype=HTML)
    else:
        body = exports.feature_collection(texts, members)
        # A page of a few hundred features is sent whole (with a length); the national page is streamed.
        resp = Response(body if len(page) > _STREAM_FROM else "".join(body), mimetype=GEOJSON)
        resp.headers["Content-Crs"] = content_crs(crs)
    return with_etag(resp, etag)


@bp.get("/collections/<collection_id>/items/<feature_id>")
@requires("analyst")
@audited("feature.view", "{collection_id}:{feature_id}")
@documented("One feature", tags=("Data",), params=ItemQuery, errors=(*_ERRORS, 404),
            description="One feature by its id, with links to the collection.",
            responses={200: Doc("the feature", SCHEMA("featureGeoJSON"), (GEOJSON, HTML), ("Content-Crs",))})
def item(collection_id: str, feature_id: str) -> Response:
    coll = collection(collection_id)
    q = parse_query(ItemQuery, request.args)
    fmt = _format(q.f, _FEATURE_MEDIA)
    data = coll.load(runtime().store)
    position = coll.position(data, feature_id)
    if position is None:
        raise NotFound(f"collection {coll.id!r} has no feature {feature_id!r}")
    crs = q.crs or CRS84
    text = data.features(np.array([position]), crs=crs)[0]
    args = {"collection_id": coll.id, "feature_id": feature_id, **({"crs": q.crs} if q.crs else {})}
    self_json = link(url_for("ogc.item", _external=True, **args), "self", GEOJSON, "this feature")
    self_html = link(url_for("ogc.item", _external=True, f="html", **args), "self", HTML, "this feature as HTML")
    links = [self_html, {**self_json, "rel": "alternate"}] if fmt == "html" else [
        self_json, {**self_html, "rel": "alternate"}]
    links.append(link(url_for("ogc.collection", _external=True, collection_id=coll.id), "collection", JSON,
                      coll.title))
    if fmt == "html":
        resp = Response(render_template("ogc/item.html", feature=json.loads(text), links=links, title=TITLE,
                                        collection=coll), mimetype=HTML)
    else:
        resp = Response(text[:-1] + ',"links":' + json.dumps(links, ensure_ascii=False) + "}", mimetype=GEOJSON)
        resp.headers["Content-Crs"] = content_crs(crs)
    return resp


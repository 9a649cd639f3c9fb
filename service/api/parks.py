"""The analysts' park endpoints: the scored park list (and its exports), one park in full, its signals."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

import shapely
from flask import Response, json, request, stream_with_context
from pydantic import Field, field_validator

from .. import exports, geo, privacy, reads, scoring
from ..access import requires
from ..app import runtime
from ..auth.guard import current_principal
from ..auth.trail import audit_event, audited
from ..reads.catalogue import CRS84, SORT_FIELDS, ParkFilter, catalogue
from ..reads.changes import changed_park_ids, resolve_reference
from ..vocab import HOTSPOT_LABELS, PARK_KINDS, RISK_CLASSES, SIGNAL_TYPES
from . import bp, schemas
from .http import etag_for, negotiate, not_modified, page_links, with_etag
from .problems import BadRequest
from .spec import GEOJSON, JSON, OneOf, Query, documented, parse_query
from .spec import Response as Doc

__all__ = ["ParksQuery", "ParkSignalsQuery", "parse_bbox"]

Kind = Annotated[str, OneOf(PARK_KINDS)]
RiskClass = Annotated[str, OneOf(RISK_CLASSES)]
SignalType = Annotated[str, OneOf(SIGNAL_TYPES)]
Hotspot = Annotated[str, OneOf(HOTSPOT_LABELS)]
ParkFormat = Annotated[str, OneOf(("json", *exports.FORMATS))]
CsvGeometry = Annotated[str, OneOf(("wkt", "lonlat", "none"))]

_SORT_PATTERN = "^[-+]?(" + "|".join(SORT_FIELDS) + ")$"
_MEDIA = {"json": GEOJSON, **{name: f.media_type for name, f in exports.FORMATS.items()}}
_MEDIA["geojson"] = GEOJSON


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` (WGS84) as four floats, or a ``ValueError`` saying what is wrong."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("give four numbers: minlon,minlat,maxlon,maxlat")
    try:
        box = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError("bbox holds something that is not a number") from None
    if not all(abs(v) < float("inf") for v in box):
        raise ValueError("bbox values must be finite")
    minx, miny, maxx, maxy = box
    if minx > maxx or miny > maxy:
        raise ValueError("bbox minimum is greater than its maximum")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise ValueError("bbox is not in longitude/latitude degrees (WGS84)")
    return minx, miny, maxx, maxy


class ParksQuery(Query):
    bbox: str | None = Field(None, description="minlon,minlat,maxlon,maxlat (WGS84)", examples=["5.6,52.1,6.0,52.4"],
                             pattern=r"^\s*-?\d+(\.\d+)?\s*(,\s*-?\d+(\.\d+)?\s*){3}$")
    municipality: str | None = Field(None, max_length=100, description="CBS code (GM0200) or name")
    province: str | None = Field(None, max_length=100)
    kind: list[Kind] | None = None
    risk_class: list[RiskClass] | None = None
    min_score: float | None = Field(None, ge=0, le=100)
    max_score: float | None = Field(None, ge=0, le=100)
    hotspot: Hotspot | None = None
    changed_since: int | dt.date | None = Field(None, description="a score run id or a date (YYYY-MM-DD)")
    sort: list[str] | None = Field(None, description=f"fields {', '.join(SORT_FIELDS)}; '-' for descending")
    limit: int = Field(100, ge=1, le=10_000)
    offset: int = Field(0, ge=0, le=10_000_000)
    geometry: bool = Field(True, description="false leaves geometries out (a lighter answer)")
    f: ParkFormat | None = Field(None, description="json: this page as GeoJSON; geojson, csv, gpkg, parquet: the "
                                                    "whole selection as a file. Else chosen by Accept")
    csv_geometry: CsvGeometry = Field("wkt", description="CSV: geometry as WKT, lon/lat of a point "
                                                                      "inside the park, or none")

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bbox(value)
        return value

    @field_validator("sort")
    @classmethod
    def _sort(cls, value: list[str] | None) -> list[str] | None:
        for spec in value or []:
            if not re.match(_SORT_PATTERN, spec):
                raise ValueError(f"cannot sort on {spec!r}; fields: {', '.join(SORT_FIELDS)}")
        return value


def _role() -> str | None:
    principal = current_principal()
    return principal.role if principal is not None else None


def park_filter(q: ParksQuery, park_ids: frozenset[int] | None = None) -> ParkFilter:
    return ParkFilter(
        bbox=parse_bbox(q.bbox) if q.bbox else None, municipality=q.municipality, province=q.province,
        kinds=tuple(str(k) for k in q.kind or ()), classes=tuple(str(c) for c in q.risk_class or ()),
        min_score=q.min_score, max_score=q.max_score, hotspot=str(q.hotspot) if q.hotspot else None,
        park_ids=park_ids,
    )


@bp.get("/parks")
@requires("analyst")
@documented(
    "Parks with their published scores", tags=("parks",), params=ParksQuery, errors=(400, 404, 406),
    description="A GeoJSON FeatureCollection (WGS84, RFC 7946) of the current parks, each with its score, class, "
                "points per theme, three largest factors, hot-spot status, trend and freshness. Filter, sort and "
                "page; export the same selection as CSV, GeoPackage or GeoParquet with f= or Accept. Answers carry "
                "an ETag per published run and filter: an unchanged answer costs a 304.",
    responses={200: Doc("parks", schemas.ParkCollection, (GEOJSON, JSON, "text/csv",
                                                          "application/geopackage+sqlite3",
                                                          "application/vnd.apache.parquet"), ("ETag",)),
               304: Doc("not modified since the ETag in If-None-Match", None, ())},
)
def list_parks() -> Response:
    q = parse_query(ParksQuery, request.args)
    fmt = negotiate(str(q.f) if q.f else None, _MEDIA, "json")
    store = runtime().store
    cat = catalogue(store)
    etag = etag_for(cat.version, sorted(request.args.items(multi=True)), fmt)
    unchanged = not_modified(etag)
    if unchanged is not None:
        return unchanged
    ids = None
    if q.changed_since is not None:
        try:
            ids = changed_park_ids(store, resolve_reference(store, str(q.changed_since)))
        except ValueError as exc:
            raise BadRequest(str(exc), invalid_params=[{"name": "changed_since", "reason": str(exc)}]) from None
    positions = cat.select(park_filter(q, ids), q.sort or ())
    if fmt == "json":  # the paged answer; f=geojson is the whole selection as a file
        page = positions[q.offset:q.offset + q.limit]
        links = page_links("api.list_parks", limit=q.limit, offset=q.offset, matched=len(positions),
                           returned=len(page), media_type=GEOJSON,
                           alternates=[(n, exports.FORMATS[n].media_type) for n in ("csv", "gpkg", "parquet")])
        body = exports.feature_collection(cat.features(page, crs=CRS84, geometry=q.geometry),
                                          {"numberMatched": len(positions), "numberReturned": len(page),
                                           "links": links})
        resp = Response("".join(body), mimetype=GEOJSON)
    else:
        resp = _export(cat, positions, exports.FORMATS[fmt], q)
    return with_etag(resp, etag)


def _export(cat: Any, positions: Any, fmt: exports.Format, q: ParksQuery) -> Response:
    """The whole selection (no paging) in ``fmt``, streamed; every export is audited."""
    name = f"parkwacht-parks-{dt.date.today().isoformat()}{fmt.suffix}"
    audit_event("export", "parks", format=fmt.name, parks=int(len(positions)), query=request.query_string.decode())
    if fmt.name == "csv":
        chunks: Any = exports.csv_chunks(cat, positions, geometry=str(q.csv_geometry))
        resp = Response(stream_with_context(("\ufeff" if i == 0 else "") + c for i, c in enumerate(chunks)),
                        mimetype="text/csv")
    elif fmt.name == "geojson":
        resp = Response(stream_with_context(exports.feature_collection(
            cat.features(positions, geometry=q.geometry), {"numberMatched": len(positions)})), mimetype=GEOJSON)
    else:
        resp = Response(stream_with_context(exports.file_chunks(cat, positions, fmt)), mimetype=fmt.media_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.get("/parks/<int:park_id>")
@requires("analyst")
@audited("park.api_view", "park:{park_id}")
@documented(
    "One park in full", tags=("parks",), errors=(404,),
    description="The park as a GeoJSON Feature with its current score decomposed into every factor (raw value, "
                "normalised value, points and the ids of the signals behind it), its score in every run, and a "
                "summary of its signals per type.",
    responses={200: Doc("the park", schemas.ParkDetail, (GEOJSON, JSON))},
)
def get_park(park_id: int) -> Response:
    store = runtime().store
    park = reads.park(store, park_id)
    if park.get("retired_at") is not None:
        raise reads.NotFound(f"park {park_id} is retired")
    props = {k: park.get(k) for k in reads.PARK_FIELDS}
    geometry = shapely.geometry.mapping(shapely.set_precision(geo.to_wgs84(park["geom"]), 1e-7))
    role = _role()
    score = scoring.park_score(store, park_id)
    persons = privacy.person_count_factors(scoring.run_model(store, score["run_id"]).factors) if score else set()
    body = {"type": "Feature", "id": park_id, "geometry": geometry, "properties": props,
            "score": privacy.suppressed_score(score, persons, role),
            "history": scoring.park_history(store, park_id),
            "signal_summary": privacy.suppressed_summary(reads.signal_summary(store, park_id), role)}
    return Response(json.dumps(body), mimetype=GEOJSON)


class ParkSignalsQuery(Query):
    type: list[SignalType] | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


@bp.get("/parks/<int:park_id>/signals")
@requires("analyst")
@documented(
    "A park's signals", tags=("parks",), params=ParkSignalsQuery, errors=(400, 404),
    description="The park's current signals, newest first, filtered by type and date, paged.",
    responses={200: Doc("signals", schemas.SignalPage)},
)
def park_signals(park_id: int) -> Response:
    q = parse_query(ParkSignalsQuery, request.args)
    store = runtime().store
    reads.park(store, park_id)
    total, rows = reads.signal_page(store, park_id, types=[str(t) for t in q.type or ()], date_from=q.date_from,
                                    date_to=q.date_to, limit=q.limit, offset=q.offset)
    links = page_links("api.park_signals", limit=q.limit, offset=q.offset, matched=total, returned=len(rows),
                       media_type=JSON, park_id=park_id)
    rows = privacy.suppressed_signals(rows, _role())
    return Response(json.dumps({"park_id": park_id, "signals": rows, "numberMatched": total,
                                "numberReturned": len(rows), "links": links}), mimetype=JSON)

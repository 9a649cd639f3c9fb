"""Routes of the JSON API: signals in, parks and import batches out."""
from __future__ import annotations

from typing import Any

import shapely
import sqlalchemy as sa
from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

from .. import geo, runtime
from ..ingest import IngestError, import_signal_records, iter_batches, rejected_rows
from ..store import schema
from . import bp
from .problems import ApiError, BadRequest, NotFound, Unprocessable, problem_response

MAX_SIGNALS_PER_REQUEST = 10_000


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, exc.extra)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    return problem_response(exc.code or 500, exc.name, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    from flask import current_app

    current_app.logger.exception("unhandled API error")
    return problem_response(500, "Internal error", "the server could not answer this request; it was logged")


def _signal_payload(body: Any) -> list[dict[str, Any]]:
    """Accept a JSON list of signals, ``{"signals": [...]}`` or a GeoJSON FeatureCollection."""
    if isinstance(body, dict) and body.get("type") == "FeatureCollection":
        feats = body.get("features")
        if not isinstance(feats, list):
            raise BadRequest("a FeatureCollection needs a 'features' list")
        records = []
        for i, f in enumerate(feats, start=1):
            if not isinstance(f, dict) or f.get("type") != "Feature":
                raise BadRequest(f"feature {i} is not a GeoJSON Feature")
            props = dict(f.get("properties") or {})
            props["geometry"] = f.get("geometry")
            if "id" in f and "source_id" not in props:
                props["source_id"] = f["id"]
            records.append(props)
        return records
    if isinstance(body, dict) and isinstance(body.get("signals"), list):
        body = body["signals"]
    if not isinstance(body, list):
        raise BadRequest("send a JSON list of signals, {\"signals\": [...]} or a GeoJSON FeatureCollection")
    if not all(isinstance(r, dict) for r in body):
        raise BadRequest("every signal must be a JSON object")
    return body


@bp.post("/signals")
def post_signals() -> tuple[Response, int]:
    """Store signals; answers what was stored and what was rejected, with reasons."""
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("the request body must be JSON (Content-Type: application/json)")
    records = _signal_payload(body)
    if not records:
        raise BadRequest("no signals in the request")
    if len(records) > MAX_SIGNALS_PER_REQUEST:
        raise BadRequest(f"at most {MAX_SIGNALS_PER_REQUEST} signals per request; use the file import for more")
    rt = runtime()
    source = str(request.args.get("source") or "api")[:100]
    try:
        result = import_signal_records(rt.store, records, settings=rt.settings, source=source,
                                       crs=request.args.get("crs"), index=rt.park_index())
    except IngestError as exc:
        raise BadRequest(str(exc)) from exc
    payload = result.as_dict()
    if result.affected_parks:
        payload["rescoring"] = rt.after_signals(result)
    payload["ids"] = result.signal_ids
    payload["rejected_rows"] = rejected_rows(rt.store, result.batch_id)
    if result.stored == 0 and result.rejected:
        payload["import_status"] = payload.pop("status")
        raise Unprocessable("every signal was rejected; see rejected_rows", **payload)
    return jsonify(payload), (201 if result.stored else 200)


def _park_json(row: Any, with_geometry: bool) -> dict[str, Any]:
    d = {k: row._mapping[k] for k in ("id", "source", "source_id", "name", "kind", "municipality_code",
                                        "municipality_name", "province", "unit_count", "area_m2", "operator",
                                        "takeover_year", "attributes")}
    if with_geometry:
        g = geo.to_wgs84(shapely.from_wkb(row.geom_wkb))
        return {"type": "Feature", "id": row.id, "properties": d,
                "geometry": shapely.geometry.mapping(shapely.set_precision(g, 1e-7))}
    return d


@bp.get("/parks")
def list_parks() -> Response:
    p = schema.parks
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError as exc:
        raise BadRequest("limit and offset must be whole numbers") from exc
    q = sa.select(p).order_by(p.c.id)
    if request.args.get("municipality"):
        q = q.where(p.c.municipality_code == request.args["municipality"].upper())
    if request.args.get("kind"):
        q = q.where(p.c.kind == request.args["kind"])
    with runtime().store.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
        rows = conn.execute(q.limit(limit).offset(offset)).all()
    return jsonify({"total": total, "limit": limit, "offset": offset,
                    "parks": [_park_json(r, with_geometry=False) for r in rows]})


@bp.get("/parks/<int:park_id>")
def get_park(park_id: int) -> Response:
    p = schema.parks
    with runtime().store.connect() as conn:
        row = conn.execute(sa.select(p).where(p.c.id == park_id)).first()
    if row is None:
        raise NotFound(f"no park with id {park_id}")
    resp = jsonify(_park_json(row, with_geometry=True))
    resp.mimetype = "application/geo+json"
    return resp


@bp.get("/imports")
def list_imports() -> Response:
    return jsonify({"batches": iter_batches(runtime().store, limit=50)})


@bp.get("/imports/<int:batch_id>/rejected")
def get_rejected(batch_id: int) -> Response:
    try:
        rows = rejected_rows(runtime().store, batch_id)
    except KeyError as exc:
        raise NotFound(f"no import batch with id {batch_id}") from exc
    return jsonify({"batch_id": batch_id, "rejected": rows})

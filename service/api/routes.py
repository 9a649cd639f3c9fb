"""Routes of the JSON API: signals in, import batches out."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from .. import reads
from ..access import requires
from ..app import runtime
from ..ingest import IngestError, import_signal_records
from . import bp
from .problems import BadRequest, Unprocessable

MAX_SIGNALS_PER_REQUEST = 10_000


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
@requires("admin")
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
    payload["rejected_rows"] = reads.rejected_rows(rt.store, result.batch_id)
    if result.stored == 0 and result.rejected:
        payload["import_status"] = payload.pop("status")
        raise Unprocessable("every signal was rejected; see rejected_rows", **payload)
    return jsonify(payload), (201 if result.stored else 200)


@bp.get("/imports")
@requires("admin")
def list_imports() -> Response:
    return jsonify({"batches": reads.iter_batches(runtime().store, limit=50)})


@bp.get("/imports/<int:batch_id>/rejected")
@requires("admin")
def get_rejected(batch_id: int) -> Response:
    return jsonify({"batch_id": batch_id, "rejected": reads.rejected_rows(runtime().store, batch_id)})

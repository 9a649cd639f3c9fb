"""Routes of the JSON API: signals in (each client writes only its own sources), import batches out (admins).

A signal's source belongs to whoever writes it: a bearer token carries the sources it may write, and
``?source=`` must be one of them (a token with exactly one source writes it by default). Only an admin
token may write any source (an admin import). Visits are written only by the park page. Rejected raw rows
and the import batches are for admins only.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, jsonify, request

from .. import reads
from ..access import requires
from ..app import runtime
from ..auth.guard import current_principal
from ..auth.trail import audit_event, audited
from ..ingest import ImportConflict, ImportResult, IngestError, import_signal_records
from ..vocab import VISIT_SOURCE
from . import bp
from .problems import ApiError, BadRequest, Conflict, Unprocessable, UnsupportedMediaType

MAX_SIGNALS_PER_REQUEST = 10_000
#: What an admin token writes when it names no source.
DEFAULT_SOURCE = "api"
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Forbidden(ApiError):
    status = 403


def _write_source() -> str:
    """The source this request writes, checked against what its token may write."""
    principal = current_principal()
    if principal is None or principal.via != "token":
        raise Forbidden("signals are written with a bearer token that carries its sources")
    asked = request.args.get("source")
    if asked is None:
        if principal.sources is None:
            return DEFAULT_SOURCE
        if len(principal.sources) != 1:
            raise Forbidden("name the source to write with ?source=; this token may write: "
                            + (", ".join(principal.sources) or "no source at all"))
        return principal.sources[0]
    if not _SOURCE.match(asked):
        raise BadRequest("a source name has letters, digits and . _ - (at most 100)")
    if asked == VISIT_SOURCE:
        raise Forbidden(f"source {VISIT_SOURCE!r} holds officers' visits; only the park page writes it")
    if not principal.may_write(asked):
        raise Forbidden(f"this token may not write source {asked!r}; it may write: "
                        + (", ".join(principal.sources or ()) or "no source at all"))
    return asked


def _why_not_json() -> str:
    """The reason a body is not usable JSON (the parser's own words only for a nesting too deep)."""
    if request.is_json:
        try:
            current_app.json.loads(request.get_data())
        except ValueError as exc:
            if "nested deeper" in str(exc):
                return f"the request body is {exc}; flatten it"
    return "the request body must be JSON (Content-Type: application/json)"


def _lone_surrogate(value: Any, path: str) -> str | None:
    """Where a JSON string holds a lone surrogate (not Unicode text, and no store can keep it)."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return where
        if isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str) and _SURROGATE.search(k):
                    return f"{where}: a field name"
                stack.append((v, f"{where}.{k}"))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))
    return None


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
@requires("analyst")
def post_signals() -> tuple[Response, int]:
    """Store signals of the token's own source; answers what was stored and what was rejected, with reasons."""
    if not request.is_json:
        raise UnsupportedMediaType("send the signals as JSON (Content-Type: application/json or "
                                   "application/geo+json)")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest(_why_not_json())
    records = _signal_payload(body)
    if not records:
        raise BadRequest("no signals in the request")
    if len(records) > MAX_SIGNALS_PER_REQUEST:
        raise BadRequest(f"at most {MAX_SIGNALS_PER_REQUEST} signals per request; use the file import for more")
    bad = _lone_surrogate(records, "signals")
    if bad:
        raise BadRequest(f"{bad} holds a lone surrogate, which is not valid Unicode text")
    source = _write_source()
    rt = runtime()

    def store() -> ImportResult:
        return import_signal_records(rt.store, records, settings=rt.settings, source=source,
                                     crs=request.args.get("crs"), index=rt.park_index())

    try:
        try:
            result = store()
        except ImportConflict:  # a concurrent post stored the same ids first: now they are found
            result = store()
    except ImportConflict as exc:
        raise Conflict(str(exc)) from exc
    except IngestError as exc:
        raise BadRequest(str(exc)) from exc
    audit_event("signals.post", f"source:{source}", batch_id=result.batch_id, read=result.read,
                stored=result.stored, rejected=result.rejected, unchanged=result.unchanged)
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
    """Recent import batches (admins: they show sources, file names and failures)."""
    return jsonify({"batches": reads.iter_batches(runtime().store, limit=50)})


@bp.get("/imports/<int:batch_id>/rejected")
@requires("admin")
@audited("rejected.view", "batch:{batch_id}")
def get_rejected(batch_id: int) -> Response:
    """The rejected rows of a batch with their raw values (admins only; personal traits were never kept)."""
    return jsonify({"batch_id": batch_id, "rejected": reads.rejected_rows(runtime().store, batch_id)})


from . import model  # noqa: E402,F401  (registers /api/v1/model on bp)

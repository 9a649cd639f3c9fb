"""The analysts' park endpoints under ``/api/v1/parks``."""
from __future__ import annotations

from typing import Any

import shapely
from flask import Response, jsonify, request

from .. import geo, reads
from ..access import requires
from ..app import runtime
from . import bp
from .problems import BadRequest


def _park_feature(park: dict[str, Any]) -> dict[str, Any]:
    """A park as a GeoJSON Feature in WGS84 (RFC 7946)."""
    props = {k: park[k] for k in reads.PARK_FIELDS}
    g = geo.to_wgs84(park["geom"])
    return {"type": "Feature", "id": park["id"], "properties": props,
            "geometry": shapely.geometry.mapping(shapely.set_precision(g, 1e-7))}


@bp.get("/parks")
@requires("analyst")
def list_parks() -> Response:
    try:
        limit = min(max(int(request.args.get("limit", 100)), 1), 1000)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError as exc:
        raise BadRequest("limit and offset must be whole numbers") from exc
    total, parks = reads.list_parks(runtime().store, municipality=request.args.get("municipality") or None,
                                    kind=request.args.get("kind") or None, limit=limit, offset=offset)
    return jsonify({"total": total, "limit": limit, "offset": offset, "parks": parks})


@bp.get("/parks/<int:park_id>")
@requires("analyst")
def get_park(park_id: int) -> Response:
    resp = jsonify(_park_feature(reads.park(runtime().store, park_id)))
    resp.mimetype = "application/geo+json"
    return resp

"""Aggregates per municipality and per province: the picture a RIEC or a province reports from."""
from __future__ import annotations

import json

import numpy as np
from flask import Response, request
from pydantic import Field

from ..access import requires
from ..app import runtime
from ..exports import feature_collection
from ..reads.areas import municipality_aggregates
from ..reads.catalogue import CRS84
from . import bp, schemas
from .http import etag_for, not_modified, with_etag
from .problems import NotFound
from .spec import GEOJSON, Query, documented, parse_query
from .spec import Response as Doc

__all__ = ["AreasQuery"]

_LEVELS = {"municipalities": "municipality", "provinces": "province"}


class AreasQuery(Query):
    geometry: bool = Field(True, description="false leaves the boundaries out")


@bp.get("/areas/<level>")
@requires("analyst")
@documented(
    "Aggregates per municipality or province", tags=("areas",), params=AreasQuery, errors=(400, 404),
    description="Per area (level `municipalities` or `provinces`): the number of parks, the count per risk class, "
                "the mean and highest score and the number of hot-spot parks, with the boundary when boundaries "
                "have been imported (`parkwacht import areas`), else a null geometry.",
    responses={200: Doc("areas", schemas.AreaCollection, (GEOJSON,), ("ETag",)), 304: Doc("not modified", None, ())},
)
def list_areas(level: str) -> Response:
    if level not in _LEVELS:
        raise NotFound(f"no area level {level!r}; levels: {', '.join(_LEVELS)}")
    q = parse_query(AreasQuery, request.args)
    store = runtime().store
    areas = municipality_aggregates(store, _LEVELS[level])
    etag = etag_for(areas.version, level, q.geometry)
    if (unchanged := not_modified(etag)) is not None:
        return unchanged
    positions = np.arange(len(areas))
    if q.geometry:
        features = areas.features(positions, crs=CRS84)
    else:
        features = [json.dumps({"type": "Feature", "id": fid, "geometry": None, "properties": props},
                               ensure_ascii=False) for fid, props in zip(areas.ids, areas.props)]
    body = feature_collection(features, {"numberMatched": len(areas), "numberReturned": len(areas)})
    return with_etag(Response("".join(body), mimetype=GEOJSON), etag)

"""``/api/v1/model``: the model card as JSON, or shaped for the Algoritmeregister (``?format=algoritmeregister``)."""
from __future__ import annotations

from flask import Response, jsonify, request

from .. import modelcard
from ..access import requires
from ..app import runtime
from . import bp
from .problems import BadRequest

__all__ = ["get_model"]


@bp.get("/model")
@requires("analyst")
def get_model() -> Response:
    """The model card: purpose, factors with weights and decay, thresholds, data sources, latest backtest."""
    fmt = request.args.get("format", "card")
    if fmt not in ("card", "algoritmeregister"):
        raise BadRequest("format is card or algoritmeregister")
    rt = runtime()
    card = modelcard.model_card(rt.store, rt.settings)
    return jsonify(modelcard.algoritmeregister(card) if fmt == "algoritmeregister" else card)

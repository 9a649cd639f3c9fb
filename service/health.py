"""Minimal health checks for load balancers: ``/healthz`` (the process answers), ``/readyz`` (the store too).

Public by design and free of data: they say ``ok`` or why not, nothing about parks or users.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from .access import PUBLIC, requires

bp = Blueprint("health", __name__)

__all__ = ["bp"]


@bp.get("/healthz")
@requires(PUBLIC)
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@requires(PUBLIC)
def readyz() -> tuple[Response, int]:
    from .app import runtime

    try:
        revision = runtime().store.current_revision()
    except Exception:  # the store is down: not ready, and no internals in the answer
        return jsonify({"status": "unavailable", "reason": "the store cannot be reached"}), 503
    if revision is None:
        return jsonify({"status": "unavailable", "reason": "the store is not migrated (parkwacht db upgrade)"}), 503
    return jsonify({"status": "ok"}), 200

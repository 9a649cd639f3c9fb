"""The analysts' JSON API under ``/api/v1`` (thin: it calls the core and renders its results)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import areas, changes, openapi, parks, routes, runs  # noqa: E402,F401  (importing them registers their routes)

__all__ = ["bp"]

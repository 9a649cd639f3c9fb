"""OGC API – Features (Parts 1 and 2) at ``/ogc``: parks with their scores, municipal aggregates and hot spots
for GIS tools. Thin like the JSON API: the views call the core's reads and render JSON or HTML."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

from . import views  # noqa: E402,F401  (importing it registers the routes on bp)

__all__ = ["bp"]

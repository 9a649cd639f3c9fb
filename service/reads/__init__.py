"""The read layer: every read the HTTP layers and the CLI make, per concern (parks, scores, signals, batches).

Plain SQLAlchemy Core, so it runs on SQLite and PostgreSQL alike; a thing asked for by id that does not
exist raises :class:`NotFound`, which the HTTP edge maps to 404.
"""
from __future__ import annotations

from .batches import iter_batches, rejected_rows
from .errors import NotFound
from .park_signals import signal_page, signal_summary
from .parks import PARK_FIELDS, has_demo_parks, list_parks, municipalities, municipality_outlines, park
from .scores import (
    ParkScoreRow,
    WorkItem,
    data_version,
    factor_catalogue,
    park_history,
    park_rows,
    park_score,
    published_run,
    reference_date,
    theme_catalogue,
    worklist,
)
from .signals import last_inspections, latest_signal_by_type, park_signals, recent_signals

__all__ = [
    "NotFound",
    "iter_batches", "rejected_rows",
    "PARK_FIELDS", "park", "list_parks", "municipalities", "municipality_outlines", "has_demo_parks",
    "ParkScoreRow", "WorkItem", "published_run", "park_score", "park_history", "factor_catalogue",
    "theme_catalogue", "park_rows", "worklist", "data_version", "reference_date",
    "recent_signals", "park_signals", "latest_signal_by_type", "last_inspections",
    "signal_page", "signal_summary",
]

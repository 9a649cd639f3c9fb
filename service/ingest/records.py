"""API records as a frame whose cost is linear in the request's size.

``pd.DataFrame(records)`` makes a column of every key any record has: 3,000 records that each carry one
different key become a 3,000 x 3,000 frame (26 s and 310 MB for a 355 KB request, measured). Here only the
signal fields become columns; every other key goes into that row's ``attributes`` object, where validation
bounds it (:mod:`.jsonvalues`).
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .presets import SIGNAL_FIELDS

__all__ = ["records_frame", "as_text"]

_FIELDS = frozenset(SIGNAL_FIELDS)


def as_text(value: Any) -> str:
    """A typed API value as the text a file would hold, so validation treats both alike."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def records_frame(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, list[Any] | None]:
    """(frame of the signal fields as text plus an ``attributes`` column, GeoJSON geometries or None).

    A record's own ``attributes`` object is kept as given; its other keys are added to it as text (as the
    columns of a file would be, and they win over a key of the same name).
    """
    n = len(records)
    columns: dict[str, list[str]] = {}
    attributes: list[Any] = [None] * n
    geometries: list[Any] | None = None
    for i, record in enumerate(records):
        extra: dict[str, str] = {}
        given: Any = None
        for key, value in record.items():
            if key in _FIELDS:
                column = columns.get(key)
                if column is None:
                    column = columns[key] = [""] * n
                column[i] = as_text(value)
            elif key == "geometry":
                if geometries is None:
                    geometries = [None] * n
                geometries[i] = value
            elif key == "attributes":
                given = value
            else:
                text = as_text(value)
                if text != "":
                    extra[str(key)] = text
        if not extra:
            attributes[i] = given
        elif given is None or given == "":
            attributes[i] = extra
        elif isinstance(given, dict):
            attributes[i] = {**given, **extra}
        else:
            attributes[i] = given  # not an object: validation rejects the row, saying so
    if not columns:
        columns["date"] = [""] * n
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    if any(a is not None for a in attributes):
        frame["attributes"] = pd.Series(attributes, dtype=object)
    return frame, geometries

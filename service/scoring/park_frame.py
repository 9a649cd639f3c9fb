"""Parks as the engine sees them: aligned arrays sorted by id, and the neighbour pairs of the spatial lag.

Kept apart from the engine so the readers that build these (store, benchmarks, the distributed batch)
need not import the scoring pass itself.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import PARK_ATTRIBUTES

__all__ = ["ParkFrame", "NeighbourPairs"]


@dataclass
class ParkFrame:
    """Parks as aligned arrays, sorted by id; ``attrs`` holds every attribute of :data:`PARK_ATTRIBUTES`."""

    id: np.ndarray
    attrs: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.id)

    @property
    def unit_count(self) -> np.ndarray:
        return self.attrs["unit_count"]

    @property
    def area_m2(self) -> np.ndarray:
        return self.attrs["area_m2"]

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]]) -> ParkFrame:
        """From dicts shaped like rows of ``parks`` (id, unit_count, area_m2, operator, ..., attributes)."""
        recs = sorted(records, key=lambda r: int(r["id"]))
        attrs: dict[str, np.ndarray] = {}
        for name, (kind, places) in PARK_ATTRIBUTES.items():
            values = []
            for r in recs:
                v = None
                for place in places:
                    if place.startswith("attributes."):
                        v = (r.get("attributes") or {}).get(place.split(".", 1)[1])
                    else:
                        v = r.get(place)
                    if v is not None and not (isinstance(v, float) and np.isnan(v)) and v != "":
                        break
                    v = None
                values.append(v)
            if kind == "text":
                attrs[name] = np.array([None if v is None else str(v) for v in values], dtype=object)
            else:
                out = np.full(len(values), np.nan)
                for i, v in enumerate(values):
                    try:
                        out[i] = float(v) if v is not None else np.nan
                    except (TypeError, ValueError):
                        out[i] = np.nan
                attrs[name] = out
        return cls(np.array([int(r["id"]) for r in recs], dtype=np.int64), attrs)

    def take(self, idx: np.ndarray) -> ParkFrame:
        return ParkFrame(self.id[idx], {k: v[idx] for k, v in self.attrs.items()})


@dataclass
class NeighbourPairs:
    """Directed pairs ``(a, b)``: park ``b`` lies within the lag distance of park ``a`` (both directions given)."""

    a: np.ndarray
    b: np.ndarray

    @classmethod
    def empty(cls) -> NeighbourPairs:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64))

    def of(self, park_ids: np.ndarray) -> np.ndarray:
        """The neighbours of ``park_ids`` (not including themselves unless they neighbour each other)."""
        return np.unique(self.b[np.isin(self.a, park_ids)])

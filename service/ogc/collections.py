"""The feature collections ``/ogc`` serves: parks, municipalities and hot spots, described once.

Each collection names its queryable properties with their OpenAPI 3.0 schemas (used for the property
filters, the OpenAPI document and the HTML tables) and how to load its features from the core. All three
load objects with the same interface as the park catalogue: ``select(filter)``, ``features(positions, crs)``,
``position(feature_id)``, ``props`` and ``version``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely

from ..reads import NotFound
from ..reads.areas import HOTSPOT_FIELDS, MUNICIPALITY_FIELDS, hotspot_areas, municipality_aggregates
from ..reads.catalogue import CRS84, PROPERTY_FIELDS, ParkFilter, catalogue
from ..store import Store
from ..vocab import HOTSPOT_LABELS, PARK_KINDS, RISK_CLASSES, THEMES

__all__ = ["Collection", "Features", "COLLECTIONS", "collection", "spatial_extent"]


class Features(Protocol):
    """What a collection's data offers the views (the park catalogue and the area collections)."""

    version: tuple[Any, ...]
    props: list[dict[str, Any]]
    geom_wgs: np.ndarray

    def __len__(self) -> int: ...

    def select(self, flt: ParkFilter, sort: Any = ()) -> np.ndarray: ...

    def features(self, positions: np.ndarray, *, crs: str = CRS84, geometry: bool = True) -> list[str]: ...


@dataclass(frozen=True)
class Collection:
    """One feature collection: its id, texts, queryable properties and loader."""

    id: str
    title: str
    description: str
    properties: dict[str, dict[str, Any]]
    load: Callable[[Store], Any]
    position: Callable[[Any, str], int | None]
    keywords: tuple[str, ...] = ()


def _schemas(names: tuple[str, ...], special: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """OpenAPI 3.0 schemas of flat properties: numbers by their name's pattern, text otherwise, all nullable."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        if name in special:
            schema = dict(special[name])
        elif name.endswith(("_count", "_parks")) or name.startswith("count_") or name in ("id", "run_id"):
            schema = {"type": "integer"}
        elif name.endswith(("_points", "_score", "_m2", "_p", "_m")) or name.startswith("points_") or name in (
                "score", "change"):
            schema = {"type": "number"}
        else:
            schema = {"type": "string"}
        out[name] = {**schema, "nullable": True}
    return out


_PARK_SCHEMAS = _schemas(PROPERTY_FIELDS, {
    "id": {"type": "integer", "description": "Parkwacht's park id (also the feature id)"},
    "kind": {"type": "string", "enum": list(PARK_KINDS)},
    "risk_class": {"type": "string", "enum": list(RISK_CLASSES)},
    "hotspot": {"type": "string", "enum": list(HOTSPOT_LABELS), "description": "Getis-Ord Gi* cluster"},
    "score": {"type": "number", "minimum": 0, "maximum": 100, "description": "the exact sum of the factor points"},
    "municipality_code": {"type": "string", "description": "CBS code, e.g. GM0200"},
    "as_of": {"type": "string", "format": "date", "description": "the score's as-of date (datetime filters it)"},
    "latest_signal": {"type": "string", "format": "date"},
    "scored_at": {"type": "string", "format": "date-time"},
    **{f"points_{t}": {"type": "number", "description": f"points of the theme {t}"} for t in THEMES},
})
_MUNICIPALITY_SCHEMAS = _schemas(MUNICIPALITY_FIELDS, {
    "code": {"type": "string", "description": "CBS code (also the feature id; the name where a park has none)"},
    "boundary": {"type": "boolean", "description": "whether the geometry is the imported municipal boundary"},
    "as_of": {"type": "string", "format": "date"},
})
_HOTSPOT_SCHEMAS = _schemas(HOTSPOT_FIELDS, {
    "id": {"type": "integer", "description": "the lowest park id in the cluster (also the feature id)"},
    "park_ids": {"type": "string", "description": "the cluster's parks, comma-separated"},
    "radius_m": {"type": "number"},
    "as_of": {"type": "string", "format": "date"},
})


def _park_position(cat: Any, feature_id: str) -> int | None:
    """Park ids are whole numbers; anything else names no park."""
    return cat.position(int(feature_id)) if feature_id.isdigit() else None


def _area_position(areas: Any, feature_id: str) -> int | None:
    position: int | None = areas.position(feature_id)
    return position


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection(
        "parks", "Vakantieparken met risicoscore",
        "Every current holiday park with its published risk score (0-100), class (laag, verhoogd, hoog), points per "
        "theme, three largest factors, Gi* hot-spot status, trend and freshness. A score leads to a visit, never to a "
        "sanction; scores are about parks, never about persons.",
        _PARK_SCHEMAS, catalogue, _park_position, ("vakantieparken", "ondermijning", "risico")),
    Collection(
        "municipalities", "Gemeenten: risicobeeld van hun parken",
        "One feature per municipality with parks: the number of parks per risk class, unscored parks, mean and "
        "highest score and the number of parks in a regional hot spot. The geometry is the municipal boundary when "
        "boundaries were imported (boundary=true), else null.",
        _MUNICIPALITY_SCHEMAS, municipality_aggregates, _area_position, ("gemeenten", "aggregaat")),
    Collection(
        "hotspots", "Regionale hotspots (Getis-Ord Gi*)",
        "Regional clusters of high scores: the union of 1 km discs around the parks Gi* marks as hot, one feature per "
        "cluster (the areas the risk map draws), with the cluster's parks and their mean and highest score.",
        _HOTSPOT_SCHEMAS, hotspot_areas, _area_position, ("hotspots", "Gi*")),
)}


def collection(collection_id: str) -> Collection:
    """The collection called ``collection_id``; :class:`~service.reads.NotFound` (a 404) otherwise."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}; collections: {', '.join(COLLECTIONS)}")
    return found


_EXTENTS: dict[tuple[str, tuple[Any, ...]], list[float] | None] = {}


def spatial_extent(collection_id: str, data: Features) -> list[float] | None:
    """The CRS84 bounding box of a collection's features (None when none has a geometry), per data version."""
    key = (collection_id, data.version)
    if key not in _EXTENTS:
        geoms = np.asarray([g for g in data.geom_wgs if g is not None], dtype=object)
        box = [round(float(v), 6) for v in shapely.total_bounds(geoms)] if len(geoms) else None
        if len(_EXTENTS) > 64:
            _EXTENTS.clear()
        _EXTENTS[key] = box if box and all(np.isfinite(box)) else None
    return _EXTENTS[key]

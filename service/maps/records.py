"""What callers hand the map builders: parks, located signals and the translated labels (plain data, no Folium)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from ..vocab import RISK_CLASSES

__all__ = ["MapLabels", "ParkFeature", "SignalPoint"]


@dataclass
class ParkFeature:
    """A park as the map needs it (geometry in RD)."""

    id: int
    name: str | None
    geom_rd: BaseGeometry
    score: float | None = None
    risk_class: str | None = None
    #: The largest contributing factors as (label, points), largest first.
    top_factors: Sequence[tuple[str, float]] = ()
    hotspot: str | None = None
    hotspot_p: float | None = None
    municipality: str | None = None
    kind: str | None = None


@dataclass
class SignalPoint:
    """A located signal (RD coordinates)."""

    x: float
    y: float
    type: str
    date: str
    subtype: str | None = None
    park_id: int | None = None


@dataclass
class MapLabels:
    """Every text the map shows, already translated by the caller (the core does not know the request)."""

    parks: str = "Parken"
    signals: str = "Signalen (12 maanden)"
    hotspots: str = "Regionale hot spots (Gi*)"
    municipalities: str = "Gemeentegrenzen"
    legend_title: str = "Risicoklasse"
    no_score: str = "nog geen score"
    score: str = "Score"
    risk_class: str = "Klasse"
    top_factors: str = "Grootste factoren"
    no_factors: str = "Geen bijdragende factoren"
    park_link: str = "Naar de parkpagina"
    hot: str = "Hot spot (cluster van hoge scores)"
    cold: str = "Cold spot (cluster van lage scores)"
    p_value: str = "p"
    parks_in_cluster: str = "parken in dit cluster"
    signal_types_title: str = "Signalen"
    pdok: str = "PDOK achtergrondkaart (grijs)"
    osm: str = "OpenStreetMap"
    points: str = "punten"
    locale: str = "nl"
    classes: Mapping[str, str] = field(default_factory=lambda: {c: c for c in RISK_CLASSES})
    signal_types: Mapping[str, str] = field(default_factory=dict)

    def as_js(self) -> dict[str, Any]:
        """The texts for ``static/map.js``: every string field, and the class names."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, str)} | {"classes": dict(self.classes)}

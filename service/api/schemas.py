"""Response schemas of the analysts' API, for the OpenAPI document (and the fuzz tests that check answers).

The views build their JSON directly (parks come pre-serialised from the catalogue); these models describe
that JSON so clients can be generated from the document and schemathesis can hold the answers to it.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Link", "ParkProperties", "ParkFeature", "ParkCollection", "ParkDetail", "SignalItem", "SignalPage",
    "FactorMove", "Change", "ChangeList", "AreaProperties", "AreaFeature", "AreaCollection", "ScoreRun",
    "ScoreRunList", "RunStarted", "Problem", "SignalPost", "SignalImport", "GEOMETRY",
]

#: A GeoJSON geometry (RFC 7946), loosely: clients get a type and coordinates.
GEOMETRY: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "coordinates": {"type": "array"},
                   "geometries": {"type": "array"}},
}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Link(_Open):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class ParkProperties(_Open):
    """A park with its published score: flat, so GIS tools show every value as a column."""

    id: int
    name: str | None
    kind: str
    municipality_code: str | None
    municipality_name: str | None
    province: str | None
    unit_count: int | None
    area_m2: float | None
    score: float | None = Field(description="0-100, the exact sum of the factor points")
    risk_class: Literal["laag", "verhoogd", "hoog"] | None
    change: float | None = Field(description="score minus the score in the previous run")
    previous_score: float | None
    hotspot: Literal["hot", "cold", "none"] | None
    hotspot_p: float | None
    points_ownership: float | None
    points_economic: float | None
    points_social: float | None
    points_crime: float | None
    points_fire_safety: float | None
    factor_1: str | None
    factor_1_label: str | None
    factor_1_points: float | None
    factor_2: str | None
    factor_2_label: str | None
    factor_2_points: float | None
    factor_3: str | None
    factor_3_label: str | None
    factor_3_points: float | None
    latest_signal: str | None = Field(description="date of the newest signal that counted (freshness)")
    as_of: str | None
    scored_at: str | None
    run_id: int | None
    model_version: str | None


class ParkFeature(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] | None = Field(json_schema_extra={"anyOf": [GEOMETRY, {"type": "null"}]})
    properties: ParkProperties


class ParkCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[ParkFeature]
    numberMatched: int
    numberReturned: int
    links: list[Link]


class ParkDetail(_Open):
    """One park: its feature, the decomposed score (every factor's raw and normalised value, points and the
    ids of the signals behind it), its history over runs and a summary of its signals per type."""

    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] | None
    properties: dict[str, Any]
    score: dict[str, Any] | None
    history: list[dict[str, Any]]
    signal_summary: dict[str, dict[str, Any]]


class SignalItem(_Open):
    id: int
    source: str
    type: str
    subtype: str | None
    date: str
    assignment: str
    distance_m: float | None
    attributes: dict[str, Any]


class SignalPage(BaseModel):
    park_id: int
    signals: list[SignalItem]
    numberMatched: int
    numberReturned: int
    links: list[Link]


class FactorMove(_Open):
    id: str
    label_nl: str | None = None
    label_en: str | None = None
    old_points: float
    new_points: float
    delta: float


class Change(_Open):
    park_id: int
    name: str | None
    municipality_name: str | None
    old_class: str | None
    new_class: str
    old_score: float | None
    new_score: float
    scored_at: str | None
    factors: list[FactorMove]


class ChangeList(_Open):
    since: dict[str, Any]
    run_id: int | None
    changes: list[Change]


class AreaProperties(_Open):
    """Per area: how many parks, how many per class, mean and highest score, how many are hot spots."""

    code: str | None
    name: str | None
    province: str | None
    park_count: int
    scored_count: int
    count_laag: int
    count_verhoogd: int
    count_hoog: int
    count_unscored: int
    mean_score: float | None
    max_score: float | None
    hotspot_parks: int
    boundary: bool = Field(description="whether the geometry is the imported boundary (else null)")
    as_of: str | None
    run_id: int | None
    model_version: str | None


class AreaFeature(BaseModel):
    type: Literal["Feature"]
    id: str | int
    geometry: dict[str, Any] | None
    properties: AreaProperties


class AreaCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[AreaFeature]
    numberMatched: int
    numberReturned: int


class ScoreRun(_Open):
    id: int
    status: str
    model_version: str | None
    model_hash: str | None
    as_of: str | None
    started_at: str | None
    finished_at: str | None
    input_counts: dict[str, Any] | None
    timings: dict[str, Any] | None
    error: str | None
    previous_run_id: int | None


class ScoreRunList(BaseModel):
    published: ScoreRun | None
    runs: list[ScoreRun]


class RunStarted(_Open):
    run_id: int | None
    status: str


class Problem(_Open):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


class SignalPost(_Open):
    """One signal (more fields than these are kept as its attributes)."""

    source_id: str | None = None
    type: str | None = None
    subtype: str | None = None
    date: str | None = None
    lon: float | None = None
    lat: float | None = None
    park_id: int | None = None
    park_ref: str | None = None
    violation: bool | str | None = None
    categories: list[str] | str | None = None
    residents: int | None = None
    attributes: dict[str, Any] | None = None


class SignalImport(_Open):
    batch_id: int
    read: int
    stored: int
    rejected: int
    unchanged: int
    ids: list[int]
    rejected_rows: list[dict[str, Any]]

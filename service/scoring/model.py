"""The risk model as data: its factors, sources, transforms and thresholds, as read from a model file.

A model names its factors, the source each factor reads (a signal type with filters, a park attribute, or
the neighbours' risk), how a raw value becomes points, and the class thresholds. Nothing about weights lives
in code; :mod:`service.scoring.model_file` reads and checks a file into these types.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..vocab import classify_score

__all__ = [
    "ModelError",
    "Model",
    "Factor",
    "SignalSource",
    "ParkSource",
    "NeighbourSource",
    "Filter",
    "Transform",
    "WeightBy",
    "SIGNAL_FIELDS",
    "PARK_ATTRIBUTES",
]


class ModelError(ValueError):
    """A model file that cannot be used; the message names the factor and the field to fix."""


#: Signal fields a filter, weight or aggregate may read, with their kind. ``subtype`` is a column; the rest
#: live in ``signals.attributes``. A field not listed here is refused: a typo would silently score 0 forever.
SIGNAL_FIELDS: dict[str, str] = {
    "subtype": "text",
    "violation": "bool",
    "categories": "list",
    "residents": "number",
    "outcome": "text",
    "topics": "list",
    "buyer_kind": "text",
    "resale_within_months": "number",
    "excess_kwh": "number",
    "plants": "number",
    "containers": "number",
    "category": "text",
    "channel": "text",
}

#: Park attributes a factor may read: name -> (kind, where it is stored). ``attributes.x`` keys are tried in
#: order (the demo region says ``built_year_median``; the FTM/TOP10NL file calls the median ``bouwjaar_3``).
PARK_ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "operator": ("text", ("operator",)),
    "takeover_year": ("year", ("takeover_year",)),
    "built_year_median": ("year", ("attributes.built_year_median", "attributes.bouwjaar_3")),
    "unit_count": ("number", ("unit_count",)),
    "area_m2": ("number", ("area_m2",)),
    "kind": ("text", ("kind",)),
}

#: Measures of a park attribute, and the attribute kinds each applies to.
PARK_MEASURES: dict[str, tuple[str, ...]] = {
    "missing": ("text", "year", "number"),  # 1 when the attribute is absent
    "within_years": ("year",),  # 1 when 0 <= as_of year - value < years
    "age": ("year",),  # as_of year - value, in years (absent: no points)
    "value": ("number",),  # the number itself
}

@dataclass(frozen=True)
class Filter:
    """One condition on a signal field; ``any_of`` holds alternatives (OR) instead of a single test."""

    field: str = ""
    op: str = ""
    value: Any = None
    any_of: tuple[Filter, ...] = ()

    def fields(self) -> set[str]:
        if self.any_of:
            return set().union(*(f.fields() for f in self.any_of))
        return {self.field}

    def describe(self) -> str:
        if self.any_of:
            return "(" + " or ".join(f.describe() for f in self.any_of) + ")"
        return f"{self.field} {self.op} {self.value!r}" if self.op != "exists" else f"{self.field} exists"


@dataclass(frozen=True)
class WeightBy:
    """Per-signal weights by the value of one text field (e.g. drug incidents count more)."""

    field: str
    values: dict[str, float]
    default: float = 1.0


@dataclass(frozen=True)
class SignalSource:
    """Signals of one type, own to the park or nearby it, filtered, weighted and aggregated."""

    type: str
    scope: str = "own"  # own | nearby
    within_m: float | None = None
    aggregate: str = "count"
    field: str | None = None  # the numeric field of sum / latest / growth
    lookback_days: int | None = None  # growth: compare with the value this long before as_of
    where: tuple[Filter, ...] = ()
    weight_by: WeightBy | None = None
    kind: str = "signals"

    @property
    def value_field(self) -> str:
        """The numeric field of a sum, latest or growth aggregate (the loader checks it is there)."""
        if self.field is None:
            raise ModelError(f"aggregate {self.aggregate!r} of {self.type!r} signals needs a field")
        return self.field

    @property
    def lookback(self) -> int:
        """Days a growth aggregate looks back (the loader checks it is there)."""
        if self.lookback_days is None:
            raise ModelError(f"aggregate {self.aggregate!r} of {self.type!r} signals needs lookback_days")
        return self.lookback_days

    def fields(self) -> set[str]:
        out: set[str] = set()
        for f in self.where:
            out |= f.fields()
        if self.field:
            out.add(self.field)
        if self.weight_by:
            out.add(self.weight_by.field)
        return out


@dataclass(frozen=True)
class ParkSource:
    """A park attribute measured one way (missing, recent, age, value)."""

    attribute: str
    measure: str
    years: int | None = None
    kind: str = "park"


@dataclass(frozen=True)
class NeighbourSource:
    """The spatial lag: the mean first-pass points of the parks within ``within_m`` metres."""

    within_m: float
    kind: str = "neighbours"


@dataclass(frozen=True)
class Transform:
    """A saturating map of the normalised value onto [0, 1]; points = weight x transform."""

    kind: str
    scale: float | None = None
    cap: float | None = None
    lo: float | None = None
    hi: float | None = None
    threshold: float | None = None

    def param(self, name: str) -> float:
        """A parameter the loader has checked is present for this kind (``ModelError`` if not)."""
        value = getattr(self, name)
        if value is None:
            raise ModelError(f"transform {self.kind!r} needs {name!r}")
        return float(value)

    def describe(self) -> str:
        return {
            "exp": f"1 - exp(-v / {self.scale})",
            "cap": f"min(v / {self.cap}, 1)",
            "ramp": f"clip((v - {self.lo}) / ({self.hi} - {self.lo}), 0, 1)",
            "step": f"1 if v >= {self.threshold} else 0",
        }[self.kind]


@dataclass(frozen=True)
class Factor:
    """One risk factor: where its value comes from, and how many points it is worth at most."""

    id: str
    theme: str
    label_nl: str
    label_en: str
    weight: float
    source: SignalSource | ParkSource | NeighbourSource
    normalise: str
    transform: Transform
    rationale: str
    citation: str
    window_days: int | None = None
    half_life_days: float | None = None
    min_units: float = 1.0
    allow_negative: bool = False

    @property
    def spatial_lag(self) -> bool:
        return isinstance(self.source, NeighbourSource)

    def describe(self) -> dict[str, Any]:
        """The factor as the model card and the explanation show it."""
        src = self.source
        if isinstance(src, SignalSource):
            source: dict[str, Any] = {"kind": "signals", "type": src.type, "scope": src.scope,
                                      "aggregate": src.aggregate,
                      "where": [f.describe() for f in src.where]}
            if src.within_m is not None:
                source["within_m"] = src.within_m
            if src.field:
                source["field"] = src.field
            if src.weight_by:
                source["weight_by"] = {"field": src.weight_by.field, "values": dict(src.weight_by.values),
                                       "default": src.weight_by.default}
        elif isinstance(src, ParkSource):
            source = {"kind": "park", "attribute": src.attribute, "measure": src.measure}
            if src.years is not None:
                source["years"] = src.years
        else:
            source = {"kind": "neighbours", "within_m": src.within_m}
        return {
            "id": self.id, "theme": self.theme, "label_nl": self.label_nl, "label_en": self.label_en,
            "weight": self.weight, "source": source, "window_days": self.window_days,
            "half_life_days": self.half_life_days, "normalise": self.normalise,
            "transform": self.transform.describe(), "rationale": self.rationale, "citation": self.citation,
        }


@dataclass(frozen=True)
class Model:
    """A validated model: factors in file order, themes, class thresholds, hotspot settings."""

    name: str
    version: str
    description: str
    factors: tuple[Factor, ...]
    themes: dict[str, dict[str, str]]
    thresholds: dict[str, float]  # class -> lowest score of that class (verhoogd, hoog)
    hotspot_distance_m: float
    hotspot_permutations: int
    hotspot_significance: float
    hotspot_seed: int
    max_signal_ids: int
    text: str = field(repr=False)
    sha256: str = ""
    path: str | None = None
    #: Correct the hot/cold spot test for multiple testing (Benjamini-Hochberg false discovery rate).
    hotspot_fdr: bool = False
    #: A hot spot also needs the local mean score (the park and its neighbours) to reach this class.
    hotspot_min_level: str | None = None

    @property
    def factor_ids(self) -> list[str]:
        return [f.id for f in self.factors]

    def factor(self, factor_id: str) -> Factor:
        for f in self.factors:
            if f.id == factor_id:
                return f
        raise KeyError(factor_id)

    @property
    def lag_factor(self) -> Factor | None:
        return next((f for f in self.factors if f.spatial_lag), None)

    @property
    def lag_distance_m(self) -> float | None:
        """How far the neighbours' risk factor looks (None: the model has no such factor)."""
        lag = self.lag_factor
        return lag.source.within_m if lag is not None and isinstance(lag.source, NeighbourSource) else None

    @property
    def signal_types(self) -> set[str]:
        return {f.source.type for f in self.factors if isinstance(f.source, SignalSource)}

    @property
    def signal_fields(self) -> set[str]:
        out: set[str] = set()
        for f in self.factors:
            if isinstance(f.source, SignalSource):
                out |= f.source.fields()
        return out

    @property
    def nearby_distance_m(self) -> float:
        """The furthest a nearby factor looks (must not exceed the import's nearby assignment distance)."""
        return max((f.source.within_m or 0.0 for f in self.factors
                    if isinstance(f.source, SignalSource) and f.source.scope == "nearby"), default=0.0)

    def classify(self, score: float) -> str:
        return classify_score(score, self.thresholds)

    def card(self) -> dict[str, Any]:
        """A model card: everything an auditor needs to read the model without the file."""
        return {
            "name": self.name, "version": self.version, "sha256": self.sha256, "description": self.description,
            "themes": self.themes, "thresholds": self.thresholds,
            "hotspots": {"distance_m": self.hotspot_distance_m, "permutations": self.hotspot_permutations,
                         "significance": self.hotspot_significance, "seed": self.hotspot_seed,
                         "fdr": self.hotspot_fdr, "min_level": self.hotspot_min_level},
            "factors": [f.describe() for f in self.factors],
        }

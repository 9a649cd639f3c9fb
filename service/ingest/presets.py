"""Column presets: how the columns of a known source map onto Parkwacht's park and signal fields.

A preset renames source columns to target fields; every other column is kept in ``attributes``.
Callers may add or override single mappings (``--map name=naam``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import UnknownOption

__all__ = ["Preset", "PRESETS", "get_preset", "PARK_FIELDS", "SIGNAL_FIELDS", "TOPIC_PATTERNS"]

#: Target fields of a park (``geometry`` comes from the file's geometry or a WKT column).
PARK_FIELDS = (
    "source_id", "name", "kind", "municipality_code", "municipality_name", "province",
    "unit_count", "operator", "takeover_year",
)
#: Target fields of a signal.
SIGNAL_FIELDS = (
    "source_id", "type", "subtype", "date", "lon", "lat", "x", "y", "wkt", "park_id", "park_ref",
    "name", "violation", "categories", "residents",
)


@dataclass(frozen=True)
class Preset:
    """A named mapping ``target field -> source column`` plus constant values."""

    name: str
    kind: str  # parks | signals
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    description: str = ""
    #: Derive ``attributes["topics"]`` from this column with :data:`TOPIC_PATTERNS`.
    topics_from: str | None = None


#: Keyword topics in Dutch permit titles that matter for holiday parks.
TOPIC_PATTERNS: dict[str, re.Pattern[str]] = {
    "bewoning": re.compile(r"\bbewon", re.IGNORECASE),
    "zonder_beheerderstaken": re.compile(r"zonder\s+(uitvoering\s+)?beheerderstaken", re.IGNORECASE),
    "recreatiewoning": re.compile(r"recreatie(woning|park|verblijf)|chalet|stacaravan|vakantiewoning", re.IGNORECASE),
    "bedrijfswoning": re.compile(r"bedrijfswoning", re.IGNORECASE),
    "splitsing": re.compile(r"splits", re.IGNORECASE),
    "legalisatie": re.compile(r"legalis", re.IGNORECASE),
}

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="default",
            kind="parks",
            description="Parkwacht's own field names (source_id, name, kind, municipality_code, ...).",
        ),
        Preset(
            name="top10nl",
            kind="parks",
            columns={
                "name": "naam",
                "kind": "functie",
                "municipality_code": "code",
                "municipality_name": "gemeentena",
                "province": "provincien",
                "unit_count": "bouwjaar_c",
                "operator": "eigenaar",
                "takeover_year": "overname_j",
            },
            description=(
                "TOP10NL 'functioneel gebied' derived parks as compiled by Follow the Money "
                "(naam, functie, code, gemeentena, provincien, bouwjaar_c, eigenaar, overname_j). "
                "Such files carry no stable id: the id is derived from the geometry."
            ),
        ),
        Preset(
            name="signals",
            kind="signals",
            description="Parkwacht's own field names (source_id, type, subtype, date, lon/lat or x/y, ...).",
        ),
        Preset(
            name="bekendmakingen",
            kind="signals",
            columns={"date": "date", "subtype": "type", "source_id": "doc_id", "lat": "lat", "lon": "lon"},
            constants={"type": "permit"},
            topics_from="title",
            description=(
                "Municipal official publications (officielebekendmakingen.nl): date, type, doc_id, title, "
                "lat, lon, urlDoc. Stored as 'permit' signals with the publication type as subtype."
            ),
        ),
    )
}


def get_preset(name: str | None, kind: str) -> Preset:
    """The preset called ``name`` for ``kind`` (parks/signals); the kind's default when ``name`` is None."""
    if name is None:
        name = "default" if kind == "parks" else "signals"
    preset = PRESETS.get(name)
    if preset is None or preset.kind != kind:
        known = ", ".join(sorted(p.name for p in PRESETS.values() if p.kind == kind))
        raise UnknownOption(f"unknown {kind} preset {name!r}; known: {known}")
    return preset

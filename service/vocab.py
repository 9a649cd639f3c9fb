"""The domain's words: park kinds, signal types, risk classes, themes, and the one personal-trait policy.

Every other module takes these words from here, so a table constraint, a form, the map legend and the
model loader cannot drift apart. Labels for people live with the pages (``service.web.i18n``); this module
holds the identifiers that are stored and exchanged.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

__all__ = [
    "PARK_KINDS",
    "UNKNOWN_KIND",
    "SIGNAL_TYPES",
    "ASSIGNMENTS",
    "OWN_ASSIGNMENTS",
    "INSPECTION_CATEGORIES",
    "RISK_CLASSES",
    "HOTSPOT_LABELS",
    "THEMES",
    "ROLES",
    "DEMO_SOURCE",
    "VISIT_SOURCE",
    "classify_score",
    "classify_scores",
    "column_words",
    "personal_trait",
]

#: Park kinds, after TOP10NL "functioneel gebied"; ``unknown`` when a source does not say.
PARK_KINDS: tuple[str, ...] = ("bungalowpark", "camping", "caravanpark", "unknown")
UNKNOWN_KIND = "unknown"

#: Signal types Parkwacht takes in.
SIGNAL_TYPES: tuple[str, ...] = (
    "permit",
    "ownership_change",
    "inspection",
    "registration",
    "complaint",
    "incident",
    "bibob",
    "energy_anomaly",
    "other",
)

#: How a signal got its park: named by the source, inside the polygon, near it, or none.
ASSIGNMENTS: tuple[str, ...] = ("explicit", "inside", "nearby", "unassigned")
#: Assignments that make a signal the park's own (as opposed to "just outside").
OWN_ASSIGNMENTS: tuple[str, ...] = ("explicit", "inside")

#: What an inspection can find (observations about a place, never about who lives there).
INSPECTION_CATEGORIES: tuple[str, ...] = (
    "permanent_residence",
    "overcrowding",
    "fire_safety",
    "illegal_construction",
    "drugs",
    "environment",
    "other",
)

#: Risk classes, lowest first; the model file gives the lowest score of each class above the first.
RISK_CLASSES: tuple[str, ...] = ("laag", "verhoogd", "hoog")

#: Getis-Ord Gi* outcome per park.
HOTSPOT_LABELS: tuple[str, ...] = ("hot", "cold", "none")

#: The five themes of the Monitor Vitale Vakantieparken; every factor belongs to exactly one.
THEMES: tuple[str, ...] = ("ownership", "economic", "social", "crime", "fire_safety")

#: Who uses Parkwacht: officers (map, park pages, worklist, visits), analysts (API, OGC API, exports),
#: admins (imports, score runs, users, audit log).
ROLES: tuple[str, ...] = ("officer", "analyst", "admin")

#: Source name of the fictional demo region.
DEMO_SOURCE = "demo"
#: Source name of visits recorded on the park page.
VISIT_SOURCE = "bezoek"


def classify_score(score: float, thresholds: Mapping[str, float]) -> str:
    """The risk class of ``score``: the highest class whose threshold it reaches.

    >>> classify_score(41.0, {"verhoogd": 25.0, "hoog": 45.0})
    'verhoogd'
    """
    return str(classify_scores(np.asarray([score], dtype=float), thresholds)[0])


def classify_scores(scores: np.ndarray, thresholds: Mapping[str, float]) -> np.ndarray:
    """:func:`classify_score` for an array of scores (an object array of class names)."""
    bounds = np.asarray([thresholds[cls] for cls in RISK_CLASSES[1:]], dtype=float)
    return np.asarray(RISK_CLASSES, dtype=object)[np.searchsorted(bounds, scores, side="right")]


# -- personal traits ------------------------------------------------------------------------------------
# Parkwacht scores parks, never persons. A column or factor that describes persons' traits is neither
# stored nor scored. Names are matched on whole words, so ``trace_id`` or ``grace_period`` are kept while
# ``etnische_achtergrond`` and ``countryOfBirth`` are not.

#: Single words that name a personal trait, in Dutch and English.
_TRAIT_WORDS = frozenset({
    # nationality
    "nationaliteit", "nationaliteiten", "staatsburgerschap", "nationality", "nationalities", "citizenship",
    # ethnicity and descent
    "etniciteit", "etnisch", "etnische", "etnie", "ethnic", "ethnicity", "ethnicities", "ethnical",
    "afkomst", "herkomst", "herkomstland", "herkomstgroep", "migratieachtergrond", "allochtoon", "autochtoon",
    "geboorteland", "geboorteplaats", "birthplace", "birthcountry", "ancestry", "descent",
    "ras", "race", "races", "racial", "huidskleur", "moedertaal",
    # religion and belief
    "religie", "religies", "religieus", "religieuze", "religion", "religions", "religious",
    "geloof", "geloofsovertuiging", "levensovertuiging", "kerkgenootschap", "faith", "belief", "beliefs",
    "denomination",
    # the age of persons (a building's age is not a person's)
    "leeftijd", "leeftijden", "geboortedatum", "geboortejaar", "birthdate", "birthday",
})

#: Word sequences that name a personal trait only together.
_TRAIT_PHRASES: tuple[tuple[str, ...], ...] = (
    ("country", "of", "birth"),
    ("birth", "country"),
    ("place", "of", "birth"),
    ("country", "of", "origin"),
    ("land", "van", "herkomst"),
    ("land", "van", "geboorte"),
    ("geboorte", "land"),
    ("geboorte", "plaats"),
    ("herkomst", "land"),
    ("migratie", "achtergrond"),
    ("migration", "background"),
    ("ethnic", "origin"),
    ("ethnic", "background"),
    ("skin", "colour"),
    ("skin", "color"),
    ("mother", "tongue"),
    ("date", "of", "birth"),
    ("birth", "date"),
    ("birth", "year"),
    ("year", "of", "birth"),
    ("age", "of", "residents"),
    ("age", "of", "persons"),
    ("resident", "age"),
    ("residents", "age"),
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^0-9a-zà-ÿ]+")


def column_words(name: str) -> list[str]:
    """The lower-case words of a column or factor name (split on ``_``, ``-``, space, dots and camelCase).

    >>> column_words("countryOfBirth")
    ['country', 'of', 'birth']
    >>> column_words("etnische_achtergrond")
    ['etnische', 'achtergrond']
    """
    spaced = _CAMEL.sub(" ", str(name))
    return [w for w in _SEPARATORS.split(spaced.lower()) if w]


def personal_trait(name: object) -> str | None:
    """The trait word(s) ``name`` is made of, or None when it names no personal trait.

    >>> personal_trait("Nationaliteit")
    'nationaliteit'
    >>> personal_trait("trace_id") is None
    True
    """
    if not isinstance(name, str):
        return None
    words = column_words(name)
    for word in words:
        if word in _TRAIT_WORDS:
            return word
    for phrase in _TRAIT_PHRASES:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i:i + n]) == phrase:
                return " ".join(phrase)
    return None

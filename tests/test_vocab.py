"""The vocabulary: risk classes by threshold, and the one personal-trait policy on column names."""
from __future__ import annotations

import doctest

import pytest

from service import vocab

#: Column names that describe persons' traits: never stored, never scored.
REFUSED = [
    "nationaliteit", "Nationaliteit", "NATIONALITEIT", "nationality", "bewoner_nationaliteit",
    "nationaliteit_hoofdbewoner", "etnische_achtergrond", "etniciteit", "ethnicity", "EthnicGroup",
    "migratieachtergrond", "migratie_achtergrond", "migration-background", "afkomst", "herkomst",
    "land_van_herkomst", "geboorteland", "GeboorteLand", "country_of_birth", "countryOfBirth",
    "Country of birth", "birth_country", "place-of-birth", "religie", "religion", "geloof",
    "levensovertuiging", "geloofsovertuiging", "ras", "race", "Race", "racial_group", "huidskleur",
    "skin_colour", "mother tongue", "moedertaal", "herkomstland", "country_of_origin", "ethnic origin",
    "staatsburgerschap", "citizenship", "religious_affiliation", "religieuze_groep",
]

#: Harmless column names, some of which contain a trait word inside another word.
KEPT = [
    "trace_id", "grace_period", "racetrack_nearby", "racecourse", "terrace_count", "embrace",
    "brace", "national_park", "nationaal_park", "naam", "gemeente", "gemeentena", "provincie",
    "bouwjaar", "bouwjaar_c", "eigenaar", "overname_j", "functie", "code", "source_id", "date",
    "datum", "type", "subtype", "violation", "categories", "residents", "park_ref", "lon", "lat",
    "x", "y", "wkt", "grasveld", "kras", "bron", "rasterwaarde", "geloofwaardigheid",
    "brand", "interface_version", "unit_count", "takeover_year", "operator", "energy_kwh",
]


@pytest.mark.parametrize("name", REFUSED)
def test_trait_columns_are_refused(name: str) -> None:
    assert vocab.personal_trait(name) is not None, name


@pytest.mark.parametrize("name", KEPT)
def test_harmless_columns_are_kept(name: str) -> None:
    assert vocab.personal_trait(name) is None, name


def test_lists_are_long_enough() -> None:
    assert len(set(REFUSED)) >= 30 and len(set(KEPT)) >= 30


def test_whole_words_decide() -> None:
    # A trait word standing as a whole word is refused even beside harmless ones: the rule errs on the safe side.
    assert vocab.personal_trait("ras_grid") == "ras"
    assert vocab.personal_trait("herkomst_bestand") == "herkomst"
    assert vocab.personal_trait(12) is None


@pytest.mark.parametrize(("score", "expected"), [(0.0, "laag"), (24.99, "laag"), (25.0, "verhoogd"),
                                                   (44.9, "verhoogd"), (45.0, "hoog"), (100.0, "hoog")])
def test_classify_score(score: float, expected: str) -> None:
    assert vocab.classify_score(score, {"verhoogd": 25.0, "hoog": 45.0}) == expected


def test_doctests() -> None:
    result = doctest.testmod(vocab)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", ["leeftijd", "bewoner_leeftijd", "geboortedatum", "date_of_birth",
                                  "age_of_residents"])
def test_age_of_persons_is_refused(name: str) -> None:
    assert vocab.personal_trait(name) is not None


@pytest.mark.parametrize("name", ["age_of_buildings", "ageing_stock", "bouwjaar_leeftijdsklasse", "page"])
def test_age_of_things_is_kept(name: str) -> None:
    assert vocab.personal_trait(name) is None

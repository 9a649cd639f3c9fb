"""The model file: the shipped model is complete and lawful; every kind of bad model is refused clearly."""
from __future__ import annotations

import pytest

from service.scoring.model import ModelError, NeighbourSource, ParkSource, SignalSource
from service.scoring.model_file import load_model, parse_model
from service.vocab import THEMES
from tests.scoring.conftest import MODEL_PATH

BASE = '''
[model]
name = "test"
version = "1"

[classes]
verhoogd = 20
hoog = 50

[hotspots]
distance_m = 2000
permutations = 99
significance = 0.05
seed = 1

[themes.ownership]
label_nl = "Eigendom"
label_en = "Ownership"
[themes.economic]
label_nl = "Economie"
label_en = "Economy"
[themes.social]
label_nl = "Sociaal"
label_en = "Social"
[themes.crime]
label_nl = "Criminaliteit"
label_en = "Crime"
[themes.fire_safety]
label_nl = "Brandveiligheid"
label_en = "Fire safety"

[[factors]]
id = "fire"
theme = "fire_safety"
label_nl = "Brand"
label_en = "Fire"
weight = 60
window_days = 365
normalise = "none"
transform = { kind = "exp", scale = 1.0 }
rationale = "r"
citation = "c"
source = { kind = "signals", type = "inspection", where = [
  { field = "violation", op = "=", value = true },
  { field = "categories", op = "contains", value = "fire_safety" },
] }

[[factors]]
id = "no_operator"
theme = "economic"
label_nl = "Geen exploitant"
label_en = "No operator"
weight = 30
normalise = "none"
transform = { kind = "step", threshold = 1 }
rationale = "r"
citation = "c"
source = { kind = "park", attribute = "operator", measure = "missing" }

[[factors]]
id = "lag"
theme = "crime"
label_nl = "Buren"
label_en = "Neighbours"
weight = 10
normalise = "none"
transform = { kind = "ramp", lo = 10, hi = 40 }
rationale = "r"
citation = "c"
source = { kind = "neighbours", within_m = 1000 }
'''


def test_the_minimal_model_loads() -> None:
    m = parse_model(BASE)
    assert m.factor_ids == ["fire", "no_operator", "lag"]
    assert m.lag_factor is not None and m.lag_factor.id == "lag"
    assert len(m.sha256) == 64 and m.sha256 == parse_model(BASE).sha256
    assert parse_model(BASE + "\n").sha256 != m.sha256  # the hash is over the exact text


def test_shipped_model_is_complete() -> None:
    m = load_model(MODEL_PATH)
    assert len(m.factors) >= 12
    assert round(sum(f.weight for f in m.factors), 6) == 100
    assert {f.theme for f in m.factors} == set(THEMES)
    assert all(f.rationale.strip() and f.citation.strip() and f.label_nl and f.label_en for f in m.factors)
    assert m.path and m.version and m.text.startswith("#")
    sources = [f.source for f in m.factors]
    conditions = {w.describe() for s in sources if isinstance(s, SignalSource) for w in s.where}
    for category in ("permanent_residence", "overcrowding", "fire_safety", "illegal_construction", "drugs"):
        assert f"categories contains '{category}'" in conditions
    aggregates = {(s.type, s.aggregate) for s in sources if isinstance(s, SignalSource)}
    assert {("registration", "latest"), ("registration", "growth")} <= aggregates
    types = {s.type for s in sources if isinstance(s, SignalSource)}
    assert types >= {"inspection", "registration", "ownership_change", "permit", "bibob", "incident",
                     "energy_anomaly", "complaint"}
    attrs = {(s.attribute, s.measure) for s in sources if isinstance(s, ParkSource)}
    assert {("operator", "missing"), ("takeover_year", "within_years"), ("built_year_median", "age")} <= attrs
    assert any(isinstance(s, SignalSource) and s.scope == "nearby" for s in sources)
    assert sum(isinstance(s, NeighbourSource) for s in sources) == 1
    assert any("buyer_kind" in c for c in conditions) and any("resale_within_months" in c for c in conditions)
    assert any("zonder_beheerderstaken" in c for c in conditions)
    assert m.thresholds["verhoogd"] < m.thresholds["hoog"]
    card = m.card()
    assert card["sha256"] == m.sha256 and len(card["factors"]) == len(m.factors)


def refused(text: str, *fragments: str) -> str:
    with pytest.raises(ModelError) as info:
        parse_model(text)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_unknown_signal_type() -> None:
    refused(BASE.replace('type = "inspection"', 'type = "inspecton"'), "fire", "unknown signal type 'inspecton'")


def test_unknown_source_kind() -> None:
    refused(BASE.replace('kind = "park"', 'kind = "registry"'), "no_operator", "unknown source kind 'registry'")


def test_unknown_park_attribute() -> None:
    refused(BASE.replace('attribute = "operator"', 'attribute = "owner_phone"'), "unknown park attribute 'owner_phone'")


def test_unknown_signal_field() -> None:
    refused(BASE.replace('field = "violation"', 'field = "violaton"'), "unknown signal field 'violaton'")


def test_unknown_theme() -> None:
    refused(BASE.replace('theme = "fire_safety"', 'theme = "safety"'), "fire", "unknown theme 'safety'")
    refused(BASE.replace("[themes.crime]", "[themes.misdaad]"), "unknown theme 'misdaad'")


def test_negative_weight_needs_allow_negative() -> None:
    text = BASE.replace("weight = 30", "weight = -5")
    refused(text, "no_operator", "negative weight", "allow_negative")
    allowed = text.replace('id = "no_operator"', 'id = "no_operator"\nallow_negative = true')
    refused(allowed, "positive weights must sum to 100")  # 60 + 10: the maximum score must still be 100
    ok = allowed.replace("weight = 60", "weight = 90")
    assert parse_model(ok).factor("no_operator").weight == -5


def test_weights_must_sum_to_100() -> None:
    refused(BASE.replace("weight = 60", "weight = 61"), "sum to 101")
    refused(BASE.replace("weight = 60", "weight = 59.5"), "sum to 99.5")
    refused(BASE.replace("weight = 60", "weight = 59.995").replace("weight = 30", "weight = 30.005"), "two decimals")


@pytest.mark.parametrize("field", ["label_nl", "rationale", "citation", "normalise", "transform", "weight", "theme"])
def test_missing_factor_field(field: str) -> None:
    lines = BASE.split("\n")
    start = lines.index('id = "no_operator"')
    end = start + next(i for i, line in enumerate(lines[start:]) if line.startswith("source"))
    cut = [i for i in range(start, end) if lines[i].startswith(f"{field} =")]
    assert cut, field
    text = "\n".join(line for i, line in enumerate(lines) if i != cut[0])
    refused(text, "no_operator", f"missing field {field!r}")


def test_missing_tables_and_fields() -> None:
    refused(BASE.replace('version = "1"\n', ""), "[model]", "missing field 'version'")
    refused(BASE.replace("[classes]\nverhoogd = 20\nhoog = 50\n", ""), "[classes]")
    refused(BASE.replace("seed = 1\n", ""), "[hotspots]", "seed")
    social = '[themes.social]\nlabel_nl = "Sociaal"\nlabel_en = "Social"\n'
    refused(BASE.replace(social, ""), "theme 'social' is missing")
    refused(BASE.replace("window_days = 365\n", ""), "fire", "window_days and/or half_life_days")
    refused(BASE.replace(", threshold = 1", ""), "no_operator", "threshold")
    refused(BASE.replace('{ kind = "exp", scale = 1.0 }', '{ kind = "sigmoid", scale = 1.0 }'), "unknown transform")


def test_bad_values() -> None:
    refused(BASE.replace("hoog = 50", "hoog = 10"), "verhoogd < hoog")
    exp = 'transform = { kind = "exp"'
    refused(BASE.replace(f'normalise = "none"\n{exp}', f'normalise = "per_person"\n{exp}'),
            "unknown normalise 'per_person'")
    refused(BASE.replace('op = "contains"', 'op = ">="'), "operator '>=' does not apply")
    refused(BASE.replace('id = "lag"', 'id = "no_operator"'), "defined twice")
    refused(BASE.replace("permutations = 99", "permutations = 5"), "permutations")
    refused("[model\nname=", "not valid TOML")


PERSONAL = ["nationality", "ethnicity", "etnische_achtergrond", "religion", "geloof", "geboorteland",
            "country_of_birth", "leeftijd", "age_of_residents"]


@pytest.mark.parametrize("word", PERSONAL)
def test_personal_traits_are_refused_as_filter_fields(word: str) -> None:
    refused(BASE.replace('field = "violation"', f'field = "{word}"'), "personal trait")


@pytest.mark.parametrize("word", PERSONAL)
def test_personal_traits_are_refused_as_attributes_ids_and_values(word: str) -> None:
    refused(BASE.replace('attribute = "operator"', f'attribute = "{word}"'), "personal trait")
    refused(BASE.replace('id = "fire"', f'id = "fire_{word.lower()}"'), "personal trait")
    refused(BASE.replace('value = "fire_safety"', f'value = "{word}"'), "personal trait")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nope.toml")

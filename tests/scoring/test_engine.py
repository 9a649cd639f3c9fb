"""The engine on hand-made data: each kind of factor, windows and decay, the spatial lag, exact decomposition."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from service.scoring.engine import compute
from service.scoring.explain import check_decomposition, park_records
from tests.scoring.conftest import AS_OF, pairs_for, park_frame, signal, signal_frame

CALM = {"operator": "Groene Kamp", "unit_count": 20}


def run(model, parks, rows, **kw):
    return compute(model, park_frame(parks), signal_frame(rows, model), AS_OF, neighbours=pairs_for(parks, model), **kw)


def factor(result, park_id: int, fid: str) -> tuple[float, float, float]:
    i = result.position(park_id)
    j = result.model.factor_ids.index(fid)
    return result.raw[i, j], result.normalised[i, j], result.cents[i, j] / 100


def expected_points(model, fid: str, value: float) -> float:
    f = model.factor(fid)
    t = f.transform
    share = {"exp": lambda v: 1 - math.exp(-v / t.scale), "cap": lambda v: min(v / t.cap, 1.0),
             "ramp": lambda v: min(max((v - t.lo) / (t.hi - t.lo), 0.0), 1.0),
             "step": lambda v: float(v >= t.threshold)}[t.kind](value)
    return round(f.weight * 100 * share) / 100


def test_a_calm_park_scores_zero(model) -> None:
    r = run(model, [{"id": 1, "cell": 0, **CALM}], [])
    assert r.score_of(1) == 0.0
    assert park_records(r)[0]["risk_class"] == "laag"


def test_park_attributes(model) -> None:
    parks = [{"id": 1, "cell": 0, "operator": None, "unit_count": 20, "built": AS_OF.year - 45,
              "takeover_year": AS_OF.year - 2},
             {"id": 2, "cell": 20, "operator": "X", "unit_count": 20, "built": AS_OF.year - 10,
              "takeover_year": AS_OF.year - 7}]
    r = run(model, parks, [])
    assert factor(r, 1, "no_operator")[2] == model.factor("no_operator").weight
    assert factor(r, 1, "recent_takeover")[2] == model.factor("recent_takeover").weight
    assert factor(r, 1, "ageing_stock") == (45.0, 45.0, expected_points(model, "ageing_stock", 45.0))
    assert factor(r, 2, "no_operator")[2] == factor(r, 2, "recent_takeover")[2] == factor(r, 2, "ageing_stock")[2] == 0
    # A take-over after the as-of date is not known yet.
    later = run(model, [{"id": 1, "cell": 0, **CALM, "takeover_year": AS_OF.year + 1}], [])
    assert factor(later, 1, "recent_takeover")[2] == 0


def test_counts_decay_and_windows(model) -> None:
    hl = model.factor("permanent_residence").half_life_days
    window = model.factor("permanent_residence").window_days
    rows = [signal(1, 1, 0, 0), signal(2, 1, 0, -int(hl)),  # weight 1 and 0.5
            signal(3, 1, 0, -window),  # just outside the window
            signal(4, 1, 0, 1)]  # after as_of: ignored
    r = run(model, [{"id": 1, "cell": 0, **CALM}], rows)
    raw, norm, points = factor(r, 1, "permanent_residence")
    assert raw == pytest.approx(1.5) and norm == raw
    assert points == expected_points(model, "permanent_residence", 1.5)
    ev = park_records(r)[0]["factors"]["permanent_residence"]
    assert ev["signals"] == [1, 2] and ev["n_signals"] == 2  # newest first; 3 and 4 do not count


def test_filters_and_weights(model) -> None:
    rows = [signal(1, 1, 1, -10),  # overcrowding + fire safety
            signal(2, 1, 4, -10),  # inspection without violation
            signal(3, 1, 7, -10), signal(4, 1, 6, -10),  # hemp nursery (x5) and a police report
            signal(5, 1, 13, -10), signal(6, 1, 14, -10),  # Bibob serious (x2) and no risk (0)
            signal(7, 1, 11, -10), signal(8, 1, 12, -10),  # residence without management: subtype / topic
            signal(9, 1, 9, -10), signal(10, 1, 10, -10)]  # company quick resale, private sale
    r = run(model, [{"id": 1, "cell": 0, **CALM}], rows)
    decay = 2 ** (-10 / 365)
    assert factor(r, 1, "overcrowding")[0] == pytest.approx(2 ** (-10 / 180))
    assert factor(r, 1, "fire_safety")[0] == pytest.approx(2 ** (-10 / 180))
    assert factor(r, 1, "permanent_residence")[0] == 0
    assert factor(r, 1, "incidents")[0] == pytest.approx(6 * decay)
    assert factor(r, 1, "bibob")[0] == pytest.approx(2 * 2 ** (-10 / 1095))
    assert factor(r, 1, "residence_without_management")[0] == pytest.approx(2 * 2 ** (-10 / 730))
    assert factor(r, 1, "company_buyers")[0] == pytest.approx(2 ** (-10 / 730))
    assert factor(r, 1, "quick_resales")[0] == pytest.approx(2 ** (-10 / 730))
    assert factor(r, 1, "ownership_turnover")[0] == 2  # no decay: a plain count per unit
    assert factor(r, 1, "ownership_turnover")[1] == pytest.approx(2 / 20)
    rec = park_records(r)[0]
    assert rec["factors"]["incidents"]["signals"] == [4, 3]
    assert rec["factors"]["bibob"]["signals"] == [5]


def test_nearby_signals(model) -> None:
    rows = [signal(1, 1, 5, -5, nearby_m=100.0), signal(2, 1, 5, -5, nearby_m=249.0),
            signal(3, 1, 5, -5), signal(4, 1, 6, -5, nearby_m=50.0)]
    r = run(model, [{"id": 1, "cell": 0, **CALM}], rows)
    assert factor(r, 1, "complaints_nearby")[0] == pytest.approx(2 * 2 ** (-5 / 365))
    assert factor(r, 1, "complaints")[0] == pytest.approx(2 ** (-5 / 365))
    assert factor(r, 1, "incidents_nearby")[0] == pytest.approx(2 ** (-5 / 365))
    assert factor(r, 1, "incidents")[0] == 0
    narrow = dataclasses.replace(model, factors=tuple(
        dataclasses.replace(f, source=dataclasses.replace(f.source, within_m=150.0))
        if f.id == "complaints_nearby" else f
        for f in model.factors))
    r2 = run(narrow, [{"id": 1, "cell": 0, **CALM}], rows)
    assert factor(r2, 1, "complaints_nearby")[0] == pytest.approx(2 ** (-5 / 365))


def test_registrations_level_and_growth(model) -> None:
    rows = [signal(1, 1, 0, -500, residents=4), signal(2, 1, 0, -400, residents=10),
            signal(3, 1, 0, -100, residents=25), signal(4, 1, 0, -10, residents=30),
            signal(5, 1, 0, 20, residents=99)]  # after as_of
    r = run(model, [{"id": 1, "cell": 0, "operator": "X", "unit_count": 10}], rows)
    assert factor(r, 1, "brp_residents")[:2] == (30.0, 3.0)
    assert factor(r, 1, "brp_growth")[:2] == (20.0, 2.0)  # 30 now against 10 a year (or more) before
    rec = park_records(r)[0]["factors"]
    assert rec["brp_residents"]["signals"] == [4] and rec["brp_growth"]["signals"] == [4, 2]
    # Small parks are floored at min_units; no baseline a year back gives no growth points (no guess).
    small = run(model, [{"id": 1, "cell": 0, "operator": "X", "unit_count": 1}], [signal(1, 1, 0, -10, residents=6)])
    assert factor(small, 1, "brp_residents")[1] == 6 / model.factor("brp_residents").min_units
    assert factor(small, 1, "brp_growth")[2] == 0 and math.isnan(factor(small, 1, "brp_growth")[0])


def test_spatial_lag_uses_first_pass_points_of_neighbours(model) -> None:
    parks = [{"id": 1, "cell": 0, **CALM}, {"id": 2, "cell": 2, **CALM}, {"id": 3, "cell": 3, **CALM},
             {"id": 4, "cell": 30, **CALM}]
    heavy = [signal(k, 1, t, -3) for k, t in enumerate([0, 1, 2, 3, 7, 13, 15, 9, 11] * 3, start=1)]
    r = run(model, parks, heavy)
    base1 = r.base_cents[r.position(1)] / 100
    assert base1 > 40
    lag = model.lag_factor
    # Park 2 neighbours parks 1 and 3 (600 m and 100 m apart); park 3 neighbours 1 (800 m) and 2; park 4 none.
    assert factor(r, 2, lag.id)[0] == pytest.approx(base1 / 2)
    assert factor(r, 3, lag.id)[0] == pytest.approx(base1 / 2)
    assert math.isnan(factor(r, 4, lag.id)[0]) and factor(r, 4, lag.id)[2] == 0
    assert factor(r, 1, lag.id)[0] == 0  # its neighbours are calm
    for pid in (1, 2, 3, 4):
        raw, _, points = factor(r, pid, lag.id)
        assert 0 <= points <= lag.weight
        assert points == expected_points(model, lag.id, 0 if math.isnan(raw) else raw)
    assert park_records(r)[1]["factors"][lag.id]["parks"] == [1, 3]


def test_scores_decompose_exactly(model) -> None:
    rng = np.random.default_rng(7)
    parks = [{"id": i, "cell": 2 * i, "operator": None if i % 2 else "X", "unit_count": int(rng.integers(0, 60)),
              "built": 1960 + i} for i in range(1, 9)]
    rows = [signal(k, int(rng.integers(1, 9)), int(rng.integers(0, 17)), -int(rng.integers(0, 900)))
            for k in range(1, 400)]
    r = run(model, parks, rows)
    for rec in park_records(r):
        check_decomposition(rec)
        assert 0 <= rec["score"] <= 100
        assert rec["score"] == round(sum(f["points"] for f in rec["factors"].values()), 2)
        assert rec["base_points"] == round(rec["score"] - rec["factors"]["neighbour_risk"]["points"], 2)
        for fid, f in rec["factors"].items():
            assert 0 <= f["points"] <= model.factor(fid).weight
    assert (r.theme_cents().sum(axis=1) == r.score_cents).all()


def test_signal_ids_are_capped_newest_first(model) -> None:
    small = dataclasses.replace(model, max_signal_ids=3)
    rows = [signal(k, 1, 5, -k) for k in range(1, 11)]
    rec = park_records(run(small, [{"id": 1, "cell": 0, **CALM}], rows))[0]
    assert rec["factors"]["complaints"]["signals"] == [1, 2, 3]
    assert rec["factors"]["complaints"]["n_signals"] == 10


def test_signals_of_other_parks_are_ignored(model) -> None:
    rows = [signal(1, 99, 0, -1), signal(2, 1, 5, -1)]
    r = run(model, [{"id": 1, "cell": 0, **CALM}], rows)
    assert r.counts["signals"] == 1


def test_a_score_that_does_not_decompose_is_an_error_even_under_python_o() -> None:
    from service.scoring.explain import DecompositionError

    good = {"score": 3.0, "factors": {"a": {"points": 1.0}, "b": {"points": 2.0}}, "themes": {"crime": 3.0}}
    check_decomposition(good)
    with pytest.raises(DecompositionError):
        check_decomposition({**good, "score": 3.01})
    with pytest.raises(DecompositionError):
        check_decomposition({**good, "themes": {"crime": 2.0}})

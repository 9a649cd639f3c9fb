"""Properties that must hold for any data: bounds, exact sums, monotonicity, determinism, no look-ahead,
and incremental = batch (in the engine, and through the store with the published run)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.scoring.engine import compute
from service.scoring.explain import check_decomposition, park_records
from service.scoring.history import park_score
from service.scoring.incremental import rescore_parks
from service.scoring.runs import engine_scores, score_run
from tests.scoring.conftest import (
    AS_OF,
    NEARBY_TYPES,
    RISK_TEMPLATES,
    fresh_store,
    import_world_parks,
    import_world_signals,
    pairs_for,
    park_frame,
    signal,
    signal_frame,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=8, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

parks_st = st.lists(
    st.fixed_dictionaries({
        "cell": st.integers(0, 12),
        "unit_count": st.one_of(st.none(), st.integers(0, 80)),
        "operator": st.sampled_from([None, "Bosrand Recreatie"]),
        "takeover_year": st.one_of(st.none(), st.integers(2005, 2025)),
        "built": st.one_of(st.none(), st.integers(1955, 2020)),
    }),
    min_size=1, max_size=5, unique_by=lambda p: p["cell"],
).map(lambda ps: [{**p, "id": i + 1} for i, p in enumerate(ps)])

# (park index, template or registration, day relative to AS_OF, nearby distance or None)
signal_st = st.tuples(
    st.integers(0, 4),
    st.one_of(st.integers(0, len(RISK_TEMPLATES) - 1), st.integers(0, 120).map(lambda r: ("registration", r))),
    st.integers(-1200, 150),
    st.one_of(st.none(), st.floats(1.0, 240.0)),
)


def build_rows(parks: list[dict[str, Any]], draws: list[tuple], start: int = 1) -> list[dict[str, Any]]:
    rows = []
    for k, (pi, tmpl, day, near) in enumerate(draws, start=start):
        pid = parks[pi % len(parks)]["id"]
        if isinstance(tmpl, tuple):
            rows.append(signal(k, pid, 0, day, residents=tmpl[1]))
        else:
            near = near if RISK_TEMPLATES[tmpl][0] in NEARBY_TYPES else None
            rows.append(signal(k, pid, tmpl, day, nearby_m=None if near is None else round(near, 1)))
    return rows


def scores(model, parks, rows, as_of=AS_OF) -> np.ndarray:
    return compute(model, park_frame(parks), signal_frame(rows, model), as_of,
                   neighbours=pairs_for(parks, model)).scores


@FAST
@given(parks=parks_st, draws=st.lists(signal_st, max_size=60))
def test_scores_are_bounded_and_decompose(model, parks, draws) -> None:
    rows = build_rows(parks, draws)
    r = compute(model, park_frame(parks), signal_frame(rows, model), AS_OF, neighbours=pairs_for(parks, model))
    assert ((r.scores >= 0) & (r.scores <= 100)).all()
    for rec in park_records(r):
        check_decomposition(rec)
        assert rec["score"] == round(sum(f["points"] for f in rec["factors"].values()), 2)


@FAST
@given(parks=parks_st, draws=st.lists(signal_st, max_size=40), extra=signal_st)
def test_a_risk_raising_signal_never_lowers_any_score(model, parks, draws, extra) -> None:
    pi, tmpl, day, near = extra
    if isinstance(tmpl, tuple):
        tmpl = 0  # registrations are levels, not risk-raising events
    rows = build_rows(parks, draws)
    before = scores(model, parks, rows)
    after = scores(model, parks, rows + build_rows(parks, [(pi, tmpl, day, near)], start=len(rows) + 1))
    assert (after >= before).all(), (before, after)


@FAST
@given(parks=parks_st, draws=st.lists(signal_st, max_size=50), seed=st.integers(0, 2**16))
def test_equal_input_gives_equal_scores(model, parks, draws, seed) -> None:
    rows = build_rows(parks, draws)
    shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    a = compute(model, park_frame(parks), signal_frame(rows, model), AS_OF, neighbours=pairs_for(parks, model))
    b = compute(model, park_frame(list(reversed(parks))), signal_frame(shuffled, model), AS_OF,
                neighbours=pairs_for(parks, model))
    assert np.array_equal(a.park_ids, b.park_ids)
    assert np.array_equal(a.cents, b.cents)
    assert park_records(a) == park_records(b)


@FAST
@given(parks=parks_st, draws=st.lists(signal_st, max_size=40), later=st.lists(signal_st, max_size=20))
def test_signals_after_as_of_change_nothing(model, parks, draws, later) -> None:
    rows = build_rows(parks, draws)
    future = build_rows(parks, [(p, t, abs(d) % 400 + 1, n) for p, t, d, n in later], start=len(rows) + 1)
    a = compute(model, park_frame(parks), signal_frame(rows, model), AS_OF, neighbours=pairs_for(parks, model))
    b = compute(model, park_frame(parks), signal_frame(rows + future, model), AS_OF, neighbours=pairs_for(parks, model))
    assert np.array_equal(a.cents, b.cents)


@FAST
@given(parks=parks_st, draws=st.lists(signal_st, max_size=50), pick=st.integers(0, 4))
def test_engine_on_a_subset_equals_the_full_run(model, parks, draws, pick) -> None:
    """What an incremental update does: a park, its neighbours, and stored first-pass points around them."""
    rows = build_rows(parks, draws)
    pairs = pairs_for(parks, model)
    full = compute(model, park_frame(parks), signal_frame(rows, model), AS_OF, neighbours=pairs)
    target = parks[pick % len(parks)]["id"]
    todo = {target} | set(pairs.of(np.array([target])).tolist())
    ring = set(pairs.of(np.array(sorted(todo))).tolist()) - todo
    known = {pid: int(full.base_cents[full.position(pid)]) for pid in ring}
    sub_parks = [p for p in parks if p["id"] in todo]
    sub = compute(model, park_frame(sub_parks), signal_frame(rows, model), AS_OF, neighbours=pairs,
                  known_base=known)
    for pid in todo:
        assert sub.score_of(pid) == full.score_of(pid)


@SLOW
@given(parks=parks_st, first=st.lists(signal_st, max_size=30), more=st.lists(signal_st, min_size=1, max_size=8))
def test_incremental_update_equals_a_full_run_through_the_store(model, migrated_template, parks, first, more) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, cfg = fresh_store(migrated_template, Path(tmp))
        try:
            ids = import_world_parks(store, cfg, parks)
            cells = {p["id"]: p["cell"] for p in parks}
            if first:
                import_world_signals(store, cfg, build_rows(parks, first), cells)
            score_run(store, cfg, as_of=AS_OF)
            added = import_world_signals(store, cfg, build_rows(parks, more, start=1000), cells, start=1000)
            out = rescore_parks(store, cfg, added.affected_parks)
            assert out["status"] == "updated"
            fresh, _, _ = engine_scores(store, cfg, model, AS_OF)
            for park_id in ids.values():
                stored = park_score(store, park_id)
                assert stored is not None
                assert stored["score"] == fresh.score_of(park_id), (park_id, out)
        finally:
            store.dispose()


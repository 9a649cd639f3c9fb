"""The dask engine gives exactly the in-process engine's scores, classes, factor points and evidence ids."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.scoring import score_run
from service.scoring.distributed import DaskEngine, finish_partitions, merge_results, spatial_partitions, split_signals
from service.scoring.engine import compute, finish, first_pass
from service.scoring.explain import park_records
from service.scoring.model_file import load_model
from service.scoring.runs import compute_scores, default_as_of
from tests.scoring.conftest import AS_OF, RISK_TEMPLATES, pairs_for, park_frame, park_geom, signal, signal_frame


def same(a, b) -> None:
    """Equal to the last hundredth and the last evidence id."""
    assert np.array_equal(a.park_ids, b.park_ids)
    assert np.array_equal(a.cents, b.cents) and np.array_equal(a.score_cents, b.score_cents)
    assert np.array_equal(a.base_cents, b.base_cents)
    assert np.array_equal(a.classes(), b.classes())
    assert park_records(a) == park_records(b)
    assert a.counts == b.counts


def _world(seed: int, n_parks: int = 40, n_signals: int = 400):
    rng = np.random.default_rng(seed)
    cells = rng.choice(np.arange(n_parks * 2), n_parks, replace=False)
    parks = [{"id": i + 1, "cell": int(c), "unit_count": int(rng.integers(3, 80)),
              "operator": None if rng.random() < 0.3 else "x", "takeover_year": int(rng.integers(2015, 2026)),
              "built": int(rng.integers(1960, 2020))} for i, c in enumerate(cells)]
    rows = []
    for k in range(1, n_signals + 1):
        pid = int(rng.integers(1, n_parks + 1))
        day = -int(rng.integers(0, 900))
        if rng.random() < 0.1:
            rows.append(signal(k, pid, 0, day, residents=int(rng.integers(0, 30))))
        else:
            rows.append(signal(k, pid, int(rng.integers(0, len(RISK_TEMPLATES))), day))
    return parks, rows


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), n_parts=st.integers(1, 7))
def test_two_phases_over_spatial_partitions_equal_one_engine(model, seed, n_parts) -> None:
    parks, rows = _world(seed)
    frame, signals, pairs = park_frame(parks), signal_frame(rows, model), pairs_for(parks, model)
    ids = np.array([p["id"] for p in parks], dtype=np.int64)
    groups = spatial_partitions(ids, np.array([park_geom(p["cell"]) for p in parks], dtype=object), n_parts)
    assert sorted(np.concatenate(groups).tolist()) == sorted(ids.tolist())
    parts = split_signals(frame, signals, groups)
    assert sum(len(s) for _, s in parts) == len(signals)
    firsts = [first_pass(model, p, s, AS_OF) for p, s in parts]
    expected = compute(model, frame, signals, AS_OF, neighbours=pairs)
    same(finish_partitions(model, AS_OF, groups, firsts, pairs), expected)


def test_finishing_leaves_the_first_pass_as_it_was(model) -> None:
    """A first pass can be finished twice (a retried task) with the same result."""
    parks, rows = _world(3)
    fp = first_pass(model, park_frame(parks), signal_frame(rows, model), AS_OF)
    cents = fp.cents.copy()
    pairs = pairs_for(parks, model)
    same(finish(fp, neighbours=pairs), finish(fp, neighbours=pairs))
    assert np.array_equal(fp.cents, cents)


def test_merging_one_partition_is_the_identity(model) -> None:
    parks, rows = _world(7)
    r = compute(model, park_frame(parks), signal_frame(rows, model), AS_OF, neighbours=pairs_for(parks, model))
    same(merge_results(model, AS_OF, [r]), r)


@pytest.fixture(scope="module")
def scheduler():
    """A small in-process dask cluster shared by this module's tests (starting one costs seconds)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def test_dask_engine_equals_the_in_process_engine_on_generated_data(model, scheduler) -> None:
    parks, rows = _world(11, n_parks=60, n_signals=1500)
    frame, signals, pairs = park_frame(parks), signal_frame(rows, model), pairs_for(parks, model)
    engine = DaskEngine(scheduler=scheduler, partitions=5)
    expected = compute(model, frame, signals, AS_OF, neighbours=pairs)
    same(engine(model, frame, signals, AS_OF, neighbours=pairs), expected)


def test_dask_engine_equals_the_in_process_engine_on_the_demo(demo, scheduler) -> None:
    store, settings_ = demo
    model = load_model(settings_.model_path)
    as_of = default_as_of(store)
    local = compute_scores(store, settings_, model, as_of)
    dask = compute_scores(store, settings_, model, as_of, engine=DaskEngine(scheduler=scheduler, store=store))
    same(dask.result, local.result)
    assert dask.records == local.records
    assert np.array_equal(dask.hotspot_label, local.hotspot_label)


@pytest.mark.slow
def test_a_dask_run_publishes_through_the_same_lock_and_run(demo_copy) -> None:
    """The default LocalCluster (worker processes): the run is published like any other, then equal to a local one."""
    store, settings_ = demo_copy
    first = score_run(store, settings_, engine=DaskEngine(store=store, workers=2))
    second = score_run(store, settings_)
    assert first["status"] == second["status"] == "published"
    assert second["previous_run_id"] == first["run_id"]
    from service.store import schema

    ps = schema.park_scores
    with store.connect() as conn:
        rows = {r.run_id: {} for r in conn.execute(ps.select().with_only_columns(ps.c.run_id).distinct())}
        for r in conn.execute(ps.select()):
            rows[r.run_id][r.park_id] = (r.score, r.risk_class, r.factors, r.hotspot)
    assert rows[first["run_id"]] == rows[second["run_id"]]

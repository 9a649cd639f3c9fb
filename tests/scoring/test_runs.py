"""Score runs in the store: atomic publication, failures, the lock, history, and incremental updates."""
from __future__ import annotations

import datetime as dt
import os
import signal as os_signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from service.config import PROJECT_ROOT
from service.scoring import incremental, locks, runs
from service.scoring.explain import check_decomposition
from service.scoring.history import (
    list_runs,
    park_history,
    park_score,
    published_run,
    score_updates,
)
from service.scoring.incremental import rescore_after_import, rescore_parks
from service.scoring.locks import RunLocked, lock_holder
from service.scoring.model import ModelError
from service.scoring.runs import STAGES, score_run
from service.store import schema
from tests.scoring.conftest import (
    AS_OF,
    MODEL_PATH,
    fresh_store,
    import_world_parks,
    import_world_signals,
    signal,
)

PARKS = [{"id": 1, "cell": 0, "operator": None, "unit_count": 30, "built": 1970},
         {"id": 2, "cell": 2, "operator": "X", "unit_count": 10, "built": 2005},
         {"id": 3, "cell": 20, "operator": None, "unit_count": 0, "built": None}]
CELLS = {p["id"]: p["cell"] for p in PARKS}


@pytest.fixture
def world(migrated_template, tmp_path):
    store, settings = fresh_store(migrated_template, tmp_path / "w")
    ids = import_world_parks(store, settings, PARKS)
    rows = [signal(k, 1 + k % 2, k % 17, -3 * k) for k in range(1, 60)]
    rows.append(signal(100, 1, 0, -30, residents=40))
    import_world_signals(store, settings, rows, CELLS)
    yield store, settings, ids
    store.dispose()


def runs_by_status(store) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in list_runs(store, 100):
        out.setdefault(r["status"], []).append(r["id"])
    return out


def stored_rows(store, run_id: int) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(schema.park_scores).where(schema.park_scores.c.run_id == run_id))]


def test_a_run_is_recorded_and_published(world, model) -> None:
    store, settings, ids = world
    out = score_run(store, settings, as_of=AS_OF)
    run = published_run(store)
    assert run is not None and run["id"] == out["run_id"] and run["status"] == "published"
    assert run["model_hash"] == model.sha256 and run["model_version"] == model.version
    assert run["as_of"] == AS_OF.isoformat()
    assert run["input_counts"]["parks"] == 3 and run["input_counts"]["signals"] > 0
    assert set(STAGES) | {"total"} <= set(run["timings"])
    rows = stored_rows(store, run["id"])
    assert len(rows) == 3
    for row in rows:
        check_decomposition(row)
        assert row["hotspot"] in ("hot", "cold", "none") and row["change"] is None
    detail = park_score(store, ids[1])
    assert detail is not None and detail["score"] == next(r["score"] for r in rows if r["park_id"] == ids[1])
    assert [f["id"] for f in detail["factors"]] == model.factor_ids
    assert sum(t["weight"] for t in detail["themes"].values()) == 100
    assert detail["freshness"]["inspection"] <= AS_OF.isoformat()
    assert round(sum(f["points"] for f in detail["factors"]), 2) == detail["score"]
    assert all(f["label_nl"] and f["citation"] for f in detail["factors"])


def test_a_new_run_supersedes_the_old_one(world) -> None:
    store, settings, ids = world
    first = score_run(store, settings, as_of=AS_OF)
    second = score_run(store, settings, as_of=AS_OF + dt.timedelta(days=200))
    assert runs_by_status(store) == {"published": [second["run_id"]], "superseded": [first["run_id"]]}
    assert second["previous_run_id"] == first["run_id"]
    history = park_history(store, ids[1])
    assert [h["run_id"] for h in history] == [first["run_id"], second["run_id"]]
    assert history[1]["change"] == round(history[1]["score"] - history[0]["score"], 2)
    assert history[1]["change"] < 0  # 200 days later, with no new signals, risk has decayed


def test_a_failing_run_leaves_the_previous_run_published(world, monkeypatch) -> None:
    store, settings, _ = world
    good = score_run(store, settings, as_of=AS_OF)
    real_write = runs._write_scores

    def half_then_fail(conn, run_id, scored, previous):
        scored.records = scored.records[:1]
        scored.hotspot_label, scored.hotspot_p = scored.hotspot_label[:1], scored.hotspot_p[:1]
        real_write(conn, run_id, scored, previous)  # some rows are written inside the transaction ...
        raise RuntimeError("disk full (simulated)")  # ... and then the run breaks off

    monkeypatch.setattr(runs, "_write_scores", half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        score_run(store, settings, as_of=AS_OF)
    status = runs_by_status(store)
    assert status["published"] == [good["run_id"]]
    failed = status["failed"][0]
    assert stored_rows(store, failed) == []  # the transaction rolled back: no half-published run
    run = next(r for r in list_runs(store) if r["id"] == failed)
    assert "disk full" in run["error"] and run["finished_at"]
    assert lock_holder(store) is None
    monkeypatch.setattr(runs, "_write_scores", real_write)
    again = score_run(store, settings, as_of=AS_OF)
    assert published_run(store)["id"] == again["run_id"]


def test_a_failure_in_the_engine_is_recorded(world, monkeypatch) -> None:
    store, settings, _ = world
    monkeypatch.setattr(runs, "compute", lambda *a, **k: (_ for _ in ()).throw(ValueError("bad data")))
    with pytest.raises(ValueError):
        score_run(store, settings, as_of=AS_OF)
    assert published_run(store) is None
    assert runs_by_status(store) == {"failed": [1]}
    assert list_runs(store)[0]["error"] == "ValueError: bad data"


def test_a_second_concurrent_run_is_refused(world, monkeypatch) -> None:
    store, settings, _ = world
    entered, release = threading.Event(), threading.Event()
    real = runs.compute_scores

    def slow(*args, **kwargs):
        entered.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(runs, "compute_scores", slow)
    results: dict = {}
    worker = threading.Thread(target=lambda: results.update(run=score_run(store, settings, as_of=AS_OF)))
    worker.start()
    try:
        assert entered.wait(30)
        holder = lock_holder(store)
        assert holder is not None and holder["pid"] == os.getpid()
        with pytest.raises(RunLocked, match="another score run is in progress"):
            score_run(store, settings, as_of=AS_OF)
    finally:
        release.set()
        worker.join(60)
    assert results["run"]["status"] == "published"
    assert runs_by_status(store) == {"published": [results["run"]["run_id"]]}
    assert lock_holder(store) is None


def test_a_killed_run_is_found_stale_and_recorded_as_failed(world) -> None:
    """A real second process takes the lock and dies without cleaning up (SIGKILL)."""
    store, settings, _ = world
    code = (
        "import sys, time\n"
        "from service.store import Store\n"
        "from service.scoring import locks\n"
        "store = Store(sys.argv[1])\n"
        "run = {'model_version': 'x', 'model_hash': 'x', 'as_of': __import__('datetime').date(2025, 6, 30)}\n"
        "lock = locks.acquire(store, run)\n"
        "print(lock.run_id, flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, settings.database_url], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        killed_run = int(proc.stdout.readline())
        with pytest.raises(RunLocked):  # alive: refused
            score_run(store, settings, as_of=AS_OF)
    finally:
        proc.send_signal(os_signal.SIGKILL)
        proc.wait(10)
    out = score_run(store, settings, as_of=AS_OF)  # dead: its lock is stale, its run failed
    status = runs_by_status(store)
    assert status["failed"] == [killed_run] and status["published"] == [out["run_id"]]
    assert "stale" in next(r for r in list_runs(store) if r["id"] == killed_run)["error"]


def test_a_lock_without_heartbeat_from_another_host_is_stale(world) -> None:
    store, settings, _ = world
    old = locks.now_utc() - dt.timedelta(hours=2)
    with store.begin() as conn:
        run_id = conn.execute(schema.score_runs.insert().values(
            model_version="x", model_hash="x", as_of=AS_OF, status="running", pid=1, host="elsewhere",
            started_at=old, heartbeat_at=old).returning(schema.score_runs.c.id)).scalar_one()
        conn.execute(schema.score_locks.insert().values(name="score", run_id=run_id, pid=1, host="elsewhere",
                                                         acquired_at=old, heartbeat_at=old))
    fresh = {"host": "elsewhere", "pid": 1, "heartbeat_at": locks.now_utc()}
    assert not locks.is_stale(fresh)
    score_run(store, settings, as_of=AS_OF)
    assert runs_by_status(store)["failed"] == [run_id]


def test_a_bad_model_records_nothing(world, tmp_path) -> None:
    store, settings, _ = world
    bad = tmp_path / "bad.toml"
    bad.write_text(MODEL_PATH.read_text().replace("weight = 9", "weight = 10", 1))
    with pytest.raises(ModelError, match="sum to 101"):
        score_run(store, settings, model_path=bad)
    far = tmp_path / "far.toml"
    far.write_text(MODEL_PATH.read_text().replace("within_m = 250", "within_m = 400"))
    with pytest.raises(ModelError, match="PARKWACHT_NEARBY_DISTANCE_M"):
        score_run(store, settings, model_path=far, as_of=AS_OF)
    assert published_run(store) is None and lock_holder(store) is None


def test_rescore_without_a_published_run_does_nothing(world) -> None:
    store, settings, ids = world
    out = rescore_parks(store, settings, [ids[1]])
    assert out["status"] == "no_published_run" and "parkwacht score" in out["message"]
    assert published_run(store) is None and park_score(store, ids[1]) is None and park_history(store, ids[1]) == []
    assert score_updates(store) == []
    assert rescore_parks(store, settings, [])["status"] == "nothing_to_do"


@pytest.mark.parametrize("scan", [False, True], ids=["park-by-park", "one-scan"])
def test_rescore_updates_the_published_run_in_place(world, model, monkeypatch, scan) -> None:
    store, settings, ids = world
    if scan:  # a large update reads all signals in one scan: the same result
        monkeypatch.setattr(incremental, "_SCAN_ABOVE", 0)
    run = score_run(store, settings, as_of=AS_OF)
    before = park_score(store, ids[3])
    new = [signal(500 + k, 3, t, -2) for k, t in enumerate([0, 1, 3, 7, 13, 15])]
    imported = import_world_signals(store, settings, new + [signal(600, 3, 5, 30)], CELLS, start=500)
    out = rescore_after_import(store, settings, imported)
    assert out["status"] == "updated" and out["run_id"] == run["run_id"]
    assert ids[3] in out["rescored"] and str(ids[3]) in out["changed"]
    assert out["signals_after_as_of"] == 1 and "next full run" in out["message"]
    after = park_score(store, ids[3])
    assert after["score"] > before["score"] and after["incremental"]
    assert after["run_id"] == run["run_id"] and published_run(store)["id"] == run["run_id"]
    check_decomposition({"score": after["score"], "factors": {f["id"]: f for f in after["factors"]}})
    audit = score_updates(store, run["run_id"])
    assert len(audit) == 1 and audit[0]["requested"] == [ids[3]] and "import batch" in audit[0]["reason"]
    assert park_history(store, ids[3])[-1]["incremental_updates"] == 1
    # A full run over the same data agrees with the incremental result.
    again = score_run(store, settings, as_of=AS_OF)
    assert park_score(store, ids[3], again["run_id"])["score"] == after["score"]


def test_updates_that_reach_the_old_run_during_a_full_run_are_reapplied(world, monkeypatch) -> None:
    store, settings, ids = world
    score_run(store, settings, as_of=AS_OF)
    real = runs.compute_scores

    def with_concurrent_update(*args, **kwargs):
        scored = real(*args, **kwargs)  # the full run has read its signals; now new data arrives
        res = import_world_signals(store, settings, [signal(700 + k, 3, 0, -1) for k in range(3)], CELLS, start=700)
        rescore_parks(store, settings, res.affected_parks)
        return scored

    monkeypatch.setattr(runs, "compute_scores", with_concurrent_update)
    out = score_run(store, settings, as_of=AS_OF)
    assert out["reapplied_incremental"] == [ids[3]]
    monkeypatch.setattr(runs, "compute_scores", real)
    fresh = score_run(store, settings, as_of=AS_OF)
    assert park_score(store, ids[3], out["run_id"])["score"] == park_score(store, ids[3], fresh["run_id"])["score"]

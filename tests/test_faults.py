"""Faults, each a test: processes killed mid-way and runs racing each other leave the store consistent.

Every test runs the real ``parkwacht`` command in child processes on the suite's store (SQLite, or PostGIS with
``PARKWACHT_TEST_STORE=postgis``). A child may slow its engine down (a wrapper that sleeps before the engine), so
that a kill or a second run reliably lands while the first run is inside it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from service.config import PROJECT_ROOT, Settings
from service.scoring import published_run, score_run
from service.store import Store, schema

pytestmark = pytest.mark.slow

#: A child ``parkwacht`` whose engine first sleeps ``argv[1]`` seconds (the rest of argv is the command).
CHILD = """
import sys, time
from service.scoring import runs
real, delay = runs.compute, float(sys.argv[1])
def slow(*args, **kwargs):
    time.sleep(delay)
    return real(*args, **kwargs)
runs.compute = slow
sys.argv = ["parkwacht"] + sys.argv[2:]
from service.cli import main
main()
"""


def _child(settings: Settings, delay: float, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PARKWACHT_DATABASE_URL": settings.database_url,
           "PARKWACHT_INSTANCE_DIR": settings.instance_dir, "PARKWACHT_BASEMAP": "none"}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(delay), *args], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, timeout_s: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError("condition not reached")


def _runs(store: Store) -> dict[int, str]:
    r = schema.score_runs
    with store.connect() as conn:
        return {int(i): s for i, s in conn.execute(sa.select(r.c.id, r.c.status))}


def test_two_runs_started_at_once_one_runs_one_is_refused(demo_store) -> None:
    store, settings = demo_store
    first, second = _child(settings, 4, "score"), _child(settings, 4, "score")
    outcomes = sorted([(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in (first, second)])
    assert [code for code, _ in outcomes] == [0, 1], outcomes
    assert "in progress" in outcomes[1][1] or "running" in outcomes[1][1], outcomes[1][1]
    assert sorted(_runs(store).values()) == ["published"]  # the refused one never became a run


def test_sigkill_during_a_score_run_keeps_the_previous_run_published(demo_store) -> None:
    store, settings = demo_store
    before = score_run(store, settings)["run_id"]
    victim = _child(settings, 60, "score")
    _wait_for(lambda: "running" in _runs(store).values())
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert published_run(store)["id"] == before  # type: ignore[index]
    after = score_run(store, settings)  # the dead holder is recognised (same host, pid gone) and taken over
    assert after["status"] == "published" and after["previous_run_id"] == before
    statuses = _runs(store)
    assert statuses[before] == "superseded" and statuses[after["run_id"]] == "published"
    assert list(statuses.values()).count("failed") == 1  # the killed run, recorded as failed


def test_sigkill_during_an_import_leaves_no_part_of_that_batch(demo_store, tmp_path: Path) -> None:
    store, settings = demo_store
    rows = 150_000
    csv = tmp_path / "signals.csv"
    with csv.open("w") as f:  # points around the demo region (assignment, nearest park, ... all run)
        f.write("source_id,type,date,lon,lat\n")
        for i in range(rows):
            f.write(f"k{i},complaint,2025-0{1 + i % 9}-1{i % 10},{5.7 + (i % 997) * 1e-4:.5f},"
                    f"{52.1 + (i % 991) * 1e-4:.5f}\n")
    s = schema.signals
    with store.connect() as conn:
        count_before = conn.execute(sa.select(sa.func.count()).select_from(s)).scalar_one()
    b = schema.import_batches
    with store.connect() as conn:
        batches_before = conn.execute(sa.select(sa.func.count()).select_from(b)).scalar_one()
    victim = _child(settings, 0, "import", "signals", str(csv), "--source", "fault-test")

    def started() -> bool:
        with store.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(b)).scalar_one() > batches_before

    _wait_for(started)
    time.sleep(1.0)  # well inside the import's one transaction
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s)).scalar_one() == count_before
        assert conn.execute(sa.select(sa.func.count()).select_from(s)
                            .where(s.c.source == "fault-test")).scalar_one() == 0
    again = _child(settings, 0, "import", "signals", str(csv), "--source", "fault-test")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    with store.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(s).where(s.c.source == "fault-test")).scalar_one()
    assert stored == rows

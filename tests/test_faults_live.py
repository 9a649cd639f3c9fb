"""Faults under live traffic: PostgreSQL stopped under a serving ``parkwacht serve``, and signals posted while
a full run computes or publishes.

The outage test brings its own throwaway cluster (``.ci/postgres``) so stopping it harms nobody else. The race
tests run on the suite's store (SQLite, or PostGIS with ``PARKWACHT_TEST_STORE=postgis``): a slowed child
``parkwacht score`` with a post through the API while it sits in its engine, and a post while a run publishes.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from service.config import PROJECT_ROOT, Settings, load_settings
from service.scoring import published_run, score_run
from service.store import Store, schema
from tests import stores
from tests.conftest import TEST_TODAY, signed_in_app
from tests.signin import add_user, bearer
from tests.test_faults import _child, _runs, _wait_for
from tests.test_serve import _get, _serve, _stop

pytestmark = pytest.mark.slow

POSTGRES = PROJECT_ROOT / ".ci" / "postgres"
#: Ports beside the suite's own cluster (54329) and below the range the OS hands out to the test servers.
CLUSTER_PORTS = range(54331, 54340)
WORKERS = 2


# -- PostgreSQL stopped while serving ---------------------------------------------------------------------------


def _cluster_port() -> int | None:
    """A port of ``CLUSTER_PORTS`` that nothing listens on (None when all are taken)."""
    for port in CLUSTER_PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return None


def _postgres(action: str, cluster: Path, port: int | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(POSTGRES), action, str(cluster)] + ([str(port)] if port is not None else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.fixture
def own_cluster() -> Iterator[tuple[Path, int, str]]:
    """A throwaway cluster of this test alone: (its folder, port, superuser URL); stopped and removed after."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        pytest.skip(".ci/postgres runs the cluster as the system user postgres: run as root or as postgres")
    port = _cluster_port()
    if port is None:
        pytest.skip(f"no free port in {CLUSTER_PORTS.start}-{CLUSTER_PORTS.stop - 1} for a throwaway cluster")
    # The server runs as `postgres`, which must be able to enter the folder (a pytest tmp_path is private).
    folder = Path(tempfile.mkdtemp(prefix="parkwacht-live-pg.", dir="/tmp"))
    folder.chmod(0o755)
    cluster = folder / "cluster"
    try:
        started = _postgres("start", cluster, port)
        if started.returncode != 0:
            log = cluster / "server.log"
            detail = log.read_text()[-500:] if log.exists() else ""
            pytest.skip(f"the throwaway cluster did not start: {started.stderr.strip()[-500:]} {detail}".strip())
        yield cluster, port, started.stdout.strip()
    finally:
        _postgres("stop", cluster)
        shutil.rmtree(folder, ignore_errors=True)


def _cli(settings: Settings, *args: str) -> None:
    """Run ``parkwacht ARGS`` on ``settings``' store, as ``make run`` does (the test fails when it does)."""
    proc = _child(settings, 0, *args)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"parkwacht {' '.join(args)}: {err}"


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        return _get(url, headers)[0]
    except OSError:  # a connection the server dropped counts as not answering
        return 0


def _serving(checks: list[tuple[str, dict[str, str]]]) -> bool:
    """Every check answers 200 several times in a row, so each worker has had its turn."""
    return all(_status(url, headers) == 200 for url, headers in checks for _ in range(2 * WORKERS))


# Only the PostGIS pass runs it: the cluster is its own, so the SQLite pass would repeat the very same outage, and
# the PostGIS pass is the one whose machine is known to have PostgreSQL installed.
@pytest.mark.skipif(not stores.POSTGIS, reason="runs in the PostGIS pass (PARKWACHT_TEST_STORE=postgis) only")
def test_postgresql_stopped_while_serving_is_a_503_and_service_resumes(own_cluster, tmp_path: Path) -> None:
    cluster, port, admin_url = own_cluster
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text('create database "parkwacht"'))
    admin.dispose()
    settings = load_settings({}, database_url=admin_url.rsplit("/", 1)[0] + "/parkwacht",
                             instance_dir=str(tmp_path / "instance"), basemap="none")
    _cli(settings, "db", "upgrade")
    _cli(settings, "demo")
    _cli(settings, "score")
    store = Store(settings.database_url)
    analyst, officer = bearer(add_user(store, "analyst")[1]), bearer(add_user(store, "officer")[1])
    store.dispose()

    log = tmp_path / "serve.log"
    proc, base = _serve(settings, log, "--workers", str(WORKERS))
    api, page, ready = base + "/api/v1/parks/1", base + "/worklist", base + "/readyz"
    checks = [(api, analyst), (page, officer), (base + "/parks/1", officer), (ready, {})]
    try:
        assert _serving(checks)

        assert _postgres("stop", cluster).returncode == 0
        for _ in range(2 * WORKERS):
            status, headers, body = _get(api, analyst)
            assert status == 503 and headers["Content-Type"].startswith("application/problem+json"), body
            assert headers["Retry-After"].isdigit()
            status, headers, body = _get(page, officer)
            text = body.decode()
            assert status == 503 and headers["Content-Type"].startswith("text/html")
            assert "niet beschikbaar" in text.lower() and "Traceback" not in text and "psycopg" not in text
            status, _headers, body = _get(ready)
            assert status == 503 and b"cannot be reached" in body
            assert _get(base + "/healthz")[0] == 200  # alive, just not ready

        assert _postgres("resume", cluster, port).returncode == 0
        _wait_for(lambda: _serving(checks), timeout_s=30)
        assert proc.poll() is None  # the same server, not a restarted one ...
    finally:
        _stop(proc)
    assert log.read_text().count("Booting worker") == WORKERS  # ... and the same workers


# -- a signal posted while a full run computes ------------------------------------------------------------------


def _published_rows(store: Store) -> dict[int, Any]:
    """park id -> (score, class, factors) of the published run."""
    ps, r = schema.park_scores, schema.score_runs
    q = (sa.select(ps.c.park_id, ps.c.score, ps.c.risk_class, ps.c.factors)
         .join(r, r.c.id == ps.c.run_id).where(r.c.status == "published"))
    with store.connect() as conn:
        return {int(p): (float(s), c, f) for p, s, c, f in conn.execute(q)}


def _listed(factors: dict[str, Any], signal_id: int) -> dict[str, int]:
    """Factor id -> how often its signal list holds ``signal_id`` (factors that do not list it left out)."""
    counts = {fid: (entry.get("signals") or []).count(signal_id) for fid, entry in factors.items()}
    return {fid: n for fid, n in counts.items() if n}


def _stderr_lines(proc: subprocess.Popen) -> list[str]:
    """The child's stderr lines as they come (read in a thread, so waiting on them never blocks the test)."""
    lines: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        lines.extend(iter(proc.stderr.readline, ""))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _post_signals(client: FlaskClient, park: int) -> dict[str, Any]:
    """POST an inspection with violations and a complaint for ``park`` (both count in the model)."""
    day = TEST_TODAY.isoformat()
    payload = [{"source_id": "race-1", "type": "inspection", "date": day, "park_id": park, "violation": True,
                "categories": ["permanent_residence", "fire_safety"]},
               {"source_id": "race-2", "type": "complaint", "date": day, "park_id": park}]
    resp = client.post("/api/v1/signals?source=race", json=payload)
    assert resp.status_code == 201, resp.get_json()
    body: dict[str, Any] = resp.get_json()
    assert len(body["ids"]) == len(payload)
    return body


def _assert_counted_once(store: Store, settings: Settings, park: int, posted: list[int],
                         raced: dict[str, Any]) -> None:
    """The posted signals are stored once, and the published scores equal those of a fresh full run."""
    s = schema.signals
    with store.connect() as conn:
        stored = conn.execute(sa.select(s.c.source_id, sa.func.count()).where(s.c.source == "race")
                              .group_by(s.c.source_id)).all()
    assert sorted(stored) == [("race-1", 1), ("race-2", 1)]

    after_race = _published_rows(store)
    fresh = score_run(store, settings)  # everything in the store, read by one full run
    assert fresh["as_of"] == raced["as_of"] == TEST_TODAY.isoformat()
    expected = _published_rows(store)
    assert {p: v[:2] for p, v in after_race.items()} == {p: v[:2] for p, v in expected.items()}
    raced_factors, fresh_factors = after_race[park][2], expected[park][2]
    assert {f: e["points"] for f, e in raced_factors.items()} == {f: e["points"] for f, e in fresh_factors.items()}
    for signal_id in posted:
        listed = _listed(fresh_factors, signal_id)
        assert listed and set(listed.values()) == {1}  # the signal counts for a factor of the model, once
        assert _listed(raced_factors, signal_id) == listed
    for fid, entry in fresh_factors.items():
        assert raced_factors[fid].get("n_signals") == entry.get("n_signals"), fid
    # The raced run read its signals before the post; the fresh run reads both posted signals once more.
    assert fresh["input_counts"]["signals"] == raced["input_counts"]["signals"] + len(posted)


@pytest.mark.parametrize("published_before", [True, False], ids=["run-published", "first-run"])
def test_a_signal_posted_during_a_full_run_counts_exactly_once(demo_store, monkeypatch, published_before) -> None:
    store, settings = demo_store
    before = score_run(store, settings)["run_id"] if published_before else None
    park = 1
    score_before = _published_rows(store)[park][0] if published_before else None
    monkeypatch.setenv("PARKWACHT_TODAY", TEST_TODAY.isoformat())  # the child's run is as of the tests' day
    client = signed_in_app(settings, store, "admin").test_client()
    child = _child(settings, 4, "score")
    stderr = _stderr_lines(child)
    try:
        _wait_for(lambda: "running" in _runs(store).values())
        # The stage after the signals are read: the engine (slowed) runs next, so the post lands after the read.
        _wait_for(lambda: any("score: neighbours:" in line for line in stderr))
        body = _post_signals(client, park)
        assert child.poll() is None, "the post must land while the run computes"
        rescoring = body["rescoring"]
        if published_before:  # the old run is updated at once ...
            assert rescoring["status"] == "updated" and rescoring["run_id"] == before
        else:  # ... or, with none published yet, the computing run keeps the request
            computing = next(i for i, status in _runs(store).items() if status == "running")
            assert rescoring["status"] == "no_published_run" and rescoring["pending_run_id"] == computing
        assert child.wait(timeout=120) == 0, "".join(stderr)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
    raced = published_run(store)
    assert raced is not None and raced["id"] != before and "running" not in _runs(store).values()
    u = schema.score_updates
    with store.connect() as conn:
        reapplied = conn.execute(sa.select(u.c.requested).where(
            u.c.run_id == raced["id"], u.c.reason == "re-applied after a full run")).scalars().all()
    assert [park in requested for requested in reapplied] == [True]  # re-applied once, after publishing
    _assert_counted_once(store, settings, park, [int(i) for i in body["ids"]], raced)
    if score_before is not None:
        assert _published_rows(store)[park][0] > score_before  # the posted signals moved the score


def test_a_signal_posted_while_a_run_publishes_counts_exactly_once(demo_store, monkeypatch) -> None:
    """The post's re-scoring waits for the publishing transaction, then re-scores the run it published.

    On PostgreSQL its first look skips the old run's row (superseded while it waited) and does not see the new
    run (not yet published when the statement began): a second look must find it, or the signal is lost.
    """
    from service.scoring import runs

    store, settings = demo_store
    before = score_run(store, settings)["run_id"]
    park = 1
    client = signed_in_app(settings, store, "admin").test_client()
    outcome: dict[str, Any] = {}
    poster = threading.Thread(target=lambda: outcome.update(_post_signals(client, park)))
    write_scores = runs._write_scores

    def write_then_post(conn: sa.Connection, run_id: int, scored: Any, previous: dict[int, float]) -> None:
        write_scores(conn, run_id, scored, previous)  # both run rows are locked by now
        poster.start()
        poster.join(timeout=1.5)  # the post waits for this transaction (a lock), so it is still running
        assert poster.is_alive(), outcome

    monkeypatch.setattr(runs, "_write_scores", write_then_post)
    raced_id = score_run(store, settings)["run_id"]
    monkeypatch.setattr(runs, "_write_scores", write_scores)
    poster.join(timeout=60)
    rescoring = outcome["rescoring"]
    assert rescoring["status"] == "updated" and rescoring["run_id"] == raced_id != before, rescoring
    raced = published_run(store)
    assert raced is not None and raced["id"] == raced_id
    _assert_counted_once(store, settings, park, [int(i) for i in outcome["ids"]], raced)

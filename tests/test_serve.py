"""``parkwacht serve`` runs gunicorn workers that share state only through the store, and logs JSON lines."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT, Settings
from service.store import Store

#: Real clients against a real server on loopback: part of `make test`, not of the fast inner loop.
pytestmark = pytest.mark.slow

PARKWACHT = [sys.executable, "-c", "from service.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _wait_ready(base: str, proc: subprocess.Popen, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}")
        try:
            if _get(base + "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError("serve did not answer")


def _serve(settings: Settings, log: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "PARKWACHT_DATABASE_URL": settings.database_url,
           "PARKWACHT_INSTANCE_DIR": settings.instance_dir, "PARKWACHT_BASEMAP": "none"}
    proc = subprocess.Popen([*PARKWACHT, "serve", "--bind", f"127.0.0.1:{port}", *args], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc)
    except Exception:
        proc.kill()
        raise
    return proc, base


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_serve_runs_gunicorn_workers_and_logs_json(settings: Settings, store: Store, admin_headers, tmp_path: Path):
    log = tmp_path / "serve.log"
    proc, base = _serve(settings, log, "--workers", "2", "--log-format", "json")
    try:
        status, headers, body = _get(base + "/readyz", {"X-Request-ID": "probe-1"})
        assert status == 200 and json.loads(body) == {"status": "ok"}
        assert headers["Server"] == "gunicorn" and headers["X-Request-ID"] == "probe-1"
        assert _get(base + "/api/v1/score-runs")[0] == 401
        assert _get(base + "/api/v1/score-runs", admin_headers)[0] == 200
    finally:
        _stop(proc)
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [e for e in lines if e.get("logger") == "parkwacht.access"]
    assert {"ts", "level", "request_id", "route", "status", "duration_ms"} <= set(requests[0])
    probe = next(e for e in requests if e["request_id"] == "probe-1")
    assert probe["route"] == "/readyz" and probe["status"] == 200 and probe["duration_ms"] >= 0
    assert {e["status"] for e in requests if e["route"] == "/api/v1/score-runs"} == {200, 401}
    workers = {e["message"] for e in lines if str(e.get("message", "")).startswith("Booting worker")}
    assert len(workers) == 2
    assert "development server" not in log.read_text()


@pytest.mark.slow
def test_a_run_published_elsewhere_is_served_by_every_worker(demo_settings_scored, tmp_path: Path):
    """The batch publishes in another process; every worker serves the new run at its next request."""
    settings, headers = demo_settings_scored
    proc, base = _serve(settings, tmp_path / "serve.log", "--workers", "2")
    try:
        before = {json.loads(_get(base + "/api/v1/score-runs?limit=1", headers)[2])["runs"][0]["id"]
                  for _ in range(6)}
        subprocess.run([*PARKWACHT, "score"], cwd=PROJECT_ROOT, check=True, capture_output=True,
                       env={**os.environ, "PARKWACHT_DATABASE_URL": settings.database_url,
                            "PARKWACHT_INSTANCE_DIR": settings.instance_dir})
        after = [json.loads(_get(base + "/api/v1/score-runs?limit=1", headers)[2])["runs"][0]["id"]
                 for _ in range(8)]
        parks = {_get(base + "/api/v1/parks?limit=1&geometry=false", headers)[1].get("ETag") for _ in range(8)}
    finally:
        _stop(proc)
    assert len(before) == 1 and len(set(after)) == 1 and after[0] > before.pop()
    assert len(parks) == 1  # both workers answer with the same published run


def test_serve_refuses_a_malformed_bind() -> None:
    from click.testing import CliRunner

    from service.cli.serve import serve_cmd

    result = CliRunner().invoke(serve_cmd, ["--bind", "nonsense"])
    assert result.exit_code != 0 and "HOST:PORT" in result.output


@pytest.fixture
def demo_settings_scored(demo_db: Path, tmp_path: Path):
    """A private, scored copy of the demo store and an admin's bearer header."""
    from service.scoring import score_run
    from tests.conftest import copy_store
    from tests.signin import add_user, bearer

    settings = copy_store(demo_db, tmp_path / "store")
    s = Store(settings.database_url)
    s.upgrade()
    score_run(s, settings)
    headers = bearer(add_user(s, "admin")[1])
    s.dispose()
    return settings, headers

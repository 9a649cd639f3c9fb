"""Load benchmark: concurrent clients on loopback against ``parkwacht serve``, with and without a batch run.

One command (PostgreSQL+PostGIS is the store this is meant for; any URL works)::

    PARKWACHT_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/load.py [--clients 50] [--seconds 60]

It migrates the store, loads the demo region when empty and scores it, makes an admin token, starts
``parkwacht serve`` on a free loopback port and runs two phases of ``--seconds`` each with ``--clients``
threads on keep-alive connections and a mixed workload: the map page, park pages, the worklist, API bbox
queries, OGC items paging and signal POSTs. The second phase starts ``parkwacht score`` a few seconds in.
Printed: requests/s, errors and p50/p99 per kind per phase, whether the batch finished, and the ratio of the
p99s (target: 0 errors, and p99 with the batch within 3x of p99 without). Only loopback is ever contacted,
and every loop is bounded in time.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.config import load_settings  # noqa: E402
from service.store import Store  # noqa: E402

PARKWACHT = [sys.executable, "-c", "from service.cli import main; main()"]
KINDS = ("map", "park", "worklist", "api_bbox", "ogc_items", "signal_post")
WEIGHTS = (0.05, 0.30, 0.10, 0.25, 0.20, 0.10)


def prepare(env: dict[str, str]) -> tuple[str, list[int]]:
    """Migrate, load the demo when empty, score; return an admin token and the park ids."""
    from service.auth import tokens, users
    from service.demo import load_demo
    from service.scoring import published_run, score_run

    settings = load_settings()  # PARKWACHT_* of this process: the same store the server uses
    store = Store(settings.database_url)
    store.upgrade()
    if not store.park_geometries().ids.size:
        load_demo(store, settings)
    if published_run(store) is None:
        score_run(store, settings)
    name = f"bench-{secrets.token_hex(4)}"
    users.add_user(store, name, "admin")
    token = tokens.issue_token(store, name)
    ids = [int(i) for i in store.park_geometries().ids]
    store.dispose()
    return token, ids


def _request(conn: http.client.HTTPConnection, kind: str, ids: list[int], headers: dict[str, str],
             serial: int) -> int:
    rnd = random.Random(serial)
    body = None
    method = "GET"
    if kind == "map":
        path = "/"
    elif kind == "park":
        path = f"/parks/{rnd.choice(ids)}"
    elif kind == "worklist":
        path = "/worklist"
    elif kind == "api_bbox":  # ~10 km boxes inside the demo region
        lon, lat = 5.6 + rnd.random() * 0.3, 52.05 + rnd.random() * 0.25
        path = f"/api/v1/parks?bbox={lon:.4f},{lat:.4f},{lon + 0.15:.4f},{lat + 0.09:.4f}&limit=100&geometry=false"
    elif kind == "ogc_items":
        path = f"/ogc/collections/parks/items?limit=50&offset={50 * rnd.randrange(5)}"
    else:
        method, path = "POST", "/api/v1/signals?source=load-test"
        body = json.dumps([{"source_id": f"load-{serial}-{secrets.token_hex(3)}", "type": "complaint",
                            "date": "2025-06-01", "park_id": rnd.choice(ids)}])
    conn.request(method, path, body=body, headers={**headers, **({"Content-Type": "application/json"} if body
                                                                  else {})})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def phase(port: int, token: str, ids: list[int], clients: int, seconds: float,
          batch_after: float | None, env: dict[str, str]) -> dict[str, object]:
    """``clients`` threads for ``seconds``; optionally a full score run started ``batch_after`` seconds in."""
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10**9))

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop_at:
            kind = rnd.choices(KINDS, WEIGHTS)[0]
            t0 = time.perf_counter()
            try:
                status = _request(conn, kind, ids, headers, next(counter))
                ok = status < 400
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                timings[kind].append(time.perf_counter() - t0)
                if not ok:
                    errors[kind] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    batch = None
    if batch_after is not None:
        time.sleep(batch_after)
        batch = subprocess.Popen([*PARKWACHT, "score"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    batch_ok = None
    if batch is not None:
        out, _ = batch.communicate(timeout=600)
        batch_ok = batch.returncode == 0 and "published" in out
    every = [x for v in timings.values() for x in v]
    return {"wall": wall, "requests": len(every), "rps": len(every) / wall, "errors": dict(errors),
            "p50": float(np.percentile(every, 50) * 1000), "p99": float(np.percentile(every, 99) * 1000),
            "kinds": {k: (len(v), float(np.percentile(v, 50) * 1000), float(np.percentile(v, 99) * 1000))
                      for k, v in sorted(timings.items())}, "batch_published": batch_ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--batch-after", type=float, default=5.0)
    args = ap.parse_args()
    env = {**os.environ, "PARKWACHT_RATE_LIMIT_TOKEN": "1000000 per minute", "PARKWACHT_BASEMAP": "none"}
    os.environ.update(env)
    token, ids = prepare(env)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*PARKWACHT, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        store = os.environ.get("PARKWACHT_DATABASE_URL", "sqlite (default)").split(":", 1)[0]
        print(f"store {store}; {args.workers} workers; {args.clients} clients; {args.seconds:.0f} s per phase")
        results = {"without batch": phase(port, token, ids, args.clients, args.seconds, None, env),
                   "with batch": phase(port, token, ids, args.clients, args.seconds, args.batch_after, env)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    for name, r in results.items():
        print(f"\n{name}: {r['requests']} requests in {r['wall']:.1f} s = {r['rps']:.1f} req/s; "
              f"errors {sum(r['errors'].values()) if r['errors'] else 0} {r['errors'] or ''}; "  # type: ignore[union-attr]
              f"p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms"
              + ("" if r["batch_published"] is None else f"; batch published: {r['batch_published']}"))
        for kind, (n, p50, p99) in r["kinds"].items():  # type: ignore[union-attr]
            print(f"  {kind:<12} {n:>7} requests  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    ratio = results["with batch"]["p99"] / results["without batch"]["p99"]  # type: ignore[operator]
    print(f"\np99 with batch / without = {ratio:.2f} (target <= 3)")


if __name__ == "__main__":
    main()

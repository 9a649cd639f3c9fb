"""Benchmark of OGC API – Features: Parkwacht against pygeoapi on the same 3,770 real parks, in one run.

One command (``.venv/bin/python bench/api.py``) with the real sample data (``PARKWACHT_SAMPLE_DATA``):

* imports the parks (preset ``top10nl``) into a fresh store and scores them; writes the same parks with the same
  properties to a GeoPackage for pygeoapi (its OGR provider);
* starts both behind gunicorn with the same number of sync workers on 127.0.0.1;
* runs 200 fixed bbox queries of about 10 km and 200 of about 40 km at ``limit=100`` against
  ``/collections/parks/items`` from 8 concurrent clients (a new connection per request, as gunicorn's sync
  workers close them anyway), after one unmeasured warm-up pass, ``--rounds`` times; prints requests/s and
  p50/p99 per case and whether the targets hold (throughput >= 3x, p99 <= 1/3 of pygeoapi's);
* the national GeoJSON export on a fresh one-worker Parkwacht: time to first and last byte, cold (the first
  request builds the park catalogue) and warm, and the worker's peak RSS while it answers (target <= 300 MiB).

pygeoapi runs from a venv of its own (``--pygeoapi-python``, default ``bench/out/venv-pygeoapi/bin/python``) that
sees Debian's ``python3-gdal``; without one the Parkwacht figures are still measured and printed.
"""
from __future__ import annotations

import argparse
import http.client
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import shapely  # noqa: E402

from service import exports, geo, scoring  # noqa: E402
from service.config import load_settings  # noqa: E402
from service.ingest import import_parks  # noqa: E402
from service.reads.catalogue import ParkFilter, catalogue  # noqa: E402
from service.store import Store  # noqa: E402

PARKS_FILE = "parks_ftm_vakantieparken_final.zip"
OUT = ROOT / "bench" / "out" / "api"
PYGEOAPI_PYTHON = ROOT / "bench" / "out" / "venv-pygeoapi" / "bin" / "python"
CLIENTS = 8
QUERIES = 200
SIZES_KM = (10, 40)
_FEATURE = re.compile(rb'"type"\s*:\s*"Feature"')
PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: OpenStreetMap}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: parks, description: bench, keywords: [parks], keywords_type: theme,
                   terms_of_service: "https://example.org", url: "https://example.org"}}
  license: {{name: CC-BY 4.0, url: "https://creativecommons.org/licenses/by/4.0/"}}
  provider: {{name: bench, url: "https://example.org"}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x, postalcode: x, country: NL,
            phone: x, fax: x, email: bench@example.org, url: "https://example.org", hours: x, instructions: x,
            role: pointOfContact}}
resources:
  parks:
    type: collection
    title: parks
    description: the 3,770 real parks with their scores
    keywords: [parks]
    links: []
    extents:
      spatial: {{bbox: [3.2, 50.7, 7.3, 53.6], crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    providers:
      - type: feature
        name: OGR
        data: {{source_type: GPKG, source: "{gpkg}", source_capabilities: {{paging: true}}}}
        id_field: id
        layer: parks
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- data -----------------------------------------------------------------------------------------------------
def prepare(sample: Path) -> tuple[dict[str, str], str, Path, Any]:
    """A fresh scored store of the real parks, an analyst's token, the same parks as a GeoPackage."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    env = {"PARKWACHT_DATABASE_URL": f"sqlite:///{OUT / 'parkwacht.db'}", "PARKWACHT_INSTANCE_DIR": str(OUT / "inst"),
           "PARKWACHT_BASEMAP": "none", "PARKWACHT_RATE_LIMIT_TOKEN": "1000000 per minute"}
    settings = load_settings({}, database_url=env["PARKWACHT_DATABASE_URL"], instance_dir=str(OUT / "inst"),
                             basemap="none")
    store = Store(settings.database_url)
    store.upgrade()
    t0 = time.perf_counter()
    result = import_parks(store, sample / PARKS_FILE, settings=settings, preset="top10nl")
    scoring.score_run(store, settings)
    print(f"data: {result.stored} parks imported and scored in {time.perf_counter() - t0:.1f} s")
    token = ""
    try:
        from service.auth.tokens import issue_token
        from service.auth.users import add_user

        add_user(store, "bench", "analyst")
        token = issue_token(store, "bench")
    except ImportError:  # a Parkwacht without logins
        pass
    cat = catalogue(store)
    gpkg = OUT / "parks.gpkg"
    with gpkg.open("wb") as fh:
        for chunk in exports.file_chunks(cat, cat.select(ParkFilter()), exports.FORMATS["gpkg"]):
            fh.write(chunk)
    store.dispose()
    return env, token, gpkg, cat


def boxes(cat: Any, size_km: float, n: int = QUERIES, seed: int = 20240601) -> list[str]:
    """``n`` fixed CRS84 bboxes of about ``size_km`` on a side, centred on parks chosen with a fixed seed."""
    rng = np.random.default_rng(seed + int(size_km))
    centres = shapely.point_on_surface(cat.geom_rd[rng.choice(len(cat), n, replace=False)])
    half = size_km * 500.0
    out = []
    for c in centres:
        xs = np.array([c.x - half, c.x + half, c.x + half, c.x - half])
        ys = np.array([c.y - half, c.y - half, c.y + half, c.y + half])
        lon, lat = geo.to_lonlat(xs, ys, geo.RD)
        out.append(f"{min(lon):.6f},{min(lat):.6f},{max(lon):.6f},{max(lat):.6f}")
    return out


# -- servers --------------------------------------------------------------------------------------------------
def gunicorn(python: Path | str, app: str, port: int, workers: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    cmd = [str(python), "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync", "--bind",
           f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120", app]
    return subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=open(OUT / f"gunicorn-{port}.log", "wb"))


def start_pygeoapi(python: Path, gpkg: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    config, openapi = OUT / "pygeoapi.yml", OUT / "pygeoapi-openapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, gpkg=gpkg), encoding="utf-8")
    subprocess.run([str(python.parent / "pygeoapi"), "openapi", "generate", str(config), "--output-file",
                    str(openapi)], check=True, capture_output=True)
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    return gunicorn(python, "pygeoapi.flask_app:APP", port, workers, env, OUT), f"http://127.0.0.1:{port}"


def wait_ready(url: str, headers: dict[str, str], proc: subprocess.Popen, seconds: float = 60) -> None:
    headers = {**headers, "Accept": "application/json"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}; see {OUT}/gunicorn-*.log")
        try:
            status, _, _ = fetch(url, headers)
            if status == 200:
                return
            raise RuntimeError(f"{url} answered {status}")
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- clients --------------------------------------------------------------------------------------------------
def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes, float]:
    """GET over a new connection; (status, body, seconds to first byte)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    t0 = time.perf_counter()
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""), headers=headers)
        resp = conn.getresponse()
        first = resp.read(1)
        ttfb = time.perf_counter() - t0
        return resp.status, first + resp.read(), ttfb
    finally:
        conn.close()


def run_case(urls: list[str], headers: dict[str, str], clients: int = CLIENTS) -> dict[str, Any]:
    """Every URL once, from ``clients`` threads; latency is time to last byte."""
    todo: queue.Queue[tuple[int, str]] = queue.Queue()
    for i, u in enumerate(urls):
        todo.put((i, u))
    latencies = [0.0] * len(urls)
    returned = [-1] * len(urls)
    errors: list[str] = []

    def client() -> None:
        while True:
            try:
                i, u = todo.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                status, body, _ = fetch(u, headers)
            except OSError as exc:
                errors.append(f"{u}: {exc}")
                continue
            latencies[i] = time.perf_counter() - t0
            if status != 200:
                errors.append(f"{u}: HTTP {status}")
            returned[i] = len(_FEATURE.findall(body))  # pygeoapi's OGR provider sends no numberMatched

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = np.array(latencies) * 1000
    return {"rps": len(urls) / wall, "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "errors": errors, "returned": returned}


def measure(name: str, base: str, path: str, extra: str, headers: dict[str, str], sets: dict[int, list[str]],
            rounds: int) -> dict[int, dict[str, Any]]:
    """Warm up on every query once, then ``rounds`` measured passes per box size."""
    out: dict[int, dict[str, Any]] = {}
    for km, bbs in sets.items():
        urls = [f"{base}{path}?bbox={b}&limit=100{extra}" for b in bbs]
        run_case(urls, headers)
        result = run_case(urls * rounds, headers)
        out[km] = result
        print(f"  {name:<9} {km:>2} km: {result['rps']:7.1f} req/s  p50 {result['p50']:6.1f} ms  "
              f"p99 {result['p99']:6.1f} ms  errors {len(result['errors'])}", flush=True)
    return out


# -- the national export --------------------------------------------------------------------------------------
def export(base: str, path: str, headers: dict[str, str], proc: subprocess.Popen) -> dict[str, float]:
    """One export while the worker's RSS is sampled every 5 ms: seconds to first/last byte, bytes, peak MiB."""
    workers = psutil.Process(proc.pid).children()
    peak = [max(w.memory_info().rss for w in workers)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], *(w.memory_info().rss for w in workers))
            except psutil.Error:
                pass
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.perf_counter()
    status, body, ttfb = fetch(base + path, headers)
    ttlb = time.perf_counter() - t0
    done.set()
    sampler.join()
    if status != 200:
        raise RuntimeError(f"{path}: HTTP {status}: {body[:300]!r}")
    uss = max(w.memory_full_info().uss for w in workers)  # memory of the worker alone (no shared libraries)
    return {"ttfb": ttfb, "ttlb": ttlb, "mb": len(body) / 1e6, "peak_mib": peak[0] / 2**20, "uss_mib": uss / 2**20}


def national_export(env: dict[str, str], headers: dict[str, str]) -> None:
    port = free_port()
    proc = gunicorn(sys.executable, "wsgi:app", port, 1, env, ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{base}/ogc/conformance", headers, proc)
        idle = max(w.memory_info().rss for w in psutil.Process(proc.pid).children()) / 2**20
        print(f"  worker RSS before any data is read: {idle:.0f} MiB (the libraries it imports)")
        for label, path in (("OGC items, limit=10000", "/ogc/collections/parks/items?limit=10000"),
                            ("REST export, f=geojson", "/api/v1/parks?f=geojson")):
            for run in ("cold", "warm"):
                r = export(base, path, headers, proc)
                print(f"  {label:<24} {run}: first byte {r['ttfb'] * 1000:7.1f} ms, last byte {r['ttlb']:.2f} s, "
                      f"{r['mb']:.1f} MB, worker peak RSS {r['peak_mib']:.0f} MiB "
                      f"({'within' if r['peak_mib'] <= 300 else 'OVER'} 300 MiB; USS after {r['uss_mib']:.0f} MiB)",
                      flush=True)
    finally:
        stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per server (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="measured passes over each set of 200 queries")
    parser.add_argument("--pygeoapi-python", default=os.environ.get("PARKWACHT_BENCH_PYGEOAPI_PYTHON",
                                                                     str(PYGEOAPI_PYTHON)))
    parser.add_argument("--only", choices=("queries", "export"), help="run one part of the benchmark")
    args = parser.parse_args()
    sample = Path(os.environ.get("PARKWACHT_SAMPLE_DATA") or ROOT.parent / "shared" / "data")
    if not (sample / PARKS_FILE).is_file():
        print(f"needs the real sample data: {sample / PARKS_FILE} not found (set PARKWACHT_SAMPLE_DATA)")
        return 2
    env, token, gpkg, cat = prepare(sample)
    headers = {"Accept": "application/geo+json"}
    auth = {**headers, "Authorization": f"Bearer {token}"} if token else headers
    if args.only != "export":
        compare(args, env, gpkg, cat, headers, auth)
    if args.only != "queries":
        print("national GeoJSON export (one fresh worker):")
        national_export(env, auth)
    return 0


def compare(args: argparse.Namespace, env: dict[str, str], gpkg: Path, cat: Any, headers: dict[str, str],
            auth: dict[str, str]) -> None:
    """The bbox queries against both servers, and the verdict on the targets."""
    sets = {km: boxes(cat, km) for km in SIZES_KM}
    print(f"load: {QUERIES} bboxes per size, limit=100, {CLIENTS} clients, {args.workers} sync workers each, "
          f"{args.rounds} measured rounds after a warm-up, {os.cpu_count()} CPUs shared by clients and servers")
    port = free_port()
    ours = gunicorn(sys.executable, "wsgi:app", port, args.workers, env, ROOT)
    servers = [ours]
    results: dict[str, dict[int, dict[str, Any]]] = {}
    try:
        wait_ready(f"http://127.0.0.1:{port}/ogc/conformance", auth, ours)
        python = Path(args.pygeoapi_python)
        theirs = None
        if python.exists() and subprocess.run([str(python), "-c", "import pygeoapi, osgeo, gunicorn"],
                                              capture_output=True).returncode == 0:
            theirs, their_base = start_pygeoapi(python, gpkg, args.workers)
            servers.append(theirs)
            wait_ready(f"{their_base}/conformance?f=json", headers, theirs)
        else:
            print(f"pygeoapi: not run ({python} cannot import pygeoapi, osgeo and gunicorn); see README")
        results["parkwacht"] = measure("parkwacht", f"http://127.0.0.1:{port}", "/ogc/collections/parks/items", "",
                                       auth, sets, args.rounds)
        if theirs is not None:
            results["pygeoapi"] = measure("pygeoapi", their_base, "/collections/parks/items", "&f=json", headers,
                                          sets, args.rounds)
    finally:
        for proc in servers:
            stop(proc)
    if "pygeoapi" in results:
        print("targets: throughput >= 3x pygeoapi's, p99 <= 1/3 of pygeoapi's")
        for km in SIZES_KM:
            ours_r, theirs_r = results["parkwacht"][km], results["pygeoapi"][km]
            same = sum(a == b for a, b in zip(ours_r["returned"], theirs_r["returned"]))
            ratio, p99 = ours_r["rps"] / theirs_r["rps"], ours_r["p99"] / theirs_r["p99"]
            print(f"  {km:>2} km: throughput {ratio:.1f}x ({'met' if ratio >= 3 else 'NOT met'}), p99 "
                  f"{p99:.2f} of pygeoapi's ({'met' if p99 <= 1 / 3 else 'NOT met'}); the same number of features "
                  f"on {same}/{len(ours_r['returned'])} requests")


if __name__ == "__main__":
    sys.exit(main())

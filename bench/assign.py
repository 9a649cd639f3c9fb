"""Benchmark: assigning signals to parks, the end-to-end signal import, its re-import, and wide API requests.

Run: ``.venv/bin/python bench/assign.py [--n 1000000] [--before OLD_CHECKOUT] [--skip-import]``

1. Assign N generated points to the 3,770 real parks (inside, else the nearest within 250 m) with
   ``ParkIndex.assign`` and, in the same run, with the baseline ``geopandas.sjoin(predicate="within")``
   followed by ``geopandas.sjoin_nearest(max_distance=250)`` for the rest; check the assignments are
   identical (same tie rules) and report throughput. Target: >= 6x the baseline.
2. Import the same N signals from CSV into a fresh SQLite store (read, validate, assign, write) in a child
   process, printing the time of each stage; then import the same file again (all unchanged). Targets:
   >= 100,000 signals/s with peak RSS <= 1 GiB; the re-import >= 200,000 rows/s.
3. Post 3,000 and 10,000 API records that each carry a different attribute key (a child process each).
   Target: 10,000 such rows well under a second.

With ``--before`` (a checkout of an earlier Parkwacht, e.g. ``git archive <commit> | tar -x -C /tmp/old``) the
same figures are measured for that version in the same run, side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
PARKS_ZIP = "parks_ftm_vakantieparken_final.zip"
TYPES = np.array(["permit", "ownership_change", "complaint", "incident", "bibob", "energy_anomaly", "other"])


def sample_dir() -> Path:
    env = os.environ.get("PARKWACHT_SAMPLE_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    if not (path / PARKS_ZIP).exists():
        sys.exit(f"needs the real parks file {PARKS_ZIP} in {path} (set PARKWACHT_SAMPLE_DATA)")
    return path


def generate_points(parks: gpd.GeoDataFrame, n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """~85% around parks (in their bounding box grown by 250 m, weighted by area), ~15% anywhere in NL."""
    rng = np.random.default_rng(seed)
    b = parks.geometry.bounds.to_numpy()
    w = parks.geometry.area.to_numpy()
    pick = rng.choice(len(parks), size=n, p=w / w.sum())
    x = rng.uniform(b[pick, 0] - 250, b[pick, 2] + 250)
    y = rng.uniform(b[pick, 1] - 250, b[pick, 3] + 250)
    anywhere = rng.random(n) < 0.15
    x[anywhere] = rng.uniform(13_000, 278_000, anywhere.sum())
    y[anywhere] = rng.uniform(306_000, 619_000, anywhere.sum())
    return x, y


def baseline(parks: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """sjoin(within) then sjoin_nearest(max_distance=250) for the rest, with ParkIndex's tie rules."""
    pts = gpd.GeoDataFrame({"i": np.arange(len(x))}, geometry=gpd.points_from_xy(x, y), crs=parks.crs)
    inside = gpd.sjoin(pts, parks, predicate="within", how="inner")
    inside = inside.sort_values(["i", "area_m2", "pid"]).drop_duplicates("i")
    rest = pts[~pts["i"].isin(inside["i"])]
    near = gpd.sjoin_nearest(rest, parks, max_distance=250, how="inner", distance_col="dist")
    near = near.sort_values(["i", "dist", "pid"]).drop_duplicates("i")
    out = np.full(len(x), -1, dtype=np.int64)
    out[inside["i"].to_numpy()] = inside["pid"].to_numpy()
    out[near["i"].to_numpy()] = near["pid"].to_numpy()
    return out


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def _park_index_class(tree: Path):
    """``ParkIndex`` of the checkout at ``tree`` (this one, or an earlier version for --before)."""
    import importlib.util

    sys.path.insert(0, str(tree))
    try:
        spec = importlib.util.spec_from_file_location(f"spatial_{abs(hash(tree))}", tree / "service" / "spatial.py",
                                                      submodule_search_locations=None)
        if spec is None or spec.loader is None:
            raise ImportError(tree)
        module = importlib.util.module_from_spec(spec)
        module.__package__ = "service"  # its relative imports resolve inside the checkout's package
        spec.loader.exec_module(module)
        return module.ParkIndex
    finally:
        sys.path.remove(str(tree))


def bench_assign(parks: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray, repeat: int, before: Path | None) -> None:
    from service.spatial import ParkIndex

    ids = parks["pid"].to_numpy()
    geoms = np.asarray(parks.geometry.array, dtype=object)
    n = len(x)
    t = time.perf_counter()
    index = ParkIndex(ids, geoms.copy())
    index.assign(x[:1], y[:1], 250.0)  # builds the grid and the boundary segments once
    build = time.perf_counter() - t
    ours_s, ours = best_of(lambda: index.assign(x, y, 250.0), repeat)
    base_s, base = best_of(lambda: baseline(parks, x, y), repeat)
    print(f"points: {n:,}  parks: {len(parks):,}  (best of {repeat})")
    print(f"assignment counts: {ours.counts()}")
    print(f"ParkIndex build (grid, boundary segments): {build * 1000:.0f} ms")
    print(f"ParkIndex.assign (after):  {ours_s:.2f} s = {n / ours_s / 1e6:.2f} M points/s, "
          f"{base_s / ours_s:.2f}x the baseline (target >= 6x: {'met' if base_s / ours_s >= 6 else 'NOT met'})")
    if before is not None:
        old_index = _park_index_class(before)(ids, geoms.copy())
        old_s, old = best_of(lambda: old_index.assign(x, y, 250.0), repeat)
        same = bool((old.park_id == ours.park_id).all()
                    and np.array_equal(old.distance_m, ours.distance_m, equal_nan=True))
        print(f"ParkIndex.assign (before): {old_s:.2f} s = {n / old_s / 1e6:.2f} M points/s, "
              f"{base_s / old_s:.2f}x the baseline; identical to after (parks and distances): {same}")
    print(f"baseline sjoin + sjoin_nearest: {base_s:.2f} s = {n / base_s / 1e6:.2f} M points/s")
    identical = bool((ours.park_id == base).all())
    print(f"identical assignments (after vs baseline): {identical}")
    if not identical:
        diff = np.flatnonzero(ours.park_id != base)
        print(f"  {len(diff)} differ, e.g. rows {diff[:5].tolist()}")


def write_csv(path: Path, x: np.ndarray, y: np.ndarray, seed: int = 8) -> None:
    rng = np.random.default_rng(seed)
    n = len(x)
    start = np.datetime64("2023-01-01")
    dates = (start + rng.integers(0, 3 * 365, n).astype("timedelta64[D]")).astype(str)
    frame = pd.DataFrame({
        "source_id": np.char.add("B", np.arange(n).astype(str)),
        "type": TYPES[rng.integers(0, len(TYPES), n)],
        "date": dates,
        "x": np.round(x, 2),
        "y": np.round(y, 2),
    })
    frame.to_csv(path, index=False)


CHILD = r"""
import json, sys, time
tree, db, parks, csv = sys.argv[1:5]
sys.path.insert(0, tree)
from service.config import load_settings
from service.store import Store
from service.ingest import import_parks, import_signals
from service.ingest import signals as sig

stages = {"read": 0.0, "validate": 0.0, "assign": 0.0, "write": 0.0}

def timed(name, stage):  # for a version that does not time its stages itself
    fn = getattr(sig, name, None)
    if fn is None:
        return
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            stages[stage] += time.perf_counter() - t
    setattr(sig, name, wrapper)

st = load_settings({}, database_url=f"sqlite:///{db}")
store = Store(st.database_url); store.upgrade()
import_parks(store, parks, settings=st, preset="top10nl")
own = hasattr(sig, "Writer")
if not own:
    for name, stage in (("validate_signals", "validate"), ("assign_frame", "assign"), ("insert_signals", "write"),
                        ("update_signals", "write"), ("store_rejections", "write"), ("signal_hashes", "validate"),
                        ("signal_rows", "write")):
        timed(name, stage)
out = {}
for label in ("first", "again"):
    for k in stages:
        stages[k] = 0.0
    t = time.perf_counter()
    r = import_signals(store, csv, settings=st, crs="EPSG:28992")
    s = time.perf_counter() - t
    d = r.as_dict()
    got = d.get("stages") if own else dict(stages)
    if not own:
        got["read"] = max(s - sum(got.values()), 0.0)  # the rest of the time is reading the file
    out[label] = {"seconds": s, "read": d["read"], "stored": d["stored"], "unchanged": d["unchanged"],
                  "rejected": d["rejected"], "assignment": d["assignment"], "stages": got}
# This process's own peak (VmHWM): ru_maxrss would carry over the benchmark's size across fork and exec.
out["peak_rss_mib"] = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
print(json.dumps(out))
"""

WIDE = r"""
import json, sys, time
tree, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, tree)
from service.config import load_settings
from service.store import Store
from service.ingest import import_signal_records
st = load_settings({}, database_url=f"sqlite:///{db}")
store = Store(st.database_url); store.upgrade()
records = [{"source_id": f"r{i}", "type": "complaint", "date": "2024-05-01", "x": 180000 + i % 500, "y": 470000,
            f"key_{i}": "value"} for i in range(n)]

def status(key):  # MiB, from /proc/self/status (Linux)
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0

before = status("VmRSS:")
try:
    open("/proc/self/clear_refs", "w").write("5")  # restart the peak (VmHWM) from here
except OSError:
    pass
t = time.perf_counter()
r = import_signal_records(store, records, settings=st, source="api", crs="EPSG:28992")
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "stored": r.stored, "rejected": r.rejected,
                  "extra_rss_mib": max(status("VmHWM:") - before, 0.0)}))
"""


def _child(code: str, tree: Path, *args: str) -> dict | None:
    out = subprocess.run([sys.executable, "-c", code, str(tree), *args], cwd=tree, capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        print(out.stderr[-3000:])
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print_import(label: str, fig: dict) -> None:
    for run, title in (("first", "import"), ("again", "re-import (all unchanged)")):
        r = fig[run]
        rate = r["read"] / r["seconds"]
        target = 100_000 if run == "first" else 200_000
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stages"].items())
        print(f"{label} {title}: {r['seconds']:.1f} s = {rate:,.0f} rows/s (target >= {target:,}: "
              f"{'met' if rate >= target else 'NOT met'}); stored {r['stored']:,}, unchanged {r['unchanged']:,}, "
              f"rejected {r['rejected']:,}; stages (s): {stages}")
    rss = fig["peak_rss_mib"]
    print(f"{label} peak RSS of the import process: {rss:,.0f} MiB (target <= 1024 MiB: "
          f"{'met' if rss <= 1024 else 'NOT met'})")


def bench_import(parks_path: Path, x: np.ndarray, y: np.ndarray, before: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "signals.csv"
        write_csv(csv, x, y)
        print(f"CSV: {csv.stat().st_size / 2**20:.0f} MiB, {len(x):,} rows (stages: the writer thread overlaps the "
              "others, so they add up to more than the total)")
        for label, tree in (("after ", ROOT), ("before", before)):
            if tree is None:
                continue
            fig = _child(CHILD, tree, str(Path(tmp) / f"{label.strip()}.db"), str(parks_path), str(csv))
            if fig is None:
                sys.exit(f"import child ({label.strip()}) failed")
            _print_import(label, fig)
        for n in (3_000, 10_000):
            for label, tree in (("after ", ROOT), ("before", before)):
                if tree is None or (label == "before" and n > 3_000):
                    continue  # the quadratic frame of the old version makes 10,000 such rows take minutes
                fig = _child(WIDE, tree, str(Path(tmp) / f"wide-{label.strip()}-{n}.db"), str(n))
                if fig is not None:
                    print(f"{label} API request of {n:,} rows, each with a different attribute key: "
                          f"{fig['seconds']:.2f} s, +{fig['extra_rss_mib']:,.0f} MiB (stored {fig['stored']:,}, "
                          f"rejected {fig['rejected']:,})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-import", action="store_true")
    ap.add_argument("--before", type=Path, help="an earlier checkout to measure side by side")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    parks_path = sample_dir() / PARKS_ZIP
    parks = gpd.read_file(parks_path)
    parks["pid"] = np.arange(len(parks))
    parks["area_m2"] = parks.geometry.area
    parks = parks[["pid", "area_m2", "geometry"]]
    x, y = generate_points(parks, args.n)
    bench_assign(parks, x, y, args.repeat, args.before)
    if not args.skip_import:
        bench_import(parks_path, x, y, args.before)


if __name__ == "__main__":
    main()

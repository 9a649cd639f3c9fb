"""Benchmark: assigning signals to parks, and the end-to-end signal import.

Run: ``.venv/bin/python bench/assign.py [--n 1000000] [--skip-import]``

1. Assign N generated points to the 3,770 real parks (inside, else the nearest within 250 m) with
   ``ParkIndex.assign`` and, in the same run, with the baseline ``geopandas.sjoin(predicate="within")``
   followed by ``geopandas.sjoin_nearest(max_distance=250)`` for the rest; check the assignments are
   identical (same tie rules) and report throughput. Target: >= 2x the baseline.
2. Import the same N signals from CSV into a fresh SQLite store (read, validate, assign, store) in a
   child process; report signals/s and the child's peak RSS. Target: peak RSS <= 2 GiB.
"""
from __future__ import annotations

import argparse
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
sys.path.insert(0, str(ROOT))

from service.spatial import ParkIndex  # noqa: E402

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


def bench_assign(parks: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray, repeat: int) -> None:
    ids = parks["pid"].to_numpy()
    geoms = np.asarray(parks.geometry.array, dtype=object)
    t = time.perf_counter()
    index = ParkIndex(ids, geoms)
    build = time.perf_counter() - t
    ours_s, ours = best_of(lambda: index.assign(x, y, 250.0), repeat)
    base_s, base = best_of(lambda: baseline(parks, x, y), repeat)
    identical = bool((ours.park_id == base).all())
    n = len(x)
    print(f"points: {n:,}  parks: {len(parks):,}  (best of {repeat})")
    print(f"assignment counts: {ours.counts()}")
    print(f"ParkIndex build: {build * 1000:.0f} ms")
    print(f"ParkIndex.assign: {ours_s:.2f} s = {n / ours_s / 1e6:.2f} M points/s")
    print(f"baseline sjoin + sjoin_nearest: {base_s:.2f} s = {n / base_s / 1e6:.2f} M points/s")
    ratio = base_s / ours_s
    print(f"speed-up: {ratio:.2f}x (target >= 2x: {'met' if ratio >= 2 else 'NOT met'})")
    print(f"identical assignments: {identical}")
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


CHILD = """
import sys, time, resource, json
from service.config import load_settings
from service.store import Store
from service.ingest import import_parks, import_signals
db, parks, csv = sys.argv[1:4]
st = load_settings({}, database_url=f"sqlite:///{db}")
store = Store(st.database_url); store.upgrade()
import_parks(store, parks, settings=st, preset="top10nl")
t = time.perf_counter()
r = import_signals(store, csv, settings=st, crs="EPSG:28992")
s = time.perf_counter() - t
print(json.dumps({"seconds": s, "result": r.as_dict(),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_import(parks_path: Path, x: np.ndarray, y: np.ndarray) -> None:
    import json

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "signals.csv"
        write_csv(csv, x, y)
        print(f"CSV: {csv.stat().st_size / 2**20:.0f} MiB, {len(x):,} rows")
        out = subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "b.db"), str(parks_path), str(csv)],
                             cwd=ROOT, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr[-3000:])
            sys.exit("import child failed")
        fig = json.loads(out.stdout.strip().splitlines()[-1])
    r = fig["result"]
    print(f"end-to-end import: {fig['seconds']:.1f} s = {r['read'] / fig['seconds']:,.0f} signals/s "
          f"(stored {r['stored']:,}, rejected {r['rejected']:,}, {r['assignment']})")
    rss = fig["peak_rss_mib"]
    print(f"peak RSS of the import process: {rss:,.0f} MiB (target <= 2048 MiB: {'met' if rss <= 2048 else 'NOT met'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-import", action="store_true")
    args = ap.parse_args()
    parks_path = sample_dir() / PARKS_ZIP
    parks = gpd.read_file(parks_path)
    parks["pid"] = np.arange(len(parks))
    parks["area_m2"] = parks.geometry.area
    parks = parks[["pid", "area_m2", "geometry"]]
    x, y = generate_points(parks, args.n)
    bench_assign(parks, x, y, args.repeat)
    if not args.skip_import:
        bench_import(parks_path, x, y)


if __name__ == "__main__":
    main()

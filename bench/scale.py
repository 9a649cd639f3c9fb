"""Scale benchmark of the engine step: in-process vs a dask LocalCluster, on generated signals.

One command: ``.venv/bin/python bench/scale.py`` (10M and 30M signals; ``--signals 1000000 3000000`` for
smaller sizes, ``--workers 2``). Each engine runs in a child process per size, so peak memory is per process:
the high-water mark of resident memory (``VmHWM``) of the in-process child, and of the dask driver and of every
dask worker (``client.run``). Not ``ru_maxrss``: Linux carries it over fork and exec, so a worker started by a
driver that holds the signals would report the driver's size as its own. Both
engines score the same generated data (3,770 parks on a grid with the shipped model), and the bench checks
that their scores agree exactly (a checksum of every park's hundredths).

Signals are generated straight into the engine's arrays (the store and its reading are not part of this
figure; see ``bench/score.py`` for the full run from a store). The target of issue 11: the dask engine's peak
per worker stays under half of the in-process peak at 30M.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.scoring.engine import ParkFrame, as_day, compute  # noqa: E402
from service.scoring.factors import TYPE_CODES, SignalFrame  # noqa: E402
from service.scoring.inputs import neighbour_pairs  # noqa: E402
from service.scoring.model_file import load_model  # noqa: E402
from service.spatial import ParkIndex  # noqa: E402

AS_OF = dt.date(2025, 12, 31)
N_PARKS = 3_770
VOCAB = {  # text and list fields: a few values each, as the model reads them
    "subtype": ["routine", "hennepkwekerij", "drugsafval", "politie_melding", "bewoning_zonder_beheerderstaken",
                "chalet_sale", "advies", "brp"],
    "categories": ['["permanent_residence"]', '["overcrowding", "fire_safety"]', '["illegal_construction"]',
                   '["drugs"]', "[]"],
    "topics": ['["zonder_beheerderstaken"]', '["bewoning"]', "[]"],
    "outcome": ["no_risk", "minor_risk", "serious_risk"],
    "buyer_kind": ["company", "private"],
}


def parks() -> tuple[ParkFrame, np.ndarray, np.ndarray]:
    """3,770 parks of 150 x 150 m on a grid 600 m apart (so each has neighbours within 1 km)."""
    ids = np.arange(1, N_PARKS + 1, dtype=np.int64)
    col, row = (ids - 1) % 62, (ids - 1) // 62
    x, y = 150_000 + 600.0 * col, 450_000 + 600.0 * row
    geoms = shapely.box(x, y, x + 150, y + 150)
    rng = np.random.default_rng(1)
    frame = ParkFrame.from_records([{"id": int(i), "unit_count": int(u), "area_m2": 22_500.0, "operator": o,
                                     "takeover_year": int(t), "kind": "bungalowpark",
                                     "attributes": {"built_year_median": int(b)}}
                                    for i, u, o, t, b in zip(ids, rng.integers(5, 300, N_PARKS),
                                                             np.where(rng.random(N_PARKS) < 0.3, None, "x"),
                                                             rng.integers(2000, 2026, N_PARKS),
                                                             rng.integers(1960, 2020, N_PARKS))])
    return frame, ids, np.asarray(geoms, dtype=object)


def signals(n: int, fields: set[str], seed: int = 2) -> SignalFrame:
    """``n`` signals over three years, ~85% in a park, ~15% just outside one, every type."""
    rng = np.random.default_rng(seed)
    types = np.array([TYPE_CODES[t] for t in ("complaint", "incident", "inspection", "registration",
                                              "ownership_change", "permit", "energy_anomaly", "bibob", "other")],
                     dtype=np.int8)
    nearby = rng.random(n) < 0.15
    cols: dict[str, object] = {}
    for name in sorted(fields):
        if name in VOCAB:
            values = VOCAB[name]
            cols[name] = pd.Categorical.from_codes(rng.integers(-1, len(values), n),
                                                   categories=pd.Index(values, dtype=object))
        elif name == "violation":
            cols[name] = (rng.random(n) < 0.4).astype(float)
        else:
            cols[name] = np.where(rng.random(n) < 0.5, rng.integers(0, 60, n), np.nan).astype(float)
    return SignalFrame(np.arange(1, n + 1, dtype=np.int64), rng.integers(1, N_PARKS + 1, n).astype(np.int64), nearby,
                       np.where(nearby, rng.uniform(1, 250, n), np.nan), types[rng.integers(0, len(types), n)],
                       (as_day(AS_OF) - rng.integers(0, 3 * 365, n)).astype(np.int32), cols)


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: of its own address space, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/self/status (this benchmark needs Linux)")


def child(engine: str, n: int, workers: int) -> dict[str, object]:
    """Generate, then time the engine step alone; report peaks per process and a checksum of the scores."""
    model = load_model(ROOT / "geodata" / "model.toml")
    frame, ids, geoms = parks()
    pairs = neighbour_pairs(ParkIndex(ids, geoms), model.lag_distance_m or 1000.0)
    sig = signals(n, set(model.signal_fields))
    before = _peak_mb()
    out: dict[str, object] = {"engine": engine, "signals": n, "peak_before_engine_mb": round(before)}
    if engine == "local":
        t0 = time.perf_counter()
        result = compute(model, frame, sig, AS_OF, neighbours=pairs)
        out["wall_s"] = round(time.perf_counter() - t0, 2)
        out["peak_mb"] = round(_peak_mb())
    else:
        from distributed import Client, LocalCluster

        from service.scoring.distributed import finish_partitions, first_passes_on, iter_partitions, spatial_partitions

        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                          memory_limit=0) as cluster, Client(cluster) as client:
            t0 = time.perf_counter()  # the same steps as DaskEngine, on the generated parks and signals
            groups = spatial_partitions(ids, geoms, 2 * workers)
            firsts = first_passes_on(client, model, AS_OF, iter_partitions(frame, sig, groups))
            result = finish_partitions(model, AS_OF, groups, firsts, pairs)
            out["wall_s"] = round(time.perf_counter() - t0, 2)
            out["peak_mb"] = round(_peak_mb())  # the driver: it generated (read) all signals
            worker_peaks = client.run(_peak_mb)
            out["worker_peak_mb"] = [round(v) for v in worker_peaks.values()]
    out["checksum"] = hashlib.sha256(result.score_cents.tobytes() + result.cents.tobytes()).hexdigest()[:16]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signals", type=int, nargs="+", default=[10_000_000, 30_000_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.workers)))
        return
    print(f"{'signals':>12} | {'engine':<16} | {'wall s':>7} | {'peak MB/process':<40} | checksum")
    for n in args.signals:
        rows = []
        for engine in ("local", "dask"):
            proc = subprocess.run([sys.executable, __file__, "--child", engine, str(n), "--workers", str(args.workers)],
                                  capture_output=True, text=True, check=True)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        local, dask = rows
        peaks = f"driver {dask['peak_mb']}, workers {dask['worker_peak_mb']}"
        for label, row, peak in (("in-process", local, str(local["peak_mb"])),
                                 (f"dask ({args.workers} workers)", dask, peaks)):
            print(f"{n:>12,} | {label:<16} | {row['wall_s']:>7} | {peak:<40} | {row['checksum']}")
        worst = max(dask["worker_peak_mb"])  # type: ignore[type-var]
        print(f"{'':>12}   scores equal: {local['checksum'] == dask['checksum']}; worst worker peak / in-process "
              f"peak = {worst / local['peak_mb']:.2f} (target < 0.5)")  # type: ignore[operator]


if __name__ == "__main__":
    main()

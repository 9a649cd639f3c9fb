"""Benchmark: a large signal import into PostgreSQL, its bulk rows written with COPY against multi-row INSERT.

Run: ``.venv/bin/python bench/pg_import.py --database-url postgresql+psycopg://USER@HOST:PORT/postgres
[--n 1000000]`` (a role that may create databases; ``.ci/postgres start DIR PORT`` gives one).

For each way of writing, in the same run and in that order — INSERT (``COPY_ON_POSTGRESQL`` off: SQLAlchemy's
executemany, which psycopg sends as pipelined statements), then COPY — a fresh database gets the 3,770 real
parks and then the same N generated signals from one CSV file (as ``bench/assign.py`` makes them) through
the ordinary ``import_signals``. Printed per way: wall time, signals/s, and the import's own stage times. Both
must store the same rows (a checksum over every signal's content).
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assign import PARKS_ZIP, generate_points, sample_dir, write_csv  # noqa: E402
from postgis import fresh_database  # noqa: E402

from service.config import load_settings  # noqa: E402
from service.ingest import import_parks, import_signals, signal_writes  # noqa: E402
from service.store import Store  # noqa: E402

DB = "parkwacht_bench_pg_import"


def content_checksum(store: Store) -> str:
    """Every stored signal's content in source-id order (ids, batches and times left out)."""
    q = sa.text("SELECT source_id, type, date, x, y, park_id, assignment, distance_m, attributes::text, row_hash"
                " FROM signals ORDER BY source_id")
    digest = hashlib.sha256()
    with store.connect() as conn:
        for row in conn.execute(q):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()[:16]


def run(admin_url: str, csv: Path, copy: bool) -> dict[str, object]:
    url = fresh_database(admin_url, DB)
    settings = load_settings({}, database_url=url)
    store = Store(url)
    store.upgrade()
    import_parks(store, sample_dir() / PARKS_ZIP, settings=settings, preset="top10nl")
    signal_writes.COPY_ON_POSTGRESQL = copy
    try:
        t = time.perf_counter()
        result = import_signals(store, csv, settings=settings, crs="EPSG:28992", source="bench")
        wall = time.perf_counter() - t
    finally:
        signal_writes.COPY_ON_POSTGRESQL = True
    out = {"wall_s": wall, "created": result.created, "rejected": result.rejected,
           "stages": dict(result.stages.seconds), "checksum": content_checksum(store)}
    store.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", required=True, help="a PostgreSQL role that may create databases")
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    parks = gpd.read_file(sample_dir() / PARKS_ZIP).to_crs(28992)
    x, y = generate_points(parks, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "signals.csv"
        write_csv(csv, x, y)
        rows = {label: run(args.database_url, csv, copy) for label, copy in (("INSERT", False), ("COPY", True))}
    for label, r in rows.items():
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in r["stages"].items())  # type: ignore[attr-defined]
        rate = r["created"] / r["wall_s"]  # type: ignore[operator]
        print(f"{label:>6}: {args.n:,} signals in {r['wall_s']:.1f} s = {rate:,.0f} signals/s "
              f"({r['created']:,} stored, {r['rejected']:,} rejected; {stages}); checksum {r['checksum']}")
    ins, cp = rows["INSERT"], rows["COPY"]
    print(f"COPY / INSERT wall time: {cp['wall_s'] / ins['wall_s']:.2f}; "  # type: ignore[operator]
          f"same rows stored: {cp['checksum'] == ins['checksum']}")


if __name__ == "__main__":
    main()

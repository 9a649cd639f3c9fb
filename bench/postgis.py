"""Benchmark: bbox and assignment queries pushed into PostGIS, against the in-memory paths Parkwacht uses.

Run: ``.venv/bin/python bench/postgis.py --database-url postgresql+psycopg://USER@HOST:PORT/postgres
[--n 1000000] [--queries 300]`` (a role that may create databases; ``.ci/postgres start DIR PORT`` gives one).

The 3,770 real parks are imported into a fresh database; then, in the same run:

1. **bbox**: random boxes of 10 km and 40 km (RD) answered by the API catalogue (its STRtree over the parks,
   built once per data version) and by PostGIS (``geom && box AND ST_Intersects`` on the GiST index), for the
   ids alone and for the matching features as GeoJSON (the catalogue's pre-serialised features; PostGIS's
   ``ST_AsGeoJSON(ST_Transform(geom, 4326))``). Both must give the same parks. The catalogue's build, paid once
   per data version in every worker, is printed beside it.
2. **assignment**: N generated signal points (as ``bench/assign.py``) assigned to a park (inside, else the
   nearest within 250 m; ties to the smaller park, then the lower id) by ``ParkIndex.assign`` and by one SQL
   statement over a staged table (``ST_Intersects``, then a ``<->`` nearest neighbour with ``ST_DWithin``),
   which must agree. Staging the points (``COPY``) is timed apart: an import writes its rows anyway, but a
   database-side assignment would then have to update every row it wrote.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assign import PARKS_ZIP, generate_points, sample_dir  # noqa: E402

from service.config import load_settings  # noqa: E402
from service.ingest import import_parks  # noqa: E402
from service.ingest.assign import build_park_index  # noqa: E402
from service.reads.catalogue import RD_CRS, ParkFilter, build_catalogue  # noqa: E402
from service.store import Store  # noqa: E402

T = TypeVar("T")
DB = "parkwacht_bench_postgis"
MAX_DISTANCE = 250.0
IDS_SQL = sa.text("SELECT id FROM parks WHERE retired_at IS NULL AND geom && ST_MakeEnvelope(:a, :b, :c, :d, 28992)"
                  " AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 28992)) ORDER BY id")
FEATURES_SQL = sa.text(
    "SELECT id, ST_AsGeoJSON(ST_Transform(geom, 4326), 7) FROM parks WHERE retired_at IS NULL"
    " AND geom && ST_MakeEnvelope(:a, :b, :c, :d, 28992)"
    " AND ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 28992)) ORDER BY id")
ASSIGN_SQL = """
WITH inside AS (
  SELECT DISTINCT ON (t.i) t.i, p.id FROM pts t JOIN parks p ON p.retired_at IS NULL AND ST_Intersects(p.geom, t.geom)
  ORDER BY t.i, ST_Area(p.geom), p.id
)
SELECT i, id FROM inside
UNION ALL
SELECT t.i, n.id FROM pts t CROSS JOIN LATERAL (
  SELECT p.id FROM parks p WHERE p.retired_at IS NULL AND ST_DWithin(p.geom, t.geom, {d})
  ORDER BY ST_Distance(p.geom, t.geom), p.id LIMIT 1
) n WHERE NOT EXISTS (SELECT 1 FROM inside WHERE inside.i = t.i)
"""


def fresh_database(admin_url: str, name: str = DB) -> str:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def timed(fn: Callable[[], T]) -> tuple[list[float], T]:
    t = time.perf_counter()
    result = fn()
    return [time.perf_counter() - t], result


def fmt(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return f"median {statistics.median(ms):7.3f} ms  p99 {p99:7.3f} ms"


def bench_bbox(store: Store, queries: int) -> None:
    build_s, cat = timed(lambda: build_catalogue(store))
    print(f"catalogue build (once per data version and worker): {build_s[0] * 1000:.0f} ms, {len(cat):,} parks")
    rng = np.random.default_rng(3)
    for km in (10, 40):
        side = km * 1000.0
        boxes = [(x, y, x + side, y + side) for x, y in zip(rng.uniform(13_000, 278_000 - side, queries),
                                                            rng.uniform(306_000, 619_000 - side, queries))]
        mem_ids, mem_feat, pg_ids, pg_feat, hits = [], [], [], [], []
        with store.engine.connect() as conn:
            for box in boxes:
                flt = ParkFilter(bbox=box, bbox_crs=RD_CRS)
                t, pos = timed(lambda: cat.select(flt))  # noqa: B023
                mem_ids += t
                t, _ = timed(lambda: [cat.features_wgs[i] for i in pos])  # noqa: B023
                mem_feat.append(mem_ids[-1] + t[0])
                args = dict(zip("abcd", box))
                t, rows = timed(lambda: conn.execute(IDS_SQL, args).scalars().all())  # noqa: B023
                pg_ids += t
                t, _ = timed(lambda: conn.execute(FEATURES_SQL, args).all())  # noqa: B023
                pg_feat += t
                ids = cat.ids[pos].tolist()
                if ids != list(rows):
                    sys.exit(f"bbox {box}: catalogue and PostGIS disagree")
                hits.append(len(ids))
        print(f"bbox {km} km ({queries} boxes, {statistics.mean(hits):.0f} parks on average; identical answers)")
        print(f"  ids       catalogue STRtree: {fmt(mem_ids)}   PostGIS GiST: {fmt(pg_ids)}   "
              f"ratio of medians {statistics.median(pg_ids) / statistics.median(mem_ids):.0f}x")
        print(f"  features  catalogue:         {fmt(mem_feat)}   PostGIS:      {fmt(pg_feat)}   "
              f"ratio of medians {statistics.median(pg_feat) / statistics.median(mem_feat):.1f}x")


def bench_assign(store: Store, n: int) -> None:
    import geopandas as gpd

    parks = gpd.read_file(sample_dir() / PARKS_ZIP)
    parks["pid"] = np.arange(len(parks))
    parks["area_m2"] = parks.geometry.area
    x, y = generate_points(parks, n)
    t = time.perf_counter()
    index = build_park_index(store)
    a = index.assign(x, y, MAX_DISTANCE)
    mem_s = time.perf_counter() - t
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        t = time.perf_counter()
        cur.execute("CREATE TEMP TABLE pts (i integer, x double precision, y double precision)")
        with cur.copy("COPY pts (i, x, y) FROM STDIN") as copy:
            for row in zip(range(n), x.tolist(), y.tolist()):
                copy.write_row(row)
        cur.execute("ALTER TABLE pts ADD COLUMN geom geometry(Point, 28992)")
        cur.execute("UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(x, y), 28992)")
        cur.execute("CREATE INDEX ON pts (i)")
        cur.execute("ANALYZE pts")
        stage_s = time.perf_counter() - t
        t = time.perf_counter()
        cur.execute(ASSIGN_SQL.format(d=MAX_DISTANCE))
        rows = cur.fetchall()
        sql_s = time.perf_counter() - t
    finally:
        raw.close()
    pg = np.full(n, -1, dtype=np.int64)
    for i, pid in rows:
        pg[i] = pid
    same = bool((pg == a.park_id).all())
    print(f"assignment of {n:,} points to {len(index):,} parks ({a.counts()}); identical: {same}")
    if not same:
        diff = np.flatnonzero(pg != a.park_id)
        print(f"  {len(diff):,} differ, e.g. {[(int(i), int(a.park_id[i]), int(pg[i])) for i in diff[:5]]}")
    print(f"  in memory (read parks, build index, assign): {mem_s:6.2f} s = {n / mem_s:,.0f} points/s")
    print(f"  PostGIS one statement:                       {sql_s:6.2f} s = {n / sql_s:,.0f} points/s "
          f"({sql_s / mem_s:.0f}x the in-memory time), after staging the points with COPY in {stage_s:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", required=True, help="a PostgreSQL role that may create databases")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    url = fresh_database(args.database_url)
    settings = load_settings({}, database_url=url)
    store = Store(url)
    store.upgrade()
    t = time.perf_counter()
    import_parks(store, sample_dir() / PARKS_ZIP, settings=settings, preset="top10nl")
    print(f"parks imported in {time.perf_counter() - t:.1f} s")
    with store.engine.begin() as conn:
        conn.execute(sa.text("ANALYZE parks"))
    bench_bbox(store, args.queries)
    bench_assign(store, args.n)
    store.dispose()


if __name__ == "__main__":
    main()

"""Benchmark of the risk map: bytes and build time vs a naive folium.GeoJson page, cache, first render.

One command (``.venv/bin/python bench/maps.py``) on the 3,770 real parks (``PARKWACHT_SAMPLE_DATA``):

* bytes and build time of the national map page (basemap off) vs a naive ``folium.GeoJson(parks)`` page of
  the same parks, built in the same run; whether the page is at most 1/4 of the naive one;
* time to serve the cached page vs building it (Flask test client, the same request twice);
* time to first render in headless Chromium (navigation start until every layer is on the map).
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import folium  # noqa: E402
import geopandas as gpd  # noqa: E402
import shapely  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from service import scoring
from service.app import create_app  # noqa: E402
from service.config import load_settings  # noqa: E402
from service.ingest import import_parks  # noqa: E402
from service.store import Store, schema  # noqa: E402

PARKS_FILE = "parks_ftm_vakantieparken_final.zip"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def naive_page(store: Store) -> tuple[int, float]:
    """Bytes and seconds of ``folium.GeoJson`` over every park (WGS84, all attributes), as one would write it."""
    t0 = time.perf_counter()
    p = schema.parks
    with store.connect() as conn:
        rows = conn.execute(sa.select(p.c.id, p.c.name, p.c.kind, p.c.municipality_code, p.c.municipality_name,
                                      p.c.unit_count, p.c.area_m2, p.c.geom_wkb)).all()
    gdf = gpd.GeoDataFrame([dict(r._mapping) for r in rows], geometry=shapely.from_wkb([r.geom_wkb for r in rows]),
                           crs="EPSG:28992").drop(columns=["geom_wkb"]).to_crs("EPSG:4326")
    m = folium.Map(location=[52.2, 5.3], zoom_start=8, tiles=None)
    folium.GeoJson(gdf).add_to(m)
    html = m.get_root().render()
    return len(html.encode()), time.perf_counter() - t0


def main() -> int:
    sample = Path(os.environ.get("PARKWACHT_SAMPLE_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
    parks_file = sample / PARKS_FILE
    if not parks_file.is_file():
        print(f"needs the real sample data: {parks_file} not found (set PARKWACHT_SAMPLE_DATA)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({}, database_url=f"sqlite:///{tmp}/bench.db", instance_dir=f"{tmp}/instance",
                                 basemap="none")
        store = Store(settings.database_url)
        store.upgrade()
        t0 = time.perf_counter()
        result = import_parks(store, parks_file, settings=settings, preset="top10nl")
        print(f"import: {result.stored} parks in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        scoring.score_run(store, settings)
        print(f"score run: {time.perf_counter() - t0:.1f} s")

        naive_bytes, naive_s = naive_page(store)
        print(f"naive folium.GeoJson page: {naive_bytes / 1e6:.2f} MB, built in {naive_s:.2f} s")

        app = create_app(settings)
        client = app.test_client()
        t0 = time.perf_counter()
        first = client.get("/")
        build_s = time.perf_counter() - t0
        assert first.headers["X-Parkwacht-Map-Cache"] == "miss", first.headers
        page_bytes = len(first.data)
        t0 = time.perf_counter()
        n = 20
        for _ in range(n):
            again = client.get("/")
        cached_s = (time.perf_counter() - t0) / n
        assert again.headers["X-Parkwacht-Map-Cache"] == "hit"
        ratio = page_bytes / naive_bytes
        print(f"Parkwacht map page: {page_bytes / 1e6:.2f} MB ({ratio:.1%} of naive), "
              f"built and served in {build_s:.2f} s")
        print(f"cached page served in {cached_s * 1000:.1f} ms (mean of {n}) vs {build_s * 1000:.0f} ms building it "
              f"({build_s / cached_s:.0f}x)")
        print(f"size target (<= 1/4 of the naive page): {'MET' if ratio <= 0.25 else 'NOT MET'}")

        if Path(CHROMIUM).exists():
            from playwright.sync_api import sync_playwright
            from werkzeug.serving import make_server

            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # figures, not request lines
            srv = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{srv.server_port}/"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                times = []
                for _ in range(3):
                    page = browser.new_page(viewport={"width": 1400, "height": 900})
                    t0 = time.perf_counter()
                    page.goto(url)
                    page.wait_for_selector("html[data-map-ready='1']", timeout=60_000)
                    wall = time.perf_counter() - t0
                    ready = page.evaluate("window.parkwachtReadyAt")
                    paths = page.locator("path.pw-park").count()
                    times.append((ready, wall, paths))
                    page.close()
                browser.close()
            srv.shutdown()
            for i, (ready, wall, paths) in enumerate(times, 1):
                print(f"first render in Chromium (run {i}): {ready:.0f} ms after navigation start "
                      f"({wall:.2f} s wall), {paths} park polygons drawn")
        else:
            print("first render: skipped (no /usr/bin/chromium)")
        store.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

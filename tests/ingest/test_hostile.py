"""Property tests: hostile geometries and hostile CSV rows through the public import functions.

For every generated case: ``read == stored + rejected + unchanged``, no exception escapes (a file refused as a
whole, before anything is written, is the one allowed outcome besides a result), and nothing of a rejected
row is stored.
"""
from __future__ import annotations

import csv
import math
import tempfile
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.ingest import FileRefused, import_park_frame, import_signal_records, import_signals, rejected_rows
from service.store import schema
from tests.ingest.conftest import copy_store

RD_X, RD_Y = 180_000.0, 470_000.0
LON, LAT = 5.6, 52.2
EXAMPLES = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

odd_numbers = st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 0.0, 5e-324])


def coordinate(centre: float, spread: float) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(centre - spread, centre + spread, allow_nan=False), odd_numbers)


def _wkt_number(v: float) -> str:
    return "NaN" if math.isnan(v) else ("Inf" if v == math.inf else ("-Inf" if v == -math.inf else repr(v)))


@st.composite
def rings(draw: st.DrawFn, centre: tuple[float, float], spread: float) -> str:
    """A ring as WKT text: often self-intersecting, sometimes collapsed, short, or with odd numbers."""
    pts = draw(st.lists(st.tuples(coordinate(centre[0], spread), coordinate(centre[1], spread)), min_size=0,
                        max_size=9))
    if draw(st.booleans()) and pts:
        pts = pts + [pts[0]]  # closed (as a valid ring must be)
    return "(" + ", ".join(f"{_wkt_number(x)} {_wkt_number(y)}" for x, y in pts) + ")"


@st.composite
def hostile_geometries(draw: st.DrawFn, centre: tuple[float, float], spread: float) -> object:
    """A shapely geometry (or None): polygons, multipolygons, mixed collections, empties, lines, many vertices."""
    kind = draw(st.sampled_from(["polygon", "multi", "collection", "empty", "line", "box", "many", "none"]))
    if kind == "none":
        return None
    if kind == "box":  # a good park among the bad ones
        x, y = draw(st.floats(centre[0] - spread, centre[0] + spread)), draw(st.floats(centre[1] - spread,
                                                                                        centre[1] + spread))
        return shapely.box(x, y, x + spread / 10, y + spread / 10)
    if kind == "many":
        n = draw(st.integers(3, 3000))
        return shapely.Point(centre).buffer(spread / 5, quad_segs=max(1, n // 4))
    if kind == "empty":
        text = draw(st.sampled_from(["POLYGON EMPTY", "MULTIPOLYGON EMPTY", "GEOMETRYCOLLECTION EMPTY",
                                     "POINT EMPTY", "GEOMETRYCOLLECTION (POLYGON EMPTY, POINT EMPTY)"]))
    elif kind == "polygon":
        text = "POLYGON (" + ", ".join(draw(st.lists(rings(centre, spread), min_size=1, max_size=3))) + ")"
    elif kind == "multi":
        parts = draw(st.lists(st.lists(rings(centre, spread), min_size=1, max_size=2), min_size=1, max_size=3))
        text = "MULTIPOLYGON (" + ", ".join("(" + ", ".join(p) + ")" for p in parts) + ")"
    elif kind == "line":
        text = "LINESTRING " + draw(rings(centre, spread))
    else:
        members = draw(st.lists(st.sampled_from(["POLYGON", "LINESTRING", "POINT"]), min_size=1, max_size=4))
        texts = []
        for m in members:
            ring = draw(rings(centre, spread))
            texts.append(f"POLYGON ({ring})" if m == "POLYGON" else (f"LINESTRING {ring}" if m == "LINESTRING"
                                                                     else f"POINT ({centre[0]} {centre[1]})"))
        text = "GEOMETRYCOLLECTION (" + ", ".join(texts) + ")"
    with warnings.catch_warnings():  # numpy warns about NaN and overflow while hostile WKT is parsed
        warnings.simplefilter("ignore")
        return shapely.from_wkt(text, on_invalid="ignore")


def _stored_and_rejected(store, table: sa.Table, batch_id: int) -> tuple[set[str], set[str]]:
    with store.connect() as conn:
        stored = set(conn.execute(sa.select(table.c.source_id)).scalars())
    rejected = {r["raw"].get("source_id") for r in rejected_rows(store, batch_id) if isinstance(r["raw"], dict)}
    return stored, rejected


def _check_nothing_written(store) -> None:
    assert store.count(schema.parks) == 0 and store.count(schema.signals) == 0
    assert store.count(schema.rejected_rows) == 0


@pytest.mark.slow
@EXAMPLES
@given(geoms=st.lists(hostile_geometries((RD_X, RD_Y), 500.0), min_size=1, max_size=8),
       wgs=st.booleans(), data=st.data())
def test_hostile_park_geometries_never_abort_an_import(ingest_template, geoms, wgs, data) -> None:
    if wgs:  # the same shapes around the Veluwe in degrees: PROJ's turn to see odd numbers
        geoms = data.draw(st.lists(hostile_geometries((LON, LAT), 0.005), min_size=1, max_size=8))
    ids = [f"p{i}" for i in range(len(geoms))]
    frame = gpd.GeoDataFrame({"source_id": ids}, geometry=gpd.GeoSeries(geoms))
    with tempfile.TemporaryDirectory() as tmp:
        store, cfg = copy_store(ingest_template, Path(tmp))
        try:
            try:
                result = import_park_frame(store, frame, settings=cfg, source="hostile",
                                           crs="EPSG:4326" if wgs else "EPSG:28992")
            except FileRefused:
                _check_nothing_written(store)
                return
            assert result.read == len(geoms) == result.stored + result.rejected + result.unchanged
            stored, rejected = _stored_and_rejected(store, schema.parks, result.batch_id)
            assert stored.isdisjoint(rejected) and stored | rejected == set(ids)
            with store.connect() as conn:
                for wkb in conn.execute(sa.select(schema.parks.c.geom_wkb)).scalars():
                    g = shapely.from_wkb(wkb)
                    assert g.is_valid and g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0
        finally:
            store.dispose()


def test_too_many_vertices_is_a_rejection(store, settings) -> None:
    t = np.linspace(0, 2 * np.pi, 160_000, endpoint=False)
    ring = shapely.Polygon(np.c_[RD_X + 300 * np.cos(t), RD_Y + 300 * np.sin(t)])  # 160,000 vertices
    frame = gpd.GeoDataFrame({"source_id": ["huge", "ok"]},
                             geometry=[ring, shapely.box(RD_X, RD_Y, RD_X + 9, RD_Y + 9)])
    result = import_park_frame(store, frame, settings=settings, source="t", crs="EPSG:28992")
    assert (result.stored, result.rejected) == (1, 1)
    (rej,) = rejected_rows(store, result.batch_id)
    assert "vertices" in rej["reason"] and "simplify" in rej["reason"]


hostile_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", " ", "\x00", "a,b", 'quote"d', "line\nbreak", "tab\there", "x" * 5000, "<script>", "NaN", "Infinity"])
number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "abc", "1,5", "1e400", "-", "0x10", " 12 "]),
)


@st.composite
def hostile_rows(draw: st.DrawFn) -> list[list[str]]:
    n = draw(st.integers(1, 12))
    rows = []
    for i in range(n):
        near = draw(st.booleans())
        x = repr(draw(st.floats(RD_X - 500, RD_X + 500))) if near else draw(number_text)
        y = repr(draw(st.floats(RD_Y - 500, RD_Y + 500))) if near else draw(number_text)
        rows.append([f"r{i}", draw(st.sampled_from(["complaint", "incident", "Complaint", "burglary", ""])),
                     draw(st.sampled_from(["2024-01-01", "01-02-2024", "2024-02-30", "gisteren", "", "9999-01-01"])),
                     x, y, draw(hostile_text), draw(hostile_text)])
    return rows


@pytest.mark.slow
@EXAMPLES
@given(rows=hostile_rows(), bad_bytes=st.booleans())
def test_hostile_csv_rows_never_abort_an_import(ingest_template, rows, bad_bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, cfg = copy_store(ingest_template, Path(tmp))
        path = Path(tmp) / "signals.csv"
        with path.open("w", newline="", encoding="utf-8", errors="surrogateescape") as fh:
            writer = csv.writer(fh)
            writer.writerow(["source_id", "type", "date", "x", "y", "name", "note"])
            for r in rows:
                writer.writerow(r[:-1] + ([r[-1] + "\udce9"] if bad_bytes else [r[-1]]))
        try:
            try:
                result = import_signals(store, path, settings=cfg, crs="EPSG:28992")
            except FileRefused:
                _check_nothing_written(store)
                return
            assert result.read == len(rows) == result.stored + result.rejected + result.unchanged
            stored, rejected = _stored_and_rejected(store, schema.signals, result.batch_id)
            assert stored.isdisjoint(rejected)
            assert stored | rejected == {r[0] for r in rows}
        finally:
            store.dispose()


@pytest.mark.slow
@EXAMPLES
@given(rows=hostile_rows(), numbers=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1,
                                             max_size=12))
def test_hostile_api_records_never_abort_an_import(ingest_template, rows, numbers) -> None:
    records = []
    for i, (sid, typ, date, x, y, name, note) in enumerate(rows):
        value = numbers[i % len(numbers)]
        records.append({"source_id": sid, "type": typ, "date": date, "x": value if i % 3 == 0 else x, "y": y,
                        "name": name, "note": note, "attributes": {"v": value, "nested": [{"w": value}]}})
    with tempfile.TemporaryDirectory() as tmp:
        store, cfg = copy_store(ingest_template, Path(tmp))
        try:
            try:
                result = import_signal_records(store, records, settings=cfg, source="api", crs="EPSG:28992")
            except FileRefused:
                _check_nothing_written(store)
                return
            assert result.read == len(records) == result.stored + result.rejected + result.unchanged
            stored, rejected = _stored_and_rejected(store, schema.signals, result.batch_id)
            assert stored.isdisjoint(rejected) and stored | rejected == {r["source_id"] for r in records}
            for r in records:
                if r["source_id"] in stored:
                    assert math.isfinite(r["attributes"]["v"])  # a non-finite attribute is never stored
        finally:
            store.dispose()

"""The bulk path of a large signal import: multi-row inserts on the writer thread, hashes, re-imports."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from service.ingest import ImportFailed, import_parks, import_signals, signal_writes
from service.store import schema
from tests import stores
from tests.helpers import square, write_csv, write_geojson

RD_X, RD_Y = 180_000, 470_000
N = 1_234  # more than one statement of rows, and a remainder


@pytest.fixture
def bulk(monkeypatch):
    """Every chunk takes the bulk path (no RETURNING), as a chunk of a million-row file does."""
    monkeypatch.setattr(signal_writes, "RETURNING_LIMIT", 10)


def _file(tmp_path, n=N, shift=0.0, name="s.csv"):
    rows = [[f"s{i}", f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}", RD_X + (i % 400) + shift, RD_Y + 50,
             "overlast" if i % 3 else "", f"v{i % 7}"] for i in range(n)]
    return write_csv(tmp_path / name, ["source_id", "date", "x", "y", "subtype", "note"], rows)


def _signals(store):
    with store.connect() as conn:
        return {r.source_id: r for r in conn.execute(sa.select(schema.signals))}


def test_bulk_rows_are_stored_exactly_and_a_repeat_changes_nothing(store, settings, tmp_path, bulk) -> None:
    import_parks(store, write_geojson(tmp_path / "p.geojson", [({"source_id": "a"}, square(RD_X, RD_Y, 200))],
                                      crs="urn:ogc:def:crs:EPSG::28992"), settings=settings, source="t")
    path = _file(tmp_path)
    small = settings.with_overrides(import_chunk_rows=500)
    first = import_signals(store, path, settings=small, signal_type="complaint", crs="EPSG:28992")
    assert (first.read, first.created, first.rejected) == (N, N, 0)
    assert first.signal_ids == []  # the bulk path returns no ids
    assert set(first.stages.seconds) >= {"read", "validate", "assign", "write"}
    rows = _signals(store)
    r = rows["s7"]
    assert (r.x, r.y, r.type, r.subtype, r.attributes) == (RD_X + 7, RD_Y + 50, "complaint", "overlast",
                                                           {"note": "v0"})
    assert rows["s3"].subtype is None and str(rows["s3"].date) == "2024-04-04"
    inside = sum(1 for i in range(N) if i % 400 <= 200)  # x offsets 0..200 lie on the park (its edge included)
    assert sum(1 for x in rows.values() if x.assignment == "inside") == inside
    again = import_signals(store, path, settings=small, signal_type="complaint", crs="EPSG:28992")
    assert (again.unchanged, again.stored) == (N, 0)
    # The secondary indexes a large load drops on SQLite are there again once it has committed.
    assert {"ix_signals_park_date", "ix_signals_type_date"} <= {
        ix["name"] for ix in sa.inspect(store.engine).get_indexes("signals")}


def test_a_failed_large_load_keeps_its_indexes(store, settings, tmp_path, bulk, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(signal_writes.BulkLoad, "finish", broken)
    with pytest.raises(ImportFailed):
        import_signals(store, _file(tmp_path), settings=settings, signal_type="complaint", crs="EPSG:28992")
    assert store.count(schema.signals) == 0
    assert {"ix_signals_park_date", "ix_signals_type_date"} <= {
        ix["name"] for ix in sa.inspect(store.engine).get_indexes("signals")}


def test_a_hash_from_an_older_version_is_refreshed_not_a_change(store, settings, tmp_path, bulk) -> None:
    path = _file(tmp_path, n=50)
    import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    with store.begin() as conn:
        conn.execute(schema.signals.update().values(row_hash="0000old"))
    again = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    assert (again.unchanged, again.updated, again.stored) == (50, 0, 0)
    assert store.count(schema.import_changes) == 0
    assert "0000old" not in {r.row_hash for r in _signals(store).values()}
    third = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    assert third.unchanged == 50


def test_changed_rows_are_updated_with_their_changes(store, settings, tmp_path, bulk) -> None:
    import_signals(store, _file(tmp_path, n=30), settings=settings, signal_type="complaint", crs="EPSG:28992",
                   source="feed")
    moved = import_signals(store, _file(tmp_path, n=30, shift=1000, name="m.csv"), settings=settings,
                           signal_type="complaint", crs="EPSG:28992", source="feed")
    assert (moved.updated, moved.unchanged) == (30, 0)
    with store.connect() as conn:
        changes = conn.execute(sa.select(schema.import_changes.c.changes)).scalars().all()
    assert len(changes) == 30 and all("x" in c for c in changes)


def test_a_write_that_fails_on_the_writer_thread_rolls_everything_back(store, settings, tmp_path, bulk,
                                                                       monkeypatch) -> None:
    def broken(conn, params):
        raise OSError("disk full")

    monkeypatch.setattr(signal_writes, "_insert_bulk", broken)
    with pytest.raises(ImportFailed, match="disk full"):
        import_signals(store, _file(tmp_path), settings=settings.with_overrides(import_chunk_rows=300),
                       signal_type="complaint", crs="EPSG:28992")
    assert store.count(schema.signals) == 0 and store.count(schema.rejected_rows) == 0


def _park(store, settings, tmp_path) -> None:
    import_parks(store, write_geojson(tmp_path / "p.geojson", [({"source_id": "a"}, square(RD_X, RD_Y, 200))],
                                      crs="urn:ogc:def:crs:EPSG::28992"), settings=settings, source="t")


def _content(store, source: str) -> dict[str, dict]:
    """source_id -> the stored row without what differs between two imports of the same file."""
    s = schema.signals
    with store.connect() as conn:
        rows = conn.execute(sa.select(s).where(s.c.source == source)).mappings().all()
    skip = {"id", "batch_id", "created_at", "source"}
    return {r["source_id"]: {k: v for k, v in r.items() if k not in skip} for r in rows}


@pytest.mark.skipif(not stores.POSTGIS, reason="COPY is PostgreSQL's: runs in the PostGIS pass")
def test_postgresql_bulk_loads_go_through_copy_and_store_what_insert_stores(store, settings, tmp_path, bulk,
                                                                            monkeypatch) -> None:
    _park(store, settings, tmp_path)
    path, small = _file(tmp_path), settings.with_overrides(import_chunk_rows=500)
    copied: list[int] = []
    real = signal_writes._copy_rows

    def spy(conn, params):
        copied.append(len(params))
        real(conn, params)

    monkeypatch.setattr(signal_writes, "_copy_rows", spy)
    import_signals(store, path, settings=small, signal_type="complaint", crs="EPSG:28992", source="copy")
    assert sum(copied) == N and len(copied) >= 3  # every chunk of 500 went through COPY
    monkeypatch.setattr(signal_writes, "COPY_ON_POSTGRESQL", False)
    import_signals(store, path, settings=small, signal_type="complaint", crs="EPSG:28992", source="insert")
    assert sum(copied) == N
    by_copy, by_insert = _content(store, "copy"), _content(store, "insert")
    assert len(by_copy) == N and by_copy == by_insert
    with store.connect() as conn:  # PostGIS's point column is filled from x, y for copied rows too
        missing = conn.execute(sa.text("select count(*) from signals where geom is null")).scalar_one()
    assert missing == 0


@pytest.mark.skipif(not stores.POSTGIS, reason="COPY is PostgreSQL's: runs in the PostGIS pass")
def test_a_load_that_fails_after_a_copy_stores_none_of_it(store, settings, tmp_path, bulk, monkeypatch) -> None:
    _park(store, settings, tmp_path)
    real, calls = signal_writes._copy_rows, []

    def copy_then_fail(conn, params):
        calls.append(len(params))
        if len(calls) == 2:
            raise OSError("disk full")
        real(conn, params)

    monkeypatch.setattr(signal_writes, "_copy_rows", copy_then_fail)
    with pytest.raises(ImportFailed, match="disk full"):
        import_signals(store, _file(tmp_path), settings=settings.with_overrides(import_chunk_rows=500),
                       signal_type="complaint", crs="EPSG:28992")
    assert len(calls) == 2  # the first chunk was copied, then the load failed
    assert store.count(schema.signals) == 0 and store.count(schema.rejected_rows) == 0


def test_index_build_settings_are_given_back(store, monkeypatch) -> None:
    """The small cache and sorter threads of the index build hold for the build only."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the rebuild is SQLite's")
    with store.begin() as conn:
        conn.exec_driver_sql("PRAGMA threads=0")
        cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        load = signal_writes.BulkLoad(expected_rows=1_000)
        load.start(conn, 1_000)
        assert {ix.name for ix in load.dropped} == {"ix_signals_park_date", "ix_signals_type_date"}
        seen = []
        real = sa.Index.create

        def create(index, bind, checkfirst=False):
            seen.append((bind.exec_driver_sql("PRAGMA threads").scalar(),
                         bind.exec_driver_sql("PRAGMA cache_size").scalar()))
            return real(index, bind, checkfirst=checkfirst)

        monkeypatch.setattr(sa.Index, "create", create)
        load.finish(conn)
        monkeypatch.undo()
        assert seen == [(2, -signal_writes.BulkLoad.BUILD_CACHE_KIB)] * 2
        assert conn.exec_driver_sql("PRAGMA threads").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == cache
    assert {"ix_signals_park_date", "ix_signals_type_date"} <= {
        ix["name"] for ix in sa.inspect(store.engine).get_indexes("signals")}

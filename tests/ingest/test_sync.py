"""Sources kept in sync: snapshots retire and revive parks and signals; killed imports are recorded as failed."""
from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

import sqlalchemy as sa

from service import reads
from service.ingest import (
    FileRefused,
    fail_stale_batches,
    import_parks,
    import_signal_records,
    import_signals,
)
from service.runtime import Runtime
from service.scoring.inputs import load_parks
from service.scoring.runs import score_run
from service.store import schema
from tests.helpers import square, write_csv, write_geojson

RD_X, RD_Y = 180_000, 470_000
RD = "urn:ogc:def:crs:EPSG::28992"


def _park_file(tmp_path, names: list[str], file="parks.geojson"):
    return write_geojson(tmp_path / file, [({"source_id": n, "name": f"Park {n}"}, square(RD_X + 1000 * i, RD_Y))
                                          for i, n in enumerate(names) if n], crs=RD)


def _ids(store, table: sa.Table, current: bool | None = None) -> set[str]:
    q = sa.select(table.c.source_id)
    if current is not None:
        q = q.where(schema.current(table) if current else ~schema.current(table))
    with store.connect() as conn:
        return set(conn.execute(q).scalars())


def test_a_park_snapshot_retires_what_is_gone_and_revives_what_is_back(store, settings, tmp_path) -> None:
    first = import_parks(store, _park_file(tmp_path, ["a", "b", "c"]), settings=settings, source="prov",
                         snapshot=True)
    assert (first.created, first.retired, first.revived) == (3, 0, 0)
    second = import_parks(store, _park_file(tmp_path, ["a", "", "c"], "p2.geojson"), settings=settings,
                          source="prov", snapshot=True)
    assert second.read == 2 == second.stored + second.rejected + second.unchanged
    assert (second.retired, second.revived, second.unchanged) == (1, 0, 2)
    assert _ids(store, schema.parks, current=False) == {"b"}  # kept, with its history
    b = next(p for p in reads.list_parks(store)[1] if p["source_id"] == "a")
    assert b  # current parks are served ...
    retired_id = _store_id(store, "b")
    assert "b" not in {p["source_id"] for p in reads.list_parks(store)[1]}  # ... retired ones are not
    assert reads.park(store, retired_id, include_retired=True)["retired_at"] is not None
    (shown,) = reads.parks.retired_parks(store, source="prov")  # what an admin sees
    assert (shown["source_id"], shown["retired_by"]) == ("b", second.batch_id)
    try:
        reads.park(store, retired_id)
        raise AssertionError("a retired park must not be served")
    except reads.NotFound:
        pass
    with store.connect() as conn:
        assert retired_id not in set(load_parks(conn).id.tolist())  # nor scored
    third = import_parks(store, _park_file(tmp_path, ["a", "b", "c"], "p3.geojson"), settings=settings,
                         source="prov", snapshot=True)
    assert (third.revived, third.retired, third.unchanged, third.stored) == (1, 0, 3, 0)
    assert _ids(store, schema.parks, current=False) == set()
    with store.connect() as conn:
        batches = conn.execute(sa.select(schema.import_batches.c.retired, schema.import_batches.c.revived)
                               .order_by(schema.import_batches.c.id)).all()
    assert [tuple(b) for b in batches] == [(0, 0), (1, 0), (0, 1)]


def _store_id(store, source_id: str) -> int:
    with store.connect() as conn:
        return int(conn.execute(sa.select(schema.parks.c.id).where(schema.parks.c.source_id == source_id)).scalar_one())


def test_without_snapshot_nothing_is_retired_and_other_sources_are_untouched(store, settings, tmp_path) -> None:
    import_parks(store, _park_file(tmp_path, ["a", "b"]), settings=settings, source="one")
    import_parks(store, _park_file(tmp_path, ["x"], "x.geojson"), settings=settings, source="two")
    partial = import_parks(store, _park_file(tmp_path, ["a"], "a.geojson"), settings=settings, source="one")
    assert partial.retired == 0 and _ids(store, schema.parks, current=True) == {"a", "b", "x"}
    snap = import_parks(store, _park_file(tmp_path, ["a"], "a2.geojson"), settings=settings, source="one",
                        snapshot=True)
    assert snap.retired == 1 and _ids(store, schema.parks, current=True) == {"a", "x"}


def test_an_empty_snapshot_is_refused_rather_than_retiring_everything(store, settings, tmp_path) -> None:
    import_signals(store, write_csv(tmp_path / "s.csv", ["source_id", "date", "x", "y"],
                                    [["s1", "2024-01-01", RD_X, RD_Y]]),
                   settings=settings, signal_type="complaint", crs="EPSG:28992", source="feed")
    empty = write_csv(tmp_path / "e.csv", ["source_id", "date", "x", "y"], [])
    try:
        import_signals(store, empty, settings=settings, signal_type="complaint", crs="EPSG:28992", source="feed",
                       snapshot=True)
        raise AssertionError("an empty snapshot must be refused")
    except FileRefused as exc:
        assert "retire every signal" in str(exc)
    assert _ids(store, schema.signals, current=True) == {"s1"}


def test_a_signal_snapshot_retires_and_revives_and_scoring_and_maps_leave_retired_out(store, settings,
                                                                                      tmp_path) -> None:
    import_parks(store, _park_file(tmp_path, ["a"]), settings=settings, source="prov")
    header = ["source_id", "date", "x", "y"]
    rows = [[f"s{i}", "2025-06-01", RD_X + 50, RD_Y + 50] for i in range(4)]
    first = import_signals(store, write_csv(tmp_path / "1.csv", header, rows), settings=settings,
                           signal_type="complaint", crs="EPSG:28992", source="feed", snapshot=True)
    assert first.created == 4
    second = import_signals(store, write_csv(tmp_path / "2.csv", header, rows[:2]), settings=settings,
                            signal_type="complaint", crs="EPSG:28992", source="feed", snapshot=True)
    assert (second.retired, second.unchanged, second.read) == (2, 2, 2)
    assert _ids(store, schema.signals, current=False) == {"s2", "s3"}
    park_id = _store_id(store, "a")
    shown, total = reads.park_signals(store, park_id)
    assert total == 2 and {s["id"] for s in shown}
    assert len(reads.recent_signals(store, dt.date(2025, 1, 1))) == 2
    run = score_run(store, settings)
    assert run["input_counts"]["signals"] == 2  # the retired ones count for nothing
    third = import_signals(store, write_csv(tmp_path / "3.csv", header, rows), settings=settings,
                           signal_type="complaint", crs="EPSG:28992", source="feed")
    assert (third.revived, third.unchanged) == (2, 4)
    assert _ids(store, schema.signals, current=False) == set()


def test_the_live_park_index_drops_retired_parks(store, settings, tmp_path) -> None:
    rt = Runtime(settings, store)
    import_parks(store, _park_file(tmp_path, ["a", "b"]), settings=settings, source="prov")
    index = rt.park_index()
    assert len(index) == 2
    import_parks(store, _park_file(tmp_path, ["a"], "a.geojson"), settings=settings, source="prov", snapshot=True)
    index = rt.park_index()
    assert len(index) == 1
    assert index.locate(RD_X + 1050, RD_Y + 50)[0] is None  # park b's ground belongs to nobody now
    # signals that lay in the retired park were re-assigned without it
    result = import_signal_records(store, [{"source_id": "x", "type": "complaint", "date": "2025-01-01",
                                            "x": RD_X + 1050, "y": RD_Y + 50}], settings=settings,
                                   source="api", crs="EPSG:28992", index=index)
    assert result.assignment["unassigned"] == 1


def _running_batch(store, pid: int, host: str, beat: dt.datetime) -> int:
    with store.begin() as conn:
        return int(conn.execute(schema.import_batches.insert().values(
            kind="signals", source="feed", status="running", pid=pid, host=host, heartbeat_at=beat,
        ).returning(schema.import_batches.c.id)).scalar_one())


def test_a_batch_left_running_by_a_killed_process_is_failed_and_the_next_import_proceeds(store, settings,
                                                                                         tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    killed = _running_batch(store, int(dead.stdout), socket.gethostname(), now)
    alive = _running_batch(store, os.getpid(), socket.gethostname(), now - dt.timedelta(hours=5))
    far_old = _running_batch(store, 1, "another-host", now - dt.timedelta(hours=1))
    far_new = _running_batch(store, 1, "another-host", now)
    result = import_signals(store, write_csv(tmp_path / "s.csv", ["source_id", "date", "x", "y"],
                                             [["s1", "2024-01-01", RD_X, RD_Y]]),
                            settings=settings, signal_type="complaint", crs="EPSG:28992", source="feed")
    assert result.stored == 1
    status = {b["id"]: b for b in reads.iter_batches(store)}
    assert status[killed]["status"] == "failed" and "stopped without finishing" in status[killed]["error"]
    assert status[far_old]["status"] == "failed"
    assert status[alive]["status"] == "running" and status[far_new]["status"] == "running"
    assert status[result.batch_id]["pid"] == os.getpid() and status[result.batch_id]["status"] == "done"
    with store.begin() as conn:
        assert fail_stale_batches(conn) == []

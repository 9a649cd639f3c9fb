"""Reads of import batches: rejected rows of a batch (NotFound for an unknown one) and the recent batches."""
from __future__ import annotations

import pytest

from service.ingest import FileRefused, import_signals
from service.reads import NotFound, iter_batches, rejected_rows
from tests.helpers import write_csv

RD_X, RD_Y = 180_000, 470_000


def _import(store, settings, tmp_path, rows, name="s.csv", source=None):
    path = write_csv(tmp_path / name, ["source_id", "date", "x", "y"], rows)
    return import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992", source=source)


def test_rejected_rows_in_file_order_with_field_reason_and_raw_row(store, settings, tmp_path) -> None:
    result = _import(store, settings, tmp_path, [
        ["a", "2024-01-01", RD_X, RD_Y],
        ["b", "", RD_X, RD_Y],
        ["c", "2024-01-01", "abc", RD_Y],
        ["a", "2024-01-02", RD_X, RD_Y],
    ])
    rows = rejected_rows(store, result.batch_id)
    assert [r["row_number"] for r in rows] == [2, 3, 4]
    assert rows[0] == {"row_number": 2, "field": "date", "reason": "date is missing",
                       "raw": {"source_id": "b", "date": "", "x": str(RD_X), "y": str(RD_Y)}}
    assert rows[1]["field"] == "x" and rows[1]["reason"] == "x 'abc' is not a number"
    assert rows[2]["reason"] == "duplicate id 'a' in this file (first on row 1)"


def test_rejected_rows_of_a_clean_batch_is_empty(store, settings, tmp_path) -> None:
    result = _import(store, settings, tmp_path, [["a", "2024-01-01", RD_X, RD_Y]])
    assert rejected_rows(store, result.batch_id) == []


def test_rejected_rows_reads_inside_an_open_connection(store, settings, tmp_path) -> None:
    result = _import(store, settings, tmp_path, [["a", "", RD_X, RD_Y]])
    with store.connect() as conn:
        (row,) = rejected_rows(conn, result.batch_id)
    assert row["reason"] == "date is missing"


def test_unknown_batch_is_not_found(store) -> None:
    with pytest.raises(NotFound) as caught:
        rejected_rows(store, 4242)
    assert str(caught.value) == "no import batch with id 4242"
    # Callers that still catch KeyError (or LookupError) keep working.
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, LookupError)


def test_iter_batches_newest_first_within_the_limit(store, settings, tmp_path) -> None:
    first = _import(store, settings, tmp_path, [["a", "2024-01-01", RD_X, RD_Y]], source="one")
    second = _import(store, settings, tmp_path, [["b", "", RD_X, RD_Y]], name="t.csv", source="two")
    with pytest.raises(FileRefused):
        import_signals(store, tmp_path / "missing.csv", settings=settings, signal_type="complaint")
    batches = iter_batches(store)
    assert [b["status"] for b in batches] == ["failed", "done", "done"]
    assert [b["id"] for b in batches[1:]] == [second.batch_id, first.batch_id]
    assert batches[0]["error"].endswith("does not exist")
    assert (batches[1]["source"], batches[1]["read"], batches[1]["rejected"]) == ("two", 1, 1)
    assert [b["id"] for b in iter_batches(store, limit=1)] == [batches[0]["id"]]
    with store.connect() as conn:
        assert iter_batches(conn, limit=2) == batches[:2]


def test_no_batches_yet(store) -> None:
    assert iter_batches(store) == []


def test_batches_say_who_ran_them_and_what_a_snapshot_did(store, settings, tmp_path) -> None:
    import os
    import socket

    _import(store, settings, tmp_path, [["a", "2024-01-01", RD_X, RD_Y], ["b", "2024-01-01", RD_X, RD_Y]],
            source="feed")
    path = write_csv(tmp_path / "snap.csv", ["source_id", "date", "x", "y"], [["a", "2024-01-01", RD_X, RD_Y]])
    import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992", source="feed",
                   snapshot=True)
    latest, first = iter_batches(store)
    assert (latest["retired"], latest["revived"], first["retired"]) == (1, 0, 0)
    assert (latest["pid"], latest["host"]) == (os.getpid(), socket.gethostname())
    assert latest["heartbeat_at"] is not None and latest["options"]["snapshot"] is True

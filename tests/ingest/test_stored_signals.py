"""What a source already has: the packed read (SQLite, large sources) gives exactly what the row read gives."""
from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from service.ingest import import_signals, stored_signals
from service.ingest.stored_signals import Existing
from service.store import schema
from tests.helpers import write_csv

RD_X, RD_Y = 180_000, 470_000


def _import(store, settings, tmp_path, source, n, start=0):
    rows = [[f"{source}-{i}", "2024-03-01", RD_X + i, RD_Y, f"v{i % 5}"] for i in range(start, start + n)]
    path = write_csv(tmp_path / f"{source}.csv", ["source_id", "date", "x", "y", "note"], rows)
    import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992", source=source)


def _as_dict(existing: Existing) -> dict[str, tuple[int, str, bool]]:
    return {sid: (int(i), str(h), bool(r)) for sid, i, h, r in
            zip(existing.index, existing.ids, existing.hashes, existing.retired)}


def _truth(store, source):
    s = schema.signals
    with store.connect() as conn:
        rows = conn.execute(sa.select(s.c.source_id, s.c.id, s.c.row_hash, s.c.retired_at)
                            .where(s.c.source == source))
        return {r.source_id: (r.id, r.row_hash, r.retired_at is not None) for r in rows}


@pytest.fixture
def packed(monkeypatch):
    """Small sources take the packed path, over several pages of row ids."""
    monkeypatch.setattr(stored_signals, "PACKED_FROM", 10)
    monkeypatch.setattr(stored_signals, "PACKED_PAGE", 7)


def test_packed_read_matches_the_table(store, settings, tmp_path, packed, monkeypatch) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the packed read is SQLite's")
    _import(store, settings, tmp_path, "a", 40)
    _import(store, settings, tmp_path, "b", 15)  # interleaved ids of another source on the same pages
    with store.begin() as conn:
        conn.execute(schema.signals.update().where(schema.signals.c.source_id.in_(["a-3", "a-30"]))
                     .values(retired_at=sa.func.current_timestamp()))
    calls = []
    real = stored_signals._read_packed
    monkeypatch.setattr(stored_signals, "_read_packed", lambda c, s: calls.append(s) or real(c, s))
    with store.connect() as conn:
        existing = Existing.load(conn, "a")
        assert real(conn, "a") is not None  # it did take the packed path
    got = _as_dict(existing)
    assert got == _truth(store, "a")
    assert len(got) == 40 and got["a-3"][2] and got["a-30"][2] and not got["a-4"][2]
    assert calls == ["a"]
    # Positions come from the index whatever order the ids were read in.
    pos = existing.positions(np.array(["a-39", "nope", "a-0"], dtype=object))
    assert pos[1] == -1 and existing.index[pos[0]] == "a-39" and existing.index[pos[2]] == "a-0"


def test_small_share_and_separator_fall_back_to_rows(store, settings, tmp_path, packed) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("the packed read is SQLite's")
    _import(store, settings, tmp_path, "big", 60)
    _import(store, settings, tmp_path, "small", 12)
    with store.connect() as conn:
        assert stored_signals._read_packed(conn, "small") is None  # 12 of 72 ids: read through the index
        assert _as_dict(Existing.load(conn, "small")) == _truth(store, "small")
    with store.begin() as conn:  # a source id holding the separator, written around the import's cleaning
        conn.execute(schema.signals.update().where(schema.signals.c.source_id == "big-5")
                     .values(source_id="big\x1f5"))
    with store.connect() as conn:
        assert stored_signals._read_packed(conn, "big") is None
        assert _as_dict(Existing.load(conn, "big")) == _truth(store, "big")


def test_an_unchanged_re_import_through_the_packed_read(store, settings, tmp_path, packed) -> None:
    _import(store, settings, tmp_path, "s", 30)
    rows = [[f"s-{i}", "2024-03-01", RD_X + i + (5 if i == 7 else 0), RD_Y, f"v{i % 5}"] for i in range(30)]
    path = write_csv(tmp_path / "again.csv", ["source_id", "date", "x", "y", "note"], rows)
    again = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992", source="s")
    assert (again.read, again.unchanged, again.updated, again.created) == (30, 29, 1, 0)

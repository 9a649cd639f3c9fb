"""What a source already has in the signals table: its source ids, row ids, content hashes and retired flags.

A re-import compares every row of the file with these, so reading them is on the re-import's critical path:
the main thread validates the first chunk meanwhile and then waits for them. On SQLite a large source is
read as four long strings, one ``group_concat`` per column, instead of a million tuples: the driver makes
one step per query, so the GIL is let go while SQLite scans (a row per step takes the GIL back a million
times), and Python splits four strings in C instead of building four million objects. For 1M signals this
takes ~0.6 s instead of ~1.2 s, and the import's main thread keeps working meanwhile.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import schema

__all__ = ["Existing"]

#: A source with at least this many signals, holding at least :data:`PACKED_SHARE` of the table's id range,
#: is read packed; smaller ones use the unique index row by row (a table scan would visit mostly others).
PACKED_FROM = 50_000
PACKED_SHARE = 0.25
#: Row ids per packed query: keeps each string well under SQLite's 1 GB limit on a value's length.
PACKED_PAGE = 1_000_000
#: Separates source ids in the packed string: the import removes control characters from source ids, and a
#: stored one that held it anyway is noticed (the counts differ) and read row by row instead.
_SEP = "\x1f"
_PACKED_SQL = ("SELECT group_concat(source_id, char(31)), group_concat(id), group_concat(row_hash, char(31)), "
               "group_concat(retired_at IS NOT NULL, '') FROM signals NOT INDEXED "
               "WHERE id > ? AND id <= ? AND source = ?")


@dataclass
class Existing:
    """The signals a source already has: source ids (indexed), row ids, hashes and whether each is retired.

    ``seen`` marks the ones the current import holds (for ``--snapshot``).
    """

    index: pd.Index
    ids: np.ndarray
    hashes: np.ndarray
    retired: np.ndarray
    seen: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.seen = np.zeros(len(self.ids), dtype=bool)

    @classmethod
    def load(cls, conn: Connection, source: str) -> Existing:
        columns = _read_packed(conn, source) if conn.dialect.name == "sqlite" else None
        if columns is None:
            columns = _read_rows(conn, source)
        sids, ids, hashes, retired = columns
        if not len(ids):
            return cls(pd.Index([], dtype=object), np.empty(0, np.int64), np.empty(0, object), np.empty(0, bool))
        index = pd.Index(np.array(sids, dtype=object), dtype=object)
        # Build the index's hash table here, on the writer thread while the first chunk is read, instead of
        # in the first lookup on the import's main thread (~0.3 s for a million ids).
        if not index.is_unique:
            raise ValueError(f"source {source!r} holds a source id twice")  # the unique constraint forbids it
        return cls(index, ids, hashes, retired)

    def positions(self, source_ids: np.ndarray) -> np.ndarray:
        """Position of each source id among the stored ones (-1: new), marking them seen."""
        if not len(self.ids):
            return np.full(len(source_ids), -1, dtype=np.int64)
        pos = np.asarray(self.index.get_indexer(pd.Index(source_ids, dtype=object)), dtype=np.int64)
        self.seen[pos[pos >= 0]] = True
        return pos


_Columns = tuple[list[str], np.ndarray, np.ndarray, np.ndarray]


def _read_rows(conn: Connection, source: str) -> _Columns:
    """Row by row through the unique index (the driver's own tuples on SQLite)."""
    s = schema.signals
    rows: Sequence[Any]
    if conn.dialect.name == "sqlite":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            rows = cursor.execute("SELECT source_id, id, row_hash, retired_at IS NOT NULL FROM signals "
                                  "WHERE source = ?", (source,)).fetchall()
        finally:
            cursor.close()
    else:
        rows = conn.execute(sa.select(s.c.source_id, s.c.id, s.c.row_hash, s.c.retired_at.is_not(None))
                            .where(s.c.source == source)).all()
    # One column at a time with itemgetter (C): zip(*rows) over a million tuples costs a second.
    sids, ids, hashes, retired = (list(map(itemgetter(k), rows)) for k in range(4))
    return sids, np.array(ids, dtype=np.int64), np.array(hashes, dtype=object), np.array(retired, dtype=bool)


def _read_packed(conn: Connection, source: str) -> _Columns | None:
    """SQLite, a large source: its columns as long strings, page by page of row ids; None to read row by row.

    All four aggregates of one query run over the same rows in the same order (one scan feeds them all),
    and none of the columns can be NULL (``source_id`` and ``row_hash`` are NOT NULL; the flag is 0 or 1), so
    the i-th part of each string belongs to the same row.
    """
    driver: Any = conn.connection.driver_connection
    cursor = driver.cursor()
    try:
        count = cursor.execute("SELECT count(*) FROM signals WHERE source = ?", (source,)).fetchone()[0]
        top = cursor.execute("SELECT max(id) FROM signals").fetchone()[0] or 0
        if count < PACKED_FROM or count < PACKED_SHARE * top:
            return None
        sids: list[str] = []
        ids, hashes, retired = [], [], []
        for low in range(0, top, PACKED_PAGE):
            s, i, h, r = cursor.execute(_PACKED_SQL, (low, low + PACKED_PAGE, source)).fetchone()
            if i is None:
                continue
            page_ids = np.array(i.split(","), dtype=np.int64)
            page_sids, page_hashes = s.split(_SEP), h.split(_SEP)
            if not len(page_sids) == len(page_hashes) == len(page_ids):
                return None  # a stored source id (or hash) holds the separator
            sids.extend(page_sids)
            ids.append(page_ids)
            hashes.append(np.array(page_hashes, dtype=object))
            retired.append(np.frombuffer(r.encode("ascii"), dtype=np.uint8) == ord("1"))
    finally:
        cursor.close()
    if len(sids) != count:
        return None  # rows came or went between the queries: cannot happen inside the import's transaction
    return sids, np.concatenate(ids), np.concatenate(hashes), np.concatenate(retired)  # count > 0: pages read

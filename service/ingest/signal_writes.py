"""Signal writes: content hashes, what a source already has, the bulk insert, updates and their changes.

Everything here works on whole columns: a million rows are hashed, looked up and turned into insert
parameters with a handful of numpy/pandas calls, not a Python loop of dicts (see ``bench/assign.py``).
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ..store import ID_GROUP, in_groups, schema
from .batches import WRITE_BATCH, plain

__all__ = [
    "BulkLoad",
    "COPY_ON_POSTGRESQL",
    "INSERT_COLUMNS",
    "RETURNING_LIMIT",
    "iso_dates",
    "WriteCounts",
    "attributes_json",
    "insert_signals",
    "signal_hashes",
    "signal_params",
    "update_signals",
]

#: Up to this many new signals per chunk are inserted with RETURNING (their ids go back to the caller);
#: larger loads take the bulk path without ids.
RETURNING_LIMIT = 20_000
#: Bulk loads into PostgreSQL use COPY; ``bench/pg_import.py`` turns it off to measure the multi-row INSERT.
COPY_ON_POSTGRESQL = True
#: Rows per executemany on the bulk path (no RETURNING, so bigger groups pay off).
_BULK_GROUP = WRITE_BATCH * 4

#: The insert's columns, in the order of :func:`signal_params`' tuples.
INSERT_COLUMNS = ("source", "source_id", "type", "subtype", "date", "x", "y", "park_id", "assignment",
                  "distance_m", "attributes", "row_hash", "batch_id")
_SIGNAL_DIFF_FIELDS = ("type", "subtype", "date", "x", "y", "park_id", "assignment", "attributes")
_HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def attributes_json(attributes: Sequence[dict[str, Any]]) -> list[str]:
    """Each row's attributes as strict JSON text, encoded once for hashing and writing."""
    dumps = json.dumps
    return [dumps(a, sort_keys=True, ensure_ascii=False, allow_nan=False) if a else "{}" for a in attributes]


def _hex(h: np.ndarray) -> np.ndarray:
    """64-bit hashes as 16 hex digits (vectorised: a table lookup per byte)."""
    raw = _HEX[h.astype(">u8").view(np.uint8).reshape(-1, 8)]
    return np.ascontiguousarray(raw).view("S16").ravel().astype("U16").astype(object)


def _hash_values(values: np.ndarray) -> np.ndarray:
    """A stable 64-bit hash per value; repeated values (types, empty attributes, dates) are hashed once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return pd.util.hash_array(np.asarray(uniques, dtype=object))[codes]


def signal_hashes(frame: pd.DataFrame) -> np.ndarray:
    """Content hash per signal row (its input, not its assignment), as hex text; needs ``attributes_json``.

    Columns are hashed as what they are (numbers as numbers, not formatted text) and mixed FNV-style; the
    hash is stable across processes and machines (pandas' hashing uses a fixed key).
    """
    parts = [
        _hash_values(frame["type"].to_numpy(dtype=object)),
        _hash_values(frame["subtype"].fillna("").to_numpy(dtype=object)),
        pd.util.hash_array(frame["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)),
        pd.util.hash_array(np.round(frame["x"].to_numpy(dtype=float), 2)),
        pd.util.hash_array(np.round(frame["y"].to_numpy(dtype=float), 2)),
        pd.util.hash_array(frame["explicit_park"].to_numpy(dtype=np.int64)),
        _hash_values(frame["attributes_json"].to_numpy(dtype=object)),
    ]
    h = np.full(len(frame), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for part in parts:
            h = (h ^ part) * np.uint64(0x100000001B3)
    return _hex(h)


def iso_dates(days: np.ndarray) -> list[str]:
    """Dates as ISO text, formatted once per distinct day."""
    if not len(days):
        return []
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    return np.datetime_as_string(unique, unit="D").astype(object)[inverse.ravel()].tolist()


@dataclass
class WriteCounts:
    """What the writer learned while writing (merged into the import result once it has finished)."""

    updated: int = 0
    unchanged: int = 0
    signal_ids: list[int] = field(default_factory=list)
    parks: set[int] = field(default_factory=set)


def _nullable(values: np.ndarray, as_int: bool = False) -> np.ndarray:
    """Numbers as Python objects with None for NaN (what the driver stores as NULL); ``as_int`` for ids."""
    finite = np.isfinite(values)
    out = (np.where(finite, values, 0).astype(np.int64) if as_int else values).astype(object)
    out[~finite] = None
    return out


def signal_params(frame: pd.DataFrame, source: str, batch_id: int) -> np.ndarray:
    """The insert's parameters: one row per signal, one column per :data:`INSERT_COLUMNS` entry, as Python
    objects (dates as ISO text, None for missing).

    A 2-D object array rather than a million tuples: it is filled column by column in C, a bulk insert takes
    thousands of its rows per statement as one ``ravel().tolist()``, and the new rows of a chunk are picked
    with a mask (building and flattening tuples cost the 1M-row import ~0.6 s of GIL on both threads).
    """
    out = np.empty((len(frame), len(INSERT_COLUMNS)), dtype=object)
    sub = frame["subtype"].to_numpy(dtype=object).copy()
    sub[pd.isna(sub) | (sub == "")] = None
    columns = {
        "source": source, "source_id": frame["source_id"].to_numpy(dtype=object), "type":
        frame["type"].to_numpy(dtype=object), "subtype": sub,
        "date": iso_dates(frame["date"].to_numpy(dtype="datetime64[D]")),
        "x": _nullable(frame["x"].to_numpy(dtype=float)), "y": _nullable(frame["y"].to_numpy(dtype=float)),
        "park_id": _nullable(frame["park_id"].to_numpy(dtype="float64", na_value=np.nan), as_int=True),
        "assignment": frame["assignment"].to_numpy(dtype=object),
        "distance_m": _nullable(frame["distance_m"].to_numpy(dtype=float)),
        "attributes": frame["attributes_json"].to_numpy(dtype=object),
        "row_hash": frame["row_hash"].to_numpy(dtype=object), "batch_id": batch_id,
    }
    for k, name in enumerate(INSERT_COLUMNS):
        out[:, k] = columns[name]
    return out


def _core_row(params: Sequence[Any]) -> dict[str, Any]:
    """A parameter row as SQLAlchemy Core takes it (dates as dates, attributes as JSON values)."""
    row = dict(zip(INSERT_COLUMNS, params))
    row["date"] = dt.date.fromisoformat(row["date"])
    row["attributes"] = json.loads(row["attributes"])
    return row


def _rows_per_statement(conn: Connection) -> int:
    """Rows per multi-row INSERT on SQLite: as many as its limit on bound variables allows.

    Few, large statements matter with a second thread: the driver lets go of the GIL once per statement and
    waits for it again afterwards, so 2,000 statements of 500 rows cost the 1M-row import ~4 s of waiting
    while the main thread validates; 400 of 2,520 rows cost a fifth of that."""
    driver: Any = conn.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(driver, "getlimit") else 999
    return max(1, limit // len(INSERT_COLUMNS))


def _insert_bulk(conn: Connection, params: np.ndarray) -> None:
    """Bulk insert without RETURNING. On PostgreSQL the rows are streamed with COPY (0.37 of the time of
    multi-row INSERTs for 1M signals: ``bench/pg_import.py``). On SQLite the rows go straight to the driver
    (JSON already encoded, dates as ISO text: exactly what SQLAlchemy would store, at a fraction of the cost),
    thousands of rows per statement: the driver lets go of the GIL once per statement, so the import's other
    thread keeps working (one row per statement hands the GIL over a million times, and both threads crawl): see
    :func:`_rows_per_statement`."""
    if conn.dialect.name == "postgresql" and COPY_ON_POSTGRESQL:
        _copy_rows(conn, params)
        return
    if conn.dialect.name != "sqlite":
        conn.execute(schema.signals.insert(), [_core_row(p) for p in params])
        return
    one = "(" + ", ".join("?" for _ in INSERT_COLUMNS) + ")"
    head = f"INSERT INTO signals ({', '.join(INSERT_COLUMNS)}) VALUES "
    k = _rows_per_statement(conn)
    full = len(params) - len(params) % k
    if full:
        flat = [tuple(params[i:i + k].ravel().tolist()) for i in range(0, full, k)]
        conn.exec_driver_sql(head + ", ".join([one] * k), flat)
    if full < len(params):  # the rest in one statement of its own size, not row by row
        rest = params[full:]
        conn.exec_driver_sql(head + ", ".join([one] * len(rest)), tuple(rest.ravel().tolist()))


def _copy_rows(conn: Connection, params: np.ndarray) -> None:
    """PostgreSQL: the rows streamed with ``COPY ... FROM STDIN`` on the import's own connection and transaction
    (a rollback takes them back like any insert). Dates as ISO text and attributes as JSON text are what COPY's
    text format takes for ``date`` and ``json`` columns."""
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cur, cur.copy(f"COPY signals ({', '.join(INSERT_COLUMNS)}) FROM STDIN") as copy:
        for row in params.tolist():
            copy.write_row(row)


class BulkLoad:
    """A load that is large against the signals table, on SQLite: its secondary indexes are dropped before
    the first bulk insert and built again at the end, inside the import's transaction.

    Measured with 1M signals: keeping ``(park_id, date)`` and ``(type, date)`` current row by row costs ~11 s
    of CPU (random keys, B-trees larger than the page cache); building them afresh afterwards ~1.2 s. Readers
    are not affected: in WAL mode they see the committed tables, indexes included, until the import commits,
    and an import that fails rolls the drop back with everything else. PostgreSQL keeps its indexes (a drop
    would lock readers out for the whole import).
    """

    #: A load of at least this share of the rows already stored rebuilds rather than maintains.
    SHARE = 0.25
    #: Page cache for the import's connection (KiB, negative as SQLite wants it): index pages stay in memory.
    CACHE_KIB = 65_536
    #: While the indexes are built: a small cache and two sorter threads. SQLite sizes the sorter's runs by
    #: the cache, so a small one sorts many short runs (on both cores) and merges them, instead of one run of a
    #: million keys: the two indexes of 1M signals take ~1.2 s instead of ~2.4 s.
    BUILD_CACHE_KIB = 2_048
    BUILD_THREADS = 2

    def __init__(self, expected_rows: int | None) -> None:
        self.expected_rows = expected_rows
        self.decided = False
        self.dropped: list[sa.Index] = []
        self._cache: Any = None

    def start(self, conn: Connection, chunk_rows: int) -> None:
        """Before the first bulk insert: a larger page cache, and the decision whether to rebuild."""
        if self.decided or conn.dialect.name != "sqlite":
            return
        self.decided = True
        self._cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{self.CACHE_KIB}")
        stored = conn.execute(sa.select(sa.func.count()).select_from(schema.signals)).scalar_one()
        if max(self.expected_rows or 0, chunk_rows) < self.SHARE * stored:
            return
        # The driver opens a transaction only before INSERT/UPDATE/DELETE: without one, DROP INDEX would be
        # committed at once and survive a failed import. Open it first, so the drop rolls back with the rest.
        if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        for index in sorted(schema.signals.indexes, key=lambda i: str(i.name)):
            if not index.unique:
                index.drop(conn, checkfirst=True)
                self.dropped.append(index)

    def finish(self, conn: Connection) -> None:
        """Build the dropped indexes again and give the connection its usual page cache back."""
        if self.dropped:
            threads = conn.exec_driver_sql("PRAGMA threads").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{self.BUILD_CACHE_KIB}")
            conn.exec_driver_sql(f"PRAGMA threads={self.BUILD_THREADS}")
            try:
                for index in self.dropped:
                    index.create(conn, checkfirst=True)
            finally:
                conn.exec_driver_sql(f"PRAGMA threads={int(threads or 0)}")
        self.dropped = []
        if self._cache is not None:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(self._cache)}")
            self._cache = None


def insert_signals(conn: Connection, params: np.ndarray, counts: WriteCounts, bulk: BulkLoad | None = None) -> None:
    """Insert new signals (rows of :func:`signal_params`): with RETURNING (ids to ``counts``) up to
    :data:`RETURNING_LIMIT`, else in bulk."""
    s = schema.signals
    if not len(params):
        return
    if len(params) <= RETURNING_LIMIT:
        ids = conn.execute(s.insert().returning(s.c.id), [_core_row(p) for p in params.tolist()]).scalars().all()
        counts.signal_ids.extend(int(i) for i in ids)
    else:
        if bulk is not None:
            bulk.start(conn, len(params))
        for start in range(0, len(params), _BULK_GROUP):
            _insert_bulk(conn, params[start:start + _BULK_GROUP])


def _jsonable(v: Any) -> Any:
    """Dates as ISO text and JSON text as values, so a change record compares them like the JSON column."""
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def _signal_diff(old: Row[Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """What changed in a signal, field by field as ``[old, new]``."""
    return {k: [plain(_jsonable(getattr(old, k))), plain(_jsonable(new[k]))] for k in _SIGNAL_DIFF_FIELDS
            if plain(_jsonable(getattr(old, k))) != plain(_jsonable(new[k]))}


def update_signals(conn: Connection, updates: list[tuple[list[Any], int]], batch_id: int,
                   counts: WriteCounts) -> None:
    """Overwrite changed signals and record each change (old and new values) with the batch.

    A row whose hash differs but whose stored fields are all equal (a hash written by an older Parkwacht)
    is unchanged: only its hash is refreshed.
    """
    s = schema.signals
    olds: dict[int, Any] = {}
    for group in in_groups([pk for _, pk in updates], ID_GROUP):
        for row in conn.execute(sa.select(s).where(s.c.id.in_(group))):
            olds[row.id] = row
    changes, values, refresh = [], [], []
    for params, pk in updates:
        new = _core_row(params)
        old = olds[pk]
        diff = _signal_diff(old, new)
        if not diff:
            refresh.append({"b_id": pk, "b_hash": new["row_hash"]})
            continue
        values.append({"b_id": pk, **{f"b_{k}": v for k, v in new.items() if k not in ("source", "source_id")}})
        changes.append({"batch_id": batch_id, "entity": "signal", "entity_id": pk, "source_id": new["source_id"],
                        "changes": diff})
        for p in (old.park_id, new["park_id"]):
            if p is not None:
                counts.parks.add(int(p))
        counts.signal_ids.append(pk)
    if values:
        cols = [c for c in INSERT_COLUMNS if c not in ("source", "source_id")]
        stmt = s.update().where(s.c.id == sa.bindparam("b_id")).values(
            **{c: sa.bindparam(f"b_{c}", type_=s.c[c].type) for c in cols})
        for part in in_groups(values, WRITE_BATCH):
            conn.execute(stmt, part)
    if refresh:
        stmt = s.update().where(s.c.id == sa.bindparam("b_id")).values(row_hash=sa.bindparam("b_hash"))
        for part in in_groups(refresh, WRITE_BATCH):
            conn.execute(stmt, part)
    for part in in_groups(changes, WRITE_BATCH):
        conn.execute(schema.import_changes.insert(), part)
    counts.updated += len(changes)
    counts.unchanged += len(refresh)

"""Signal writes: content hashes, row dicts for the store, the bulk insert and updates with their changes."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ..store import ID_GROUP, in_groups, schema
from .batches import WRITE_BATCH, ImportResult, plain

__all__ = [
    "RETURNING_LIMIT",
    "existing_signals",
    "insert_signals",
    "signal_hashes",
    "signal_rows",
    "update_signals",
]

#: Up to this many new signals per chunk are inserted with RETURNING (their ids go back to the caller);
#: larger loads take the bulk path without ids.
RETURNING_LIMIT = 20_000
#: Rows per executemany on the bulk path (no RETURNING, so bigger groups pay off).
_BULK_GROUP = WRITE_BATCH * 4

_SIGNAL_INSERT_COLUMNS = ("source", "source_id", "type", "subtype", "date", "x", "y", "park_id", "assignment",
                          "distance_m", "attributes", "row_hash", "batch_id")
_SIGNAL_DIFF_FIELDS = ("type", "subtype", "date", "x", "y", "park_id", "assignment", "attributes")


def signal_hashes(frame: pd.DataFrame) -> np.ndarray:
    """Content hash per signal row (input only, not the assignment), vectorised.

    Also leaves each row's attributes serialised in ``attributes_json``, so they are encoded only once.
    """
    attrs = [json.dumps(a, sort_keys=True, default=str, ensure_ascii=False) for a in frame["attributes"]]
    frame["attributes_json"] = attrs
    basis = pd.DataFrame({
        "type": frame["type"].astype(str),
        "subtype": frame["subtype"].astype(str),
        "date": frame["date"].astype(str),
        "x": frame["x"].round(2).astype(str),
        "y": frame["y"].round(2).astype(str),
        "park": frame["explicit_park"].astype(str),
        "attrs": pd.Series(attrs, index=frame.index, dtype=object),
    })
    h = pd.util.hash_pandas_object(basis, index=False).to_numpy(dtype=np.uint64)
    return np.char.mod("%016x", h).astype(object)


def existing_signals(conn: Connection, source: str) -> dict[str, tuple[int, str]]:
    """``source_id -> (id, row_hash)`` of the signals a source already has, to tell new from changed."""
    s = schema.signals
    rows = conn.execute(sa.select(s.c.source_id, s.c.id, s.c.row_hash).where(s.c.source == source))
    return {sid: (i, h) for sid, i, h in rows}


def signal_rows(frame: pd.DataFrame, source: str, batch_id: int) -> list[dict[str, Any]]:
    """Row dicts for the store (plain Python values: None for missing, int park ids)."""
    def floats(col: str) -> list[float | None]:
        v = frame[col].to_numpy(dtype=float)
        out: list[float | None] = np.asarray(np.where(np.isfinite(v), v, None)).tolist()
        return out

    park = frame["park_id"].to_numpy(dtype="float64", na_value=np.nan)
    park_values: list[float | None] = np.asarray(np.where(np.isfinite(park), park, None)).tolist()
    parks = [None if p is None else int(p) for p in park_values]
    subtypes = [None if v is None or v is pd.NA or v == "" else v for v in frame["subtype"].tolist()]
    return [
        {"source": source, "source_id": sid, "type": typ, "subtype": sub, "date": date, "x": x, "y": y,
         "park_id": park_id, "assignment": asg, "distance_m": dist, "attributes": attrs, "attributes_json": aj,
         "row_hash": h, "batch_id": batch_id}
        for sid, typ, sub, date, x, y, park_id, asg, dist, attrs, aj, h in zip(
            frame["source_id"].tolist(), frame["type"].tolist(), subtypes, frame["date"].tolist(), floats("x"),
            floats("y"), parks, frame["assignment"].tolist(), floats("distance_m"), frame["attributes"].tolist(),
            frame["attributes_json"].tolist(), frame["row_hash"].tolist())
    ]


def _core_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row dict as SQLAlchemy takes it (without the pre-encoded JSON of the bulk path)."""
    return {k: v for k, v in row.items() if k != "attributes_json"}


def _insert_no_returning(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk insert without RETURNING; ids are not needed for big loads.

    On SQLite the rows go straight to the driver's executemany with the JSON already encoded and dates
    as ISO text — exactly what SQLAlchemy would store, at a third of the cost. Other databases take the
    ordinary Core path.
    """
    if conn.dialect.name != "sqlite":
        conn.execute(schema.signals.insert(), [_core_row(r) for r in rows])
        return
    cols = ", ".join(_SIGNAL_INSERT_COLUMNS)
    marks = ", ".join("?" for _ in _SIGNAL_INSERT_COLUMNS)
    params = [
        (r["source"], r["source_id"], r["type"], r["subtype"], r["date"].isoformat(), r["x"], r["y"], r["park_id"],
         r["assignment"], r["distance_m"], r["attributes_json"], r["row_hash"], r["batch_id"])
        for r in rows
    ]
    conn.exec_driver_sql(f"INSERT INTO signals ({cols}) VALUES ({marks})", params)


def insert_signals(conn: Connection, inserts: list[dict[str, Any]], result: ImportResult) -> None:
    """Insert new signals: with RETURNING (ids to ``result``) up to :data:`RETURNING_LIMIT`, else in bulk."""
    s = schema.signals
    if not inserts:
        return
    if len(inserts) <= RETURNING_LIMIT:
        ids = conn.execute(s.insert().returning(s.c.id), [_core_row(r) for r in inserts]).scalars().all()
        result.signal_ids.extend(ids)
    else:
        for group in in_groups(inserts, _BULK_GROUP):
            _insert_no_returning(conn, group)


def _jsonable(v: Any) -> Any:
    """Dates as ISO text, so a change record compares and stores them like the JSON column does."""
    return v.isoformat() if isinstance(v, dt.date) else v


def _signal_diff(old: Row[Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """What changed in a signal, field by field as ``[old, new]``."""
    return {k: [plain(_jsonable(getattr(old, k))), plain(_jsonable(new[k]))] for k in _SIGNAL_DIFF_FIELDS
            if plain(_jsonable(getattr(old, k))) != plain(_jsonable(new[k]))}


def update_signals(conn: Connection, updates: list[tuple[dict[str, Any], tuple[int, str]]],
                   result: ImportResult) -> None:
    """Overwrite changed signals and record each change (old and new values) with the batch."""
    s = schema.signals
    ids = [o[0] for _, o in updates]
    olds: dict[int, Any] = {}
    for group in in_groups(ids, ID_GROUP):
        for row in conn.execute(sa.select(s).where(s.c.id.in_(group))):
            olds[row.id] = row
    changes = []
    for new, (sid_pk, _) in updates:
        old = olds[sid_pk]
        diff = _signal_diff(old, new)
        values = {k: v for k, v in _core_row(new).items() if k not in ("source", "source_id")}
        conn.execute(s.update().where(s.c.id == sid_pk).values(**values))
        changes.append({"batch_id": result.batch_id, "entity": "signal", "entity_id": sid_pk,
                        "source_id": new["source_id"], "changes": diff})
        if old.park_id is not None:
            result.affected_parks.add(int(old.park_id))
        result.signal_ids.append(sid_pk)
    for part in in_groups(changes, WRITE_BATCH):
        conn.execute(schema.import_changes.insert(), part)
    result.updated += len(changes)

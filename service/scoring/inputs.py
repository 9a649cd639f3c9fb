"""Reading the engine's inputs from the store: parks, the signals a model needs, freshness, neighbours.

Only what the model reads leaves the database: the current signals of current parks (a snapshot retires
what its source no longer holds), of the types it uses, dated inside its longest window, assigned to a park
(own, or nearby within the model's distance), and of their attributes only the fields
its factors name (extracted by the database's JSON functions, on SQLite and PostgreSQL alike). Signals are
streamed in chunks, so memory grows with the arrays kept, not with the rows read.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..spatial import ParkIndex
from ..store import schema
from .engine import NeighbourPairs, ParkFrame
from .factors import EPOCH, TYPE_CODES, SignalFrame, day_number
from .model import Model, ModelError, SignalSource

__all__ = ["load_parks", "load_signals", "freshness", "neighbour_pairs", "signal_window_start", "CHUNK_ROWS"]

#: Signal rows fetched per round trip.
CHUNK_ROWS = 250_000
_ID_BATCH = 500


def _id_batches(ids: Sequence[int] | None) -> list[list[int] | None]:
    if ids is None:
        return [None]
    ids = sorted({int(i) for i in ids})
    return [ids[i:i + _ID_BATCH] for i in range(0, len(ids), _ID_BATCH)]


def load_parks(conn: Connection, park_ids: Iterable[int] | None = None) -> ParkFrame:
    """The current parks (all, or those of ``park_ids``) with the attributes a model may read; retired parks
    are not scored."""
    p = schema.parks
    cols = [p.c.id, p.c.unit_count, p.c.area_m2, p.c.operator, p.c.takeover_year, p.c.kind, p.c.attributes]
    rows: list[Any] = []
    for batch in _id_batches(None if park_ids is None else list(park_ids)):
        q = sa.select(*cols).where(schema.current(p))
        if batch is not None:
            q = q.where(p.c.id.in_(batch))
        rows.extend(dict(r._mapping) for r in conn.execute(q))
    return ParkFrame.from_records(rows)


def signal_window_start(model: Model, as_of: dt.date) -> dt.date | None:
    """The earliest date any factor looks at (``None``: some factor looks back without limit)."""
    longest = 0
    for f in model.factors:
        if isinstance(f.source, SignalSource):
            if f.window_days is None:
                return None
            longest = max(longest, f.window_days)
    return as_of - dt.timedelta(days=longest)


def _fields_by_type(model: Model) -> dict[str, list[str]]:
    """Per signal type, the attribute fields its factors read (``subtype`` is a column, listed separately)."""
    out: dict[str, list[str]] = {}
    for f in model.factors:
        if isinstance(f.source, SignalSource):
            names = out.setdefault(f.source.type, [])
            for name in sorted(f.source.fields()):
                if name not in names:
                    names.append(name)
    return out


def _attribute(dialect: str, name: str) -> sa.ColumnElement:
    """One attribute of ``signals.attributes``: native values on SQLite (no per-row cast), text elsewhere."""
    s = schema.signals
    if dialect == "sqlite":
        return sa.func.json_extract(s.c.attributes, f'$."{name}"')
    return s.c.attributes[name].as_string()


_DAYS_1900_1970 = 25_567  # days from 1900-01-01 to 1970-01-01: packed days run from 1900 to 2079
_PACK_FIRST = dt.date(1900, 1, 1)


def _day_column(dialect: str) -> sa.ColumnElement:
    """The date as days since 1970-01-01, computed by the database where it can."""
    s = schema.signals
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(s.c.date) - 2440587.5, sa.Integer)
    if dialect == "postgresql":
        return s.c.date - sa.cast(sa.literal("1970-01-01"), sa.Date)
    return sa.cast(s.c.date, sa.String)


def _signal_query(model: Model, as_of: dt.date, dialect: str, park_ids: list[int] | None) -> tuple[sa.Select, dict]:
    """The one SELECT that reads a model's signals, and how its columns map back to fields.

    Attribute fields are packed into as few columns as possible: column k holds the k-th field of whatever
    type the row has (a CASE on the type), so a million rows cost a few columns, not one per field, and
    a JSON attribute is only extracted for the rows of the types that read it.
    """
    s = schema.signals
    by_type = _fields_by_type(model)
    types = sorted(by_type)
    attr_fields = {t: [n for n in names if n != "subtype"] for t, names in by_type.items()}
    subtype_types = sorted(t for t, names in by_type.items() if "subtype" in names)
    slots = max((len(v) for v in attr_fields.values()), default=0)
    nearby_types = sorted({f.source.type for f in model.factors
                           if isinstance(f.source, SignalSource) and f.source.scope == "nearby"})
    code = sa.case({t: TYPE_CODES[t] for t in types}, value=s.c.type)
    packed = dialect in ("sqlite", "postgresql")
    if packed:
        # Park, day and type in one 64-bit integer: every value a row brings back costs a Python object, and
        # this read brings back a million rows. park_id << 20 | (days since 1900) << 4 | type code.
        key = (sa.cast(s.c.park_id, sa.BigInteger) * (1 << 20) + (_day_column(dialect) + _DAYS_1900_1970) * 16
               + code)
        head: list[sa.ColumnElement] = [s.c.id, key.label("key")]
    else:
        head = [s.c.id, s.c.park_id, code.label("type_code"), _day_column(dialect).label("day")]
    cols: list[sa.ColumnElement] = [
        *head,
        sa.case((s.c.assignment == "nearby", s.c.distance_m), else_=sa.null()).label("near_m"),
        (sa.case((s.c.type.in_(subtype_types), s.c.subtype), else_=sa.null()) if subtype_types
         else sa.null()).label("subtype"),
    ]
    for k in range(slots):
        whens = {t: _attribute(dialect, names[k]) for t, names in attr_fields.items() if len(names) > k}
        cols.append(sa.case(whens, value=s.c.type, else_=sa.null()).label(f"slot{k}"))

    # The (type, date) index is the wrong path for both reads: a full read takes most of the table, where a
    # sequential scan is several times faster than index lookups row by row; a read of a few parks must go
    # through the (park_id, date) index. Wrapping type and date in coalesce() keeps SQLite's planner off the
    # (type, date) index; PostgreSQL plans by cost either way.
    date = sa.func.coalesce(s.c.date, s.c.date)
    stype = sa.func.coalesce(s.c.type, "")
    own = s.c.assignment.in_(("explicit", "inside"))
    scope = sa.or_(own, sa.and_(s.c.assignment == "nearby", s.c.type.in_(nearby_types),
                                s.c.distance_m <= model.nearby_distance_m)) if nearby_types else own
    # Retired signals, and the signals of retired parks, count for nothing (a snapshot of their source no
    # longer holds them); the retired parks are few, so NOT IN their ids costs the scan next to nothing.
    p = schema.parks
    retired_parks = sa.select(p.c.id).where(~schema.current(p)).scalar_subquery()
    q = sa.select(*cols).where(s.c.park_id.is_not(None), date <= as_of, stype.in_(types), scope,
                               schema.current(s), s.c.park_id.not_in(retired_parks))
    start = signal_window_start(model, as_of)
    if packed and (start is None or start < _PACK_FIRST):
        q = q.where(date >= _PACK_FIRST)  # the packed key holds days from 1900 on (a model without windows)
    if start is not None:
        q = q.where(date > start)
    if park_ids is not None:
        q = q.where(s.c.park_id.in_(park_ids))
    layout = {"attr_fields": attr_fields, "slots": slots, "names": sorted(model.signal_fields), "packed": packed}
    return q, layout


_PLACEHOLDER = -987_654_321  # stands in for the park ids in a cached query text
_SQL_CACHE: dict[tuple, tuple[str, dict[str, Any]]] = {}


def _signal_sql(model: Model, as_of: dt.date, dialect: Any, park_ids: list[int] | None) -> tuple[str, dict[str, Any]]:
    """The signal query as SQL text with its values inlined, compiled once per model, date and dialect.

    An incremental update runs it for a handful of parks many times a day; compiling the expression each
    time would cost more than running it.
    """
    key = (model.sha256, as_of, dialect.name, park_ids is None)
    cached = _SQL_CACHE.get(key)
    if cached is None:
        query, layout = _signal_query(model, as_of, dialect.name, None if park_ids is None else [_PLACEHOLDER])
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        if park_ids is not None and sql.count(str(_PLACEHOLDER)) != 1:
            raise RuntimeError("cannot cache the signal query for this dialect")
        if len(_SQL_CACHE) > 64:
            _SQL_CACHE.clear()
        cached = _SQL_CACHE[key] = (sql, layout)
    sql, layout = cached
    if park_ids is not None:
        sql = sql.replace(str(_PLACEHOLDER), ", ".join(str(int(p)) for p in park_ids))
    return sql, layout


def _rows(conn: Connection, sql: str, chunk_rows: int) -> Iterator[Sequence[Sequence[Any]]]:
    """Rows of ``sql`` in chunks, straight from the driver (no per-value type processing: the engine
    converts whole columns at once)."""
    if conn.dialect.name == "sqlite":
        cursor = conn.connection.cursor()  # the DBAPI cursor: SQLite streams rows as they are stepped
        try:
            cursor.execute(sql)
            while True:
                rows = cursor.fetchmany(chunk_rows)
                if not rows:
                    return
                yield rows
        finally:
            cursor.close()
    else:
        # Options of this statement only: Connection.execution_options() would make every later statement on
        # the caller's connection a server-side cursor too (PostgreSQL refuses UPDATEs and executemany there).
        result = conn.exec_driver_sql(sql, execution_options={"stream_results": True, "yield_per": chunk_rows})
        for rows in result.partitions(chunk_rows):
            yield rows


def load_signals(conn: Connection, model: Model, as_of: dt.date, *, park_ids: Iterable[int] | None = None,
                 nearby_limit_m: float | None = None, chunk_rows: int = CHUNK_ROWS,
                 on_chunk: Callable[[int], None] | None = None) -> SignalFrame:
    """The signals ``model`` needs to score parks as of ``as_of`` (all parks, or only ``park_ids``).

    ``nearby_limit_m`` is the distance up to which the import assigned signals outside parks as *nearby*;
    a model that looks further would silently miss signals, so it is refused.
    """
    if nearby_limit_m is not None and model.nearby_distance_m > nearby_limit_m + 1e-9:
        raise ModelError(
            f"the model counts signals up to {model.nearby_distance_m:g} m from a park, but signals are only "
            f"assigned to parks up to {nearby_limit_m:g} m (PARKWACHT_NEARBY_DISTANCE_M); raise that setting and "
            "re-import, or lower the model's within_m")
    names = sorted(model.signal_fields)
    if not model.signal_types:
        return SignalFrame.empty(names)
    parts: list[SignalFrame] = []
    read = 0
    for batch in _id_batches(None if park_ids is None else list(park_ids)):
        sql, layout = _signal_sql(model, as_of, conn.dialect, batch)
        for rows in _rows(conn, sql, chunk_rows):
            parts.append(_frame_from_rows(rows, layout))
            read += len(rows)
            if on_chunk is not None:
                on_chunk(read)
    return SignalFrame.concat(parts, names)


def _frame_from_rows(rows: Sequence[Sequence[Any]], layout: dict[str, Any]) -> SignalFrame:
    """One chunk of rows as a :class:`SignalFrame`: one flat object array, then whole columns converted."""
    head = 2 if layout["packed"] else 4
    width = head + 2 + layout["slots"]
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=object, count=len(rows) * width)
    table = flat.reshape(len(rows), width)
    ids = table[:, 0].astype(np.int64)
    if layout["packed"]:
        key = table[:, 1].astype(np.int64)
        park = key >> 20
        days = (((key >> 4) & 0xFFFF) - _DAYS_1900_1970).astype(np.int32)
        codes = (key & 0xF).astype(np.int8)
    else:
        park = table[:, 1].astype(np.int64)
        codes = table[:, 2].astype(np.int8)
        day_raw = table[:, 3]
        days = (day_raw.astype(np.int32) if len(day_raw) and isinstance(day_raw[0], (int, np.integer))
                else day_number(day_raw))
    near = _floats(table[:, head])
    fields: dict[str, Any] = {}
    if "subtype" in layout["names"]:
        fields["subtype"] = table[:, head + 1]
    for t, attr_names in layout["attr_fields"].items():
        mask = codes == TYPE_CODES[t]
        if not mask.any():
            continue
        for k, name in enumerate(attr_names):
            if name not in fields:
                fields[name] = np.full(len(ids), None, dtype=object)
            fields[name][mask] = table[mask, head + 2 + k]
    return SignalFrame.from_arrays(ids, park, np.isfinite(near), near, codes, days, fields, layout["names"])


def _floats(column: np.ndarray) -> np.ndarray:
    """An object column of numbers and None as floats (NaN for None)."""
    out = np.full(len(column), np.nan)
    present = ~pd.isna(column)
    if present.any():
        out[present] = column[present].astype(float)
    return out


def freshness(frame: SignalFrame, park_ids: np.ndarray) -> dict[int, dict[str, str]]:
    """Per park, the date of its newest own signal of each type the model reads (within the model's look-back).

    Taken from the signals the engine already holds, so it costs one sort, not another table scan.
    """
    own = ~frame.nearby & np.isin(frame.park_id, park_ids)
    if not own.any():
        return {}
    key = frame.park_id[own] * 16 + frame.type[own].astype(np.int64)
    day = frame.day[own]
    order = np.lexsort((day, key))
    key, day = key[order], day[order]
    last = np.ones(len(key), dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    names = {code: name for name, code in TYPE_CODES.items()}
    dates = (EPOCH + day[last].astype("timedelta64[D]")).astype(str).tolist()
    out: dict[int, dict[str, str]] = {}
    for k, date in zip(key[last].tolist(), dates, strict=True):
        out.setdefault(k // 16, {})[names[k % 16]] = date
    return out


def neighbour_pairs(index: ParkIndex, distance_m: float, park_ids: Iterable[int] | None = None) -> NeighbourPairs:
    """Neighbour pairs from the park R-tree: all of them in bulk, or those of ``park_ids`` one by one."""
    if park_ids is None:
        a, b, _ = index.neighbour_pairs(distance_m)
        order = np.lexsort((b, a))
        return NeighbourPairs(a[order].astype(np.int64), b[order].astype(np.int64))
    aa: list[int] = []
    bb: list[int] = []
    for pid in sorted({int(p) for p in park_ids}):
        for other, _ in index.neighbours(pid, distance_m):
            aa.append(pid)
            bb.append(other)
    return NeighbourPairs(np.array(aa, dtype=np.int64), np.array(bb, dtype=np.int64))

"""The import pipeline: read → validate → assign → upsert, as one batch in one transaction.

For every import ``read == stored + rejected + unchanged``. A batch that breaks off half-way writes
nothing (its transaction rolls back) and is recorded as failed with the reason.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..config import Settings
from ..spatial import ParkIndex
from ..store import Store, schema
from .errors import FileRefused, ImportFailed, IngestError
from .presets import get_preset
from .readers import Source, frame_source, open_source
from .validate import ParkContext, SignalContext, validate_parks, validate_signals

__all__ = [
    "ImportResult",
    "import_parks",
    "import_signals",
    "import_park_frame",
    "import_signal_records",
    "import_signal_frame",
    "reassign_signals",
    "rejected_rows",
    "build_park_index",
]

log = logging.getLogger(__name__)
_WRITE_BATCH = 5_000
#: Up to this many new signals per chunk are inserted with RETURNING (their ids go back to the caller);
#: larger loads take the bulk path without ids.
RETURNING_LIMIT = 20_000


@dataclass
class ImportResult:
    """What an import did; ``as_dict`` is what ``--json`` and the API print."""

    batch_id: int
    kind: str
    source: str
    status: str = "done"
    read: int = 0
    stored: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    assignment: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    reassigned: int = 0
    seconds: float = 0.0
    #: Parks whose inputs changed (for incremental re-scoring).
    affected_parks: set[int] = field(default_factory=set, repr=False)
    #: Ids of the signals this import created or changed.
    signal_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("affected_parks")
        d.pop("signal_ids")
        d["seconds"] = round(self.seconds, 3)
        return d

    def check(self) -> None:
        """The accounting invariant every import keeps."""
        assert self.read == self.stored + self.rejected + self.unchanged, self.as_dict()
        assert self.stored == self.created + self.updated, self.as_dict()


# -- batches ----------------------------------------------------------------------------------------
def _open_batch(store: Store, kind: str, source: str, filename: str | None, preset: str | None,
                options: dict[str, Any]) -> int:
    with store.begin() as conn:
        return conn.execute(
            schema.import_batches.insert().values(
                kind=kind, source=source, filename=filename, preset=preset, status="running",
                options={k: v for k, v in options.items() if v is not None},
            ).returning(schema.import_batches.c.id)
        ).scalar_one()


def _fail_batch(store: Store, batch_id: int, message: str) -> None:
    with store.begin() as conn:
        conn.execute(
            schema.import_batches.update().where(schema.import_batches.c.id == batch_id).values(
                status="failed", error=message, finished_at=sa.func.current_timestamp(),
            )
        )


def _close_batch(conn: Connection, result: ImportResult, options: dict[str, Any]) -> None:
    if result.ignored_columns:
        options = {**options, "ignored_columns": result.ignored_columns}
    conn.execute(
        schema.import_batches.update().where(schema.import_batches.c.id == result.batch_id).values(
            status="done", finished_at=sa.func.current_timestamp(), read=result.read, stored=result.stored,
            created=result.created, updated=result.updated, unchanged=result.unchanged,
            rejected=result.rejected, options={k: v for k, v in options.items() if v is not None},
        )
    )


def _store_rejections(conn: Connection, batch_id: int, rejections: list[dict[str, Any]]) -> None:
    for start in range(0, len(rejections), _WRITE_BATCH):
        conn.execute(schema.rejected_rows.insert(),
                     [{**r, "batch_id": batch_id} for r in rejections[start:start + _WRITE_BATCH]])


def _run_batch(store: Store, kind: str, source: str, filename: str | None, preset: str | None,
               options: dict[str, Any], body: Callable[[Connection, ImportResult], None]) -> ImportResult:
    """Open a batch, run ``body`` in one transaction, close it; on any error roll back and record why."""
    started = time.perf_counter()
    batch_id = _open_batch(store, kind, source, filename, preset, options)
    result = ImportResult(batch_id=batch_id, kind=kind, source=source)
    try:
        with store.begin() as conn:
            body(conn, result)
            result.seconds = time.perf_counter() - started
            _close_batch(conn, result, options)
    except IngestError as exc:
        _fail_batch(store, batch_id, str(exc))
        if isinstance(exc, ImportFailed):
            exc.batch_id = batch_id
        raise
    except Exception as exc:
        log.exception("import batch %s failed", batch_id)
        _fail_batch(store, batch_id, f"{type(exc).__name__}: {exc}")
        raise ImportFailed(f"import failed and was rolled back, nothing stored: {exc}", batch_id) from exc
    result.check()
    return result


def _hash(payload: Any) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# -- parks ------------------------------------------------------------------------------------------
_PARK_COLUMNS = ("name", "kind", "municipality_code", "municipality_name", "province", "unit_count",
                 "operator", "takeover_year", "attributes")


def _park_values(rec: dict[str, Any]) -> dict[str, Any]:
    g = rec["geometry"]
    minx, miny, maxx, maxy = g.bounds
    values = {k: (None if pd.isna(rec[k]) else rec[k]) if not isinstance(rec[k], (dict, list)) else rec[k]
              for k in _PARK_COLUMNS}
    for k in ("unit_count", "takeover_year"):
        if values[k] is not None:
            values[k] = int(values[k])
    values.update(
        geom_wkb=shapely.to_wkb(g), area_m2=float(g.area), minx=minx, miny=miny, maxx=maxx, maxy=maxy,
    )
    hashable = {k: values[k] for k in _PARK_COLUMNS}
    hashable["geom"] = shapely.to_wkb(shapely.set_precision(g, 0.01), hex=True)
    values["row_hash"] = _hash(hashable)
    return values


def _import_park_source(store: Store, src: Source, *, source: str, preset_name: str | None,
                        id_column: str | None, mapping: dict[str, str] | None, settings: Settings,
                        options: dict[str, Any]) -> ImportResult:
    preset = get_preset(preset_name, "parks")
    if not src.crs:
        raise FileRefused(f"{src.name} declares no coordinate reference system; pass --crs (e.g. EPSG:28992)")
    ctx = ParkContext(crs=src.crs, preset=preset, overrides=mapping or {}, id_column=id_column,
                      max_name_length=settings.max_name_length)

    def body(conn: Connection, result: ImportResult) -> None:
        p = schema.parks
        existing = {r.source_id: r for r in conn.execute(sa.select(p).where(p.c.source == source))}
        for chunk in src.chunks(settings.import_chunk_rows):
            clean, rejections = validate_parks(chunk, ctx)
            result.read += len(chunk.frame)
            result.rejected += len(rejections)
            _store_rejections(conn, result.batch_id, rejections)
            inserts, changes = [], []
            for rec in clean.to_dict("records"):
                values = _park_values(rec)
                old = existing.get(rec["source_id"])
                if old is None:
                    inserts.append({**values, "source": source, "source_id": rec["source_id"],
                                    "batch_id": result.batch_id})
                elif old.row_hash == values["row_hash"]:
                    result.unchanged += 1
                else:
                    diff = {k: [_plain(getattr(old, k)), _plain(values[k])] for k in _PARK_COLUMNS + ("area_m2",)
                            if _plain(getattr(old, k)) != _plain(values[k])}
                    if old.geom_wkb != values["geom_wkb"]:
                        diff["geometry"] = ["changed", "changed"]
                    conn.execute(p.update().where(p.c.id == old.id).values(
                        **values, batch_id=result.batch_id, updated_at=sa.func.current_timestamp()))
                    changes.append({"batch_id": result.batch_id, "entity": "park", "entity_id": old.id,
                                    "source_id": rec["source_id"], "changes": diff})
                    result.affected_parks.add(int(old.id))
            for start in range(0, len(inserts), _WRITE_BATCH):
                ids = conn.execute(p.insert().returning(p.c.id), inserts[start:start + _WRITE_BATCH]).scalars().all()
                result.affected_parks.update(int(i) for i in ids)
            if changes:
                conn.execute(schema.import_changes.insert(), changes)
            result.created += len(inserts)
            result.updated += len(changes)
        result.stored = result.created + result.updated
        result.ignored_columns = sorted(ctx.ignored_columns)
        if result.stored:
            # Parks moved or appeared: signals located near them may now belong elsewhere.
            index = build_park_index(store, conn)
            result.reassigned, moved = reassign_signals(conn, index, settings.nearby_distance_m)
            result.affected_parks.update(moved)

    return _run_batch(store, "parks", source, src.name, preset.name, options, body)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    return value


def _open_or_record(store: Store, kind: str, source: str, path: Path, preset: str | None,
                    options: dict[str, Any], **open_options: Any) -> Source:
    """Open the file; a file refused as a whole is still recorded as a failed batch with its reason."""
    try:
        return open_source(path, **open_options)
    except FileRefused as exc:
        _fail_batch(store, _open_batch(store, kind, source, path.name, preset, options), str(exc))
        raise


def import_parks(store: Store, path: str | Path, *, settings: Settings, preset: str | None = None,
                 layer: str | None = None, crs: str | None = None, source: str | None = None,
                 id_column: str | None = None, mapping: dict[str, str] | None = None,
                 encoding: str | None = None) -> ImportResult:
    """Import park polygons from a geodata file (or a CSV with a WKT column)."""
    path = Path(path)
    get_preset(preset, "parks")  # an unknown preset is refused before the file is opened
    source = source or (preset if preset and preset != "default" else path.stem)
    options = {"preset": preset, "layer": layer, "crs": crs, "id_column": id_column, "mapping": mapping}
    src = _open_or_record(store, "parks", source, path, preset, options, layer=layer, crs=crs, encoding=encoding)
    return _import_park_source(store, src, source=source, preset_name=preset, id_column=id_column,
                               mapping=mapping, settings=settings, options=options)


def import_park_frame(store: Store, frame: pd.DataFrame, *, settings: Settings, source: str,
                      crs: str) -> ImportResult:
    """Import parks from an in-memory (Geo)DataFrame with Parkwacht's own column names."""
    geometry = np.asarray(frame.geometry.array, dtype=object) if "geometry" in frame else None
    attrs = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
    src = frame_source(source, attrs, crs=crs, geometry=geometry)
    return _import_park_source(store, src, source=source, preset_name=None, id_column=None, mapping=None,
                               settings=settings, options={"from": "frame"})


# -- signals ----------------------------------------------------------------------------------------
def build_park_index(store: Store, conn: Connection | None = None) -> ParkIndex:
    """A park index over everything in the store (inside ``conn``'s transaction when given)."""
    pg = store.park_geometries(conn)
    return ParkIndex(pg.ids, pg.geoms)


class ParkLookup:
    """Resolves the park ids and references a chunk names, asking the store only for those.

    A reference is ``source:source_id``, or a bare ``source_id`` when exactly one source uses it (an id
    used by two sources must be given with its source). Answers are cached for the whole import.
    """

    _BATCH = 500

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._ids: dict[int, bool] = {}
        self._refs: dict[str, int | None] = {}

    def existing(self, ids: Iterable[int]) -> set[int]:
        p = schema.parks
        todo = sorted({int(i) for i in ids} - self._ids.keys())
        for start in range(0, len(todo), self._BATCH):
            part = todo[start:start + self._BATCH]
            found = set(self._conn.execute(sa.select(p.c.id).where(p.c.id.in_(part))).scalars())
            self._ids.update({i: i in found for i in part})
        return {int(i) for i in ids if self._ids.get(int(i))}

    def resolve(self, refs: Iterable[str]) -> dict[str, int]:
        p = schema.parks
        todo = sorted({r for r in refs if r} - self._refs.keys())
        for start in range(0, len(todo), self._BATCH):
            part = todo[start:start + self._BATCH]
            bare = set(part) | {r.split(":", 1)[1] for r in part if ":" in r}
            rows = self._conn.execute(sa.select(p.c.id, p.c.source, p.c.source_id).where(p.c.source_id.in_(bare)))
            by_qualified: dict[str, int] = {}
            by_bare: dict[str, set[int]] = {}
            for pid, src, sid in rows:
                by_qualified[f"{src}:{sid}"] = pid
                by_bare.setdefault(sid, set()).add(pid)
            for ref in part:
                pid = by_qualified.get(ref)
                if pid is None and len(by_bare.get(ref, ())) == 1:
                    (pid,) = by_bare[ref]
                self._refs[ref] = pid
        return {r: pid for r in refs if (pid := self._refs.get(r)) is not None}


def _signal_hashes(frame: pd.DataFrame) -> np.ndarray:
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


def _existing_signals(conn: Connection, source: str) -> dict[str, tuple[int, str]]:
    s = schema.signals
    rows = conn.execute(sa.select(s.c.source_id, s.c.id, s.c.row_hash).where(s.c.source == source))
    return {sid: (i, h) for sid, i, h in rows}


def _import_signal_source(store: Store, src: Source, *, source: str, preset_name: str | None,
                          signal_type: str | None, mapping: dict[str, str] | None, settings: Settings,
                          options: dict[str, Any], index: ParkIndex | None,
                          encoding_hint: bool = True) -> ImportResult:
    preset = get_preset(preset_name, "signals")

    def body(conn: Connection, result: ImportResult) -> None:
        s = schema.signals
        ctx = SignalContext(preset=preset, crs=src.crs, signal_type=signal_type, overrides=mapping or {},
                            parks=ParkLookup(conn), max_name_length=settings.max_name_length,
                            encoding_hint=encoding_hint)
        idx = index if index is not None else build_park_index(store, conn)
        existing = _existing_signals(conn, source)
        counts = {"explicit": 0, "inside": 0, "nearby": 0, "unassigned": 0}
        for chunk in src.chunks(settings.import_chunk_rows):
            clean, rejections = validate_signals(chunk, ctx)
            result.read += len(chunk.frame)
            result.rejected += len(rejections)
            _store_rejections(conn, result.batch_id, rejections)
            if clean.empty:
                continue
            clean["row_hash"] = _signal_hashes(clean)
            old = [existing.get(sid) for sid in clean["source_id"]]
            same = np.array([o is not None and o[1] == h for o, h in zip(old, clean["row_hash"])])
            result.unchanged += int(same.sum())
            todo = clean[~same].reset_index(drop=True)
            todo_old = [o for o, sm in zip(old, same) if not sm]
            if todo.empty:
                continue
            _assign(todo, idx, settings.nearby_distance_m)
            for name in counts:
                counts[name] += int((todo["assignment"] == name).sum())
            rows = _signal_rows(todo, source, result.batch_id)
            new_mask = np.array([o is None for o in todo_old])
            inserts = [r for r, nw in zip(rows, new_mask) if nw]
            if not inserts:
                pass
            elif len(inserts) <= RETURNING_LIMIT:
                ids = conn.execute(s.insert().returning(s.c.id), [_core_row(r) for r in inserts]).scalars().all()
                result.signal_ids.extend(ids)
            else:
                for start in range(0, len(inserts), _WRITE_BATCH * 4):
                    _insert_no_returning(conn, inserts[start:start + _WRITE_BATCH * 4])
            result.created += len(inserts)
            updates = [(r, o) for r, o, nw in zip(rows, todo_old, new_mask) if not nw]
            if updates:
                _update_signals(conn, updates, result)
            result.affected_parks.update(int(p) for p in todo["park_id"].dropna().unique())
        result.stored = result.created + result.updated
        result.assignment = counts
        result.ignored_columns = sorted(ctx.ignored_columns)

    return _run_batch(store, "signals", source, src.name, preset.name, options, body)


_SIGNAL_INSERT_COLUMNS = ("source", "source_id", "type", "subtype", "date", "x", "y", "park_id", "assignment",
                          "distance_m", "attributes", "row_hash", "batch_id")


def _insert_no_returning(conn: Connection, rows: list[dict[str, Any]]) -> None:
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


def _assign(frame: pd.DataFrame, index: ParkIndex, max_distance: float) -> None:
    """Fill park_id / assignment / distance_m: explicit park first, else through the park index."""
    explicit = frame["explicit_park"].to_numpy() >= 0
    a = index.assign(frame["x"].to_numpy(), frame["y"].to_numpy(), max_distance)
    park = np.where(explicit, frame["explicit_park"].to_numpy(), a.park_id)
    method = np.where(explicit, "explicit", a.method).astype(object)
    dist = np.where(explicit, np.nan, a.distance_m)
    frame["park_id"] = pd.array(np.where(park >= 0, park, np.nan), dtype="Int64")
    frame["assignment"] = method
    frame["distance_m"] = np.where(method == "nearby", dist, np.nan)


def _core_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "attributes_json"}


def _signal_rows(frame: pd.DataFrame, source: str, batch_id: int) -> list[dict[str, Any]]:
    """Row dicts for the store (plain Python values: None for missing, int park ids)."""
    def floats(col: str) -> list[float | None]:
        v = frame[col].to_numpy(dtype=float)
        return np.where(np.isfinite(v), v, None).tolist()

    park = frame["park_id"].to_numpy(dtype="float64", na_value=np.nan)
    parks = np.where(np.isfinite(park), park, None).tolist()
    parks = [None if p is None else int(p) for p in parks]
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


_SIGNAL_DIFF_FIELDS = ("type", "subtype", "date", "x", "y", "park_id", "assignment", "attributes")


def _update_signals(conn: Connection, updates: list[tuple[dict[str, Any], tuple[int, str]]],
                    result: ImportResult) -> None:
    s = schema.signals
    ids = [o[0] for _, o in updates]
    olds: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        for row in conn.execute(sa.select(s).where(s.c.id.in_(ids[start:start + 500]))):
            olds[row.id] = row
    changes = []
    for new, (sid_pk, _) in updates:
        old = olds[sid_pk]
        diff = {k: [_plain(_jsonable(getattr(old, k))), _plain(_jsonable(new[k]))] for k in _SIGNAL_DIFF_FIELDS
                if _plain(_jsonable(getattr(old, k))) != _plain(_jsonable(new[k]))}
        values = {k: v for k, v in _core_row(new).items() if k not in ("source", "source_id")}
        conn.execute(s.update().where(s.c.id == sid_pk).values(**values))
        changes.append({"batch_id": result.batch_id, "entity": "signal", "entity_id": sid_pk,
                        "source_id": new["source_id"], "changes": diff})
        if old.park_id is not None:
            result.affected_parks.add(int(old.park_id))
        result.signal_ids.append(sid_pk)
    for start in range(0, len(changes), _WRITE_BATCH):
        conn.execute(schema.import_changes.insert(), changes[start:start + _WRITE_BATCH])
    result.updated += len(changes)


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


def import_signals(store: Store, path: str | Path, *, settings: Settings, signal_type: str | None = None,
                   preset: str | None = None, layer: str | None = None, crs: str | None = None,
                   source: str | None = None, mapping: dict[str, str] | None = None,
                   encoding: str | None = None, index: ParkIndex | None = None) -> ImportResult:
    """Import signals from CSV/TSV (lon/lat, x/y with ``crs``, or WKT), GeoJSON or GeoPackage."""
    path = Path(path)
    get_preset(preset, "signals")
    source = source or path.stem
    options = {"type": signal_type, "preset": preset, "layer": layer, "crs": crs, "mapping": mapping,
               "encoding": encoding}
    src = _open_or_record(store, "signals", source, path, preset, options, layer=layer, crs=crs,
                          encoding=encoding)
    return _import_signal_source(store, src, source=source, preset_name=preset, signal_type=signal_type,
                                 mapping=mapping, settings=settings, options=options, index=index)


def import_signal_frame(store: Store, frame: pd.DataFrame, *, settings: Settings, source: str,
                        crs: str | None = None, index: ParkIndex | None = None) -> ImportResult:
    """Import signals from an in-memory frame with Parkwacht's own column names (all values as text)."""
    src = frame_source(source, frame, crs=crs)
    return _import_signal_source(store, src, source=source, preset_name=None, signal_type=None, mapping=None,
                                 settings=settings, options={"from": "frame"}, index=index, encoding_hint=False)


def _geojson_geometry(value: Any, row: int) -> Any:
    if value is None:
        return None
    try:
        return shapely.geometry.shape(value)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise FileRefused(f"signal {row} has a geometry that is not valid GeoJSON ({exc})") from exc


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def import_signal_records(store: Store, records: list[dict[str, Any]], *, settings: Settings,
                          source: str, crs: str | None = None, index: ParkIndex | None = None,
                          name: str = "api") -> ImportResult:
    """Import signals given as dicts (the JSON API); geometry may be given as GeoJSON ``geometry``."""
    frame = pd.DataFrame(records, dtype=object) if records else pd.DataFrame({"date": []}, dtype=object)
    geometry = None
    if "geometry" in frame.columns:
        geometry = np.array([_geojson_geometry(g, i) for i, g in enumerate(frame.pop("geometry"), start=1)],
                            dtype=object)
        crs = crs or "EPSG:4326"
    for col in frame.columns:  # API values arrive typed; validation reads text, as from a file
        if col != "attributes":
            frame[col] = frame[col].map(_as_text)
    src = frame_source(name, frame, crs=crs, geometry=geometry)
    return _import_signal_source(store, src, source=source, preset_name=None, signal_type=None, mapping=None,
                                 settings=settings, options={"from": name}, index=index, encoding_hint=False)


# -- re-assignment and reads -----------------------------------------------------------------------
def reassign_signals(conn: Connection, index: ParkIndex, max_distance: float) -> tuple[int, set[int]]:
    """Re-run the spatial assignment of every located, non-explicit signal; returns (changed, parks)."""
    s = schema.signals
    rows = conn.execute(
        sa.select(s.c.id, s.c.x, s.c.y, s.c.park_id, s.c.assignment, s.c.distance_m)
        .where(s.c.x.is_not(None), s.c.assignment != "explicit")
    ).all()
    if not rows:
        return 0, set()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    x = np.array([r[1] for r in rows], dtype=float)
    y = np.array([r[2] for r in rows], dtype=float)
    old_park = np.array([-1 if r[3] is None else r[3] for r in rows], dtype=np.int64)
    a = index.assign(x, y, max_distance)
    changed = np.flatnonzero((a.park_id != old_park) | (a.method != np.array([r[4] for r in rows], dtype=object)))
    if len(changed) == 0:
        return 0, set()
    params = [{"b_id": int(ids[i]), "b_park": None if a.park_id[i] < 0 else int(a.park_id[i]),
               "b_asg": str(a.method[i]), "b_dist": None if a.code[i] != 2 else float(a.distance_m[i])}
              for i in changed]
    stmt = s.update().where(s.c.id == sa.bindparam("b_id")).values(
        park_id=sa.bindparam("b_park"), assignment=sa.bindparam("b_asg"), distance_m=sa.bindparam("b_dist"))
    conn.execute(stmt, params)
    parks = {int(p) for p in np.concatenate([a.park_id[changed], old_park[changed]]) if p >= 0}
    return len(changed), parks


def rejected_rows(store: Store, batch_id: int) -> list[dict[str, Any]]:
    """The rejected rows of a batch, in file order."""
    r = schema.rejected_rows
    with store.connect() as conn:
        if conn.execute(sa.select(schema.import_batches.c.id).where(schema.import_batches.c.id == batch_id)).first() is None:
            raise KeyError(batch_id)
        rows = conn.execute(sa.select(r.c.row_number, r.c.field, r.c.reason, r.c.raw)
                            .where(r.c.batch_id == batch_id).order_by(r.c.row_number)).all()
    return [dict(row._mapping) for row in rows]


def iter_batches(store: Store, limit: int = 20) -> Iterable[dict[str, Any]]:
    b = schema.import_batches
    with store.connect() as conn:
        rows = conn.execute(sa.select(b).order_by(b.c.id.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in rows]

"""Signal import: signals from a file, a frame or API records, validated, assigned to parks, upserted.

Chunk by chunk the main thread reads, validates, compares with what the source already has and assigns the
new and changed rows to parks; a writer thread (:class:`~.pipeline.Writer`) writes the previous chunk
meanwhile. ``--snapshot`` retires the source's signals the file no longer holds (:mod:`.sync`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy.engine import Connection

from ..config import Settings
from ..spatial import ParkIndex
from ..store import Store
from .assign import ParkLookup, assign_frame, build_park_index
from .batches import ImportResult, open_or_record, run_batch, store_rejections
from .errors import FileRefused
from .options import check_mapped_columns, check_mapping, check_signal_type
from .pipeline import Progress, Writer
from .presets import SIGNAL_FIELDS, get_preset
from .readers import Source, frame_source
from .records import records_frame
from .signal_writes import (
    BulkLoad,
    WriteCounts,
    attributes_json,
    insert_signals,
    signal_hashes,
    signal_params,
    update_signals,
)
from .stored_signals import Existing
from .sync import retire_signals, revive
from .validate_signals import SignalContext, validate_signals

__all__ = ["import_signal_frame", "import_signal_records", "import_signals"]


class _ParksThroughWriter:
    """The park lookups validation makes, run on the writer's thread (which owns the connection)."""

    def __init__(self, lookup: ParkLookup, writer: Writer) -> None:
        self._lookup, self._writer = lookup, writer

    def existing(self, ids: Any) -> set[int]:
        return self._writer.call(self._lookup.existing, list(ids))

    def resolve(self, refs: Any) -> dict[str, int]:
        return self._writer.call(self._lookup.resolve, list(refs))


def _store_signals(conn: Connection, clean: pd.DataFrame, existing: Existing, index: ParkIndex, writer: Writer,
                   settings: Settings, source: str, counts: dict[str, int], written: WriteCounts,
                   result: ImportResult, bulk: BulkLoad) -> None:
    """Skip unchanged signals, assign the rest to parks, queue the inserts of new and updates of changed ones."""
    stages = writer.stages
    with stages.timing("validate"):
        clean["attributes_json"] = pd.Series(attributes_json(clean["attributes"].tolist()), index=clean.index,
                                             dtype=object)
        clean["row_hash"] = pd.Series(signal_hashes(clean), index=clean.index, dtype=object)
        pos = existing.positions(clean["source_id"].to_numpy(dtype=object))
        known = pos >= 0
        same = np.zeros(len(clean), dtype=bool)
        same[known] = existing.hashes[pos[known]] == clean["row_hash"].to_numpy(dtype=object)[known]
        retired = np.zeros(len(clean), dtype=bool)
        retired[known] = existing.retired[pos[known]]
    if retired.any():  # back in the source: no longer retired (an unchanged one still counts as unchanged)
        back = existing.ids[pos[retired]]
        existing.retired[pos[retired]] = False
        result.revived += len(back)
        writer.submit(revive, conn, "signals", back.tolist())
    result.unchanged += int(same.sum())
    todo = clean[~same].reset_index(drop=True) if same.any() else clean  # a first import: no copy
    todo_pos = pos[~same]
    if todo.empty:
        return
    with stages.timing("assign"):
        assign_frame(todo, index, settings.nearby_distance_m)
    for name, n in todo["assignment"].value_counts().items():
        counts[str(name)] += int(n)
    with stages.timing("write"):
        params = signal_params(todo, source, result.batch_id)
    new = todo_pos < 0
    all_new = bool(new.all())
    inserts = params if all_new else params[new]  # a first import: no copy
    result.created += len(inserts)
    writer.submit(insert_signals, conn, inserts, written, bulk)
    if not all_new:
        updates = list(zip(params[~new].tolist(), existing.ids[todo_pos[~new]].tolist()))
        writer.submit(update_signals, conn, updates, result.batch_id, written)
    result.affected_parks.update(int(p) for p in todo["park_id"].dropna().unique())


def _import_signal_source(store: Store, src: Source, *, source: str, preset_name: str | None,
                          signal_type: str | None, mapping: dict[str, str] | None, settings: Settings,
                          options: dict[str, Any], index: ParkIndex | None, encoding_hint: bool = True,
                          snapshot: bool = False, progress: Progress | None = None) -> ImportResult:
    """Run one signal batch over an opened source: validate, assign and store chunk by chunk."""
    preset = get_preset(preset_name, "signals")
    check_signal_type(signal_type)
    mapping = check_mapping(mapping, SIGNAL_FIELDS, "signal")
    check_mapped_columns(mapping, src.columns, src.name)

    def body(conn: Connection, result: ImportResult) -> None:
        memory = conn.dialect.name == "sqlite" and conn.engine.url.database in (None, "", ":memory:")
        idx = index if index is not None else build_park_index(store, conn)  # before the writer owns conn
        writer = Writer(result.stages, threaded=not memory, depth=1)
        bulk = BulkLoad(src.rows_hint)
        try:
            ctx = SignalContext(preset=preset, crs=src.crs, signal_type=signal_type, overrides=mapping,
                                parks=_ParksThroughWriter(ParkLookup(conn), writer),
                                max_name_length=settings.max_name_length, encoding_hint=encoding_hint,
                                source_name=src.name, crs_from=src.crs_from, keep_ids=snapshot)
            loaded: list[Existing] = []
            writer.submit(lambda: loaded.append(Existing.load(conn, source)))  # while the first chunk is read
            counts = {"explicit": 0, "inside": 0, "nearby": 0, "unassigned": 0}
            written = WriteCounts()
            for chunk in result.stages.each(iter(src.chunks(settings.import_chunk_rows)), "read"):
                with result.stages.timing("validate"):
                    clean, rejections = validate_signals(chunk, ctx)
                result.read += len(chunk.frame)
                result.rejected += len(rejections)
                if rejections:
                    writer.submit(store_rejections, conn, result.batch_id, rejections)
                if not clean.empty:
                    existing = loaded[0] if loaded else writer.call(lambda: loaded[0])
                    bulk.expected_rows = src.rows_hint
                    _store_signals(conn, clean, existing, idx, writer, settings, source, counts, written, result,
                                   bulk)
                if progress is not None:
                    progress(result.read, src.rows_hint)
                del chunk, clean, rejections  # before the next chunk is read: one chunk in memory, not two
            writer.submit(bulk.finish, conn)
            writer.finish()
            existing = loaded[0] if loaded else writer.call(lambda: loaded[0])
        finally:
            writer.close()
        result.updated += written.updated
        result.unchanged += written.unchanged
        result.signal_ids.extend(written.signal_ids)
        result.affected_parks.update(written.parks)
        if snapshot:
            if result.read == 0:
                raise FileRefused(f"{src.name} holds no signals: as a --snapshot it would retire every signal of "
                                  f"source {source!r}; nothing was changed")
            existing.positions(np.concatenate(ctx.all_ids) if ctx.all_ids else np.empty(0, dtype=object))
            result.retired, gone_parks = retire_signals(conn, existing, result.batch_id)
            result.affected_parks.update(gone_parks)
        result.stored = result.created + result.updated
        result.assignment = counts
        result.ignored_columns = sorted(ctx.ignored_columns)

    return run_batch(store, "signals", source, src.name, preset.name, {**options, "snapshot": snapshot or None},
                     body)


def import_signals(store: Store, path: str | Path, *, settings: Settings, signal_type: str | None = None,
                   preset: str | None = None, layer: str | None = None, crs: str | None = None,
                   source: str | None = None, mapping: dict[str, str] | None = None,
                   encoding: str | None = None, index: ParkIndex | None = None, snapshot: bool = False,
                   progress: Progress | None = None) -> ImportResult:
    """Import signals from CSV/TSV (lon/lat, x/y with ``crs``, or WKT), GeoJSON or GeoPackage.

    With ``snapshot`` the file is the source's complete current set: its signals the file does not hold are
    retired (kept, no longer scored, mapped or served) and come back when a later file holds them again.
    """
    path = Path(path)
    get_preset(preset, "signals")  # unknown options are refused before the file is opened
    check_signal_type(signal_type)
    check_mapping(mapping, SIGNAL_FIELDS, "signal")
    source = source or path.stem
    options = {"type": signal_type, "preset": preset, "layer": layer, "crs": crs, "mapping": mapping,
               "encoding": encoding}
    src = open_or_record(store, "signals", source, path, preset, options, layer=layer, crs=crs,
                         encoding=encoding)
    return _import_signal_source(store, src, source=source, preset_name=preset, signal_type=signal_type,
                                 mapping=mapping, settings=settings, options=options, index=index,
                                 snapshot=snapshot, progress=progress)


def import_signal_frame(store: Store, frame: pd.DataFrame, *, settings: Settings, source: str,
                        crs: str | None = None, index: ParkIndex | None = None) -> ImportResult:
    """Import signals from an in-memory frame with Parkwacht's own column names (all values as text)."""
    src = frame_source(source, frame, crs=crs)
    return _import_signal_source(store, src, source=source, preset_name=None, signal_type=None, mapping=None,
                                 settings=settings, options={"from": "frame"}, index=index, encoding_hint=False)


def _geojson_geometry(value: Any, row: int) -> Any:
    """A GeoJSON geometry of an API record as shapely; a malformed one refuses the whole request."""
    if value is None:
        return None
    try:
        return shapely.geometry.shape(value)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise FileRefused(f"signal {row} has a geometry that is not valid GeoJSON ({exc})") from exc


def import_signal_records(store: Store, records: list[dict[str, Any]], *, settings: Settings,
                          source: str, crs: str | None = None, index: ParkIndex | None = None,
                          name: str = "api") -> ImportResult:
    """Import signals given as dicts (the JSON API); geometry may be given as GeoJSON ``geometry``.

    Keys that are not signal fields go into the row's attributes, so the cost is linear in the request's
    size however many different keys its rows carry (bounded per row and per request, see :mod:`.records`).
    """
    frame, geoms = records_frame(records)
    geometry = None
    if geoms is not None:
        geometry = np.array([_geojson_geometry(g, i) for i, g in enumerate(geoms, start=1)], dtype=object)
        crs = crs or "EPSG:4326"
    src = frame_source(name, frame, crs=crs, geometry=geometry)
    return _import_signal_source(store, src, source=source, preset_name=None, signal_type=None, mapping=None,
                                 settings=settings, options={"from": name}, index=index, encoding_hint=False)

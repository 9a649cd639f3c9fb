"""Signal import: signals from a file, a frame or API records, validated, assigned to parks, upserted."""
from __future__ import annotations

import json
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
from .presets import get_preset
from .readers import Source, frame_source
from .signal_writes import existing_signals, insert_signals, signal_hashes, signal_rows, update_signals
from .validate_signals import SignalContext, validate_signals

__all__ = ["import_signal_frame", "import_signal_records", "import_signals"]

def _store_signals(conn: Connection, clean: pd.DataFrame, existing: dict[str, tuple[int, str]],
                   index: ParkIndex, settings: Settings, source: str, counts: dict[str, int],
                   result: ImportResult) -> None:
    """Skip unchanged signals, assign the rest to parks, insert the new ones and update the changed ones."""
    clean["row_hash"] = signal_hashes(clean)
    old = [existing.get(sid) for sid in clean["source_id"]]
    same = np.array([o is not None and o[1] == h for o, h in zip(old, clean["row_hash"])])
    result.unchanged += int(same.sum())
    todo = clean[~same].reset_index(drop=True)
    todo_old = [o for o, sm in zip(old, same) if not sm]
    if todo.empty:
        return
    assign_frame(todo, index, settings.nearby_distance_m)
    for name in counts:
        counts[name] += int((todo["assignment"] == name).sum())
    rows = signal_rows(todo, source, result.batch_id)
    new_mask = np.array([o is None for o in todo_old])
    inserts = [r for r, nw in zip(rows, new_mask) if nw]
    insert_signals(conn, inserts, result)
    result.created += len(inserts)
    updates = [(r, o) for r, o, nw in zip(rows, todo_old, new_mask) if not nw and o is not None]
    if updates:
        update_signals(conn, updates, result)
    result.affected_parks.update(int(p) for p in todo["park_id"].dropna().unique())


def _import_signal_source(store: Store, src: Source, *, source: str, preset_name: str | None,
                          signal_type: str | None, mapping: dict[str, str] | None, settings: Settings,
                          options: dict[str, Any], index: ParkIndex | None,
                          encoding_hint: bool = True) -> ImportResult:
    """Run one signal batch over an opened source: validate, assign and store chunk by chunk."""
    preset = get_preset(preset_name, "signals")

    def body(conn: Connection, result: ImportResult) -> None:
        ctx = SignalContext(preset=preset, crs=src.crs, signal_type=signal_type, overrides=mapping or {},
                            parks=ParkLookup(conn), max_name_length=settings.max_name_length,
                            encoding_hint=encoding_hint)
        idx = index if index is not None else build_park_index(store, conn)
        existing = existing_signals(conn, source)
        counts = {"explicit": 0, "inside": 0, "nearby": 0, "unassigned": 0}
        for chunk in src.chunks(settings.import_chunk_rows):
            clean, rejections = validate_signals(chunk, ctx)
            result.read += len(chunk.frame)
            result.rejected += len(rejections)
            store_rejections(conn, result.batch_id, rejections)
            if not clean.empty:
                _store_signals(conn, clean, existing, idx, settings, source, counts, result)
        result.stored = result.created + result.updated
        result.assignment = counts
        result.ignored_columns = sorted(ctx.ignored_columns)

    return run_batch(store, "signals", source, src.name, preset.name, options, body)


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
    src = open_or_record(store, "signals", source, path, preset, options, layer=layer, crs=crs,
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
    """A GeoJSON geometry of an API record as shapely; a malformed one refuses the whole request."""
    if value is None:
        return None
    try:
        return shapely.geometry.shape(value)
    except Exception as exc:  # shapely raises several kinds for malformed GeoJSON
        raise FileRefused(f"signal {row} has a geometry that is not valid GeoJSON ({exc})") from exc


def _as_text(value: Any) -> str:
    """A typed API value as the text a file would hold, so validation treats both alike."""
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

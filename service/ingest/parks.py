"""Park import: park polygons from a file or a frame, validated, compared with what is stored, upserted."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from ..config import Settings
from ..store import Store, in_groups, schema
from .areas import AreaLookup
from .assign import build_park_index, reassign_signals
from .batches import WRITE_BATCH, ImportResult, open_or_record, plain, run_batch, store_rejections
from .errors import FileRefused
from .options import check_mapped_columns, check_mapping
from .pipeline import Progress
from .presets import get_preset
from .readers import Source, frame_source
from .sync import retire, revive
from .validate_parks import PARK_TARGETS, ParkContext, validate_parks

__all__ = ["import_park_frame", "import_parks"]

#: The stored park columns that come from the source (and make up its content hash, with the geometry).
_PARK_COLUMNS = ("name", "kind", "municipality_code", "municipality_name", "province", "unit_count",
                 "operator", "takeover_year", "attributes")


def _hash(payload: Any) -> str:
    """A stable content hash: a re-import of an unchanged park is recognised without comparing fields."""
    return hashlib.sha1(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _park_values(rec: dict[str, Any]) -> dict[str, Any]:
    """The stored columns of one clean park record: fields, geometry, bounds and content hash."""
    g = rec["geometry"]
    minx, miny, maxx, maxy = g.bounds
    values: dict[str, Any] = {
        k: (None if pd.isna(rec[k]) else rec[k]) if not isinstance(rec[k], (dict, list)) else rec[k]
        for k in _PARK_COLUMNS
    }
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


def _park_diff(old: Row[Any], values: dict[str, Any]) -> dict[str, list[Any]]:
    """What changed in a park, field by field as ``[old, new]`` (the geometry only as 'changed')."""
    diff = {k: [plain(getattr(old, k)), plain(values[k])] for k in _PARK_COLUMNS + ("area_m2",)
            if plain(getattr(old, k)) != plain(values[k])}
    if old.geom_wkb != values["geom_wkb"]:
        diff["geometry"] = ["changed", "changed"]
    return diff


def _store_parks(conn: Connection, clean: pd.DataFrame, existing: dict[str, Row[Any]], source: str,
                 result: ImportResult) -> None:
    """Insert new parks, update changed ones (recording what changed), count the unchanged; revive retired ones."""
    p = schema.parks
    inserts: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    back: list[int] = []
    for rec in clean.to_dict("records"):
        values = _park_values(rec)
        old = existing.get(rec["source_id"])
        if old is None:
            inserts.append({**values, "source": source, "source_id": rec["source_id"],
                            "batch_id": result.batch_id})
            continue
        if old.retired_at is not None:
            back.append(int(old.id))
            result.affected_parks.add(int(old.id))
        diff = {} if old.row_hash == values["row_hash"] else _park_diff(old, values)
        if not diff:
            result.unchanged += 1
            if old.row_hash != values["row_hash"]:  # a hash from an older Parkwacht: refresh it, nothing else
                conn.execute(p.update().where(p.c.id == old.id).values(row_hash=values["row_hash"]))
            continue
        conn.execute(p.update().where(p.c.id == old.id).values(
            **values, batch_id=result.batch_id, updated_at=sa.func.current_timestamp()))
        changes.append({"batch_id": result.batch_id, "entity": "park", "entity_id": old.id,
                        "source_id": rec["source_id"], "changes": diff})
        result.affected_parks.add(int(old.id))
    if back:
        revive(conn, "parks", back)
        result.revived += len(back)
    for group in in_groups(inserts, WRITE_BATCH):
        ids = conn.execute(p.insert().returning(p.c.id), group).scalars().all()
        result.affected_parks.update(int(i) for i in ids)
    if changes:
        conn.execute(schema.import_changes.insert(), changes)
    result.created += len(inserts)
    result.updated += len(changes)


def _retire_missing(conn: Connection, existing: dict[str, Row[Any]], held: set[str], result: ImportResult) -> None:
    """``--snapshot``: retire the source's current parks the file does not hold."""
    gone = [int(r.id) for sid, r in existing.items() if sid not in held and r.retired_at is None]
    if gone:
        result.retired += len(gone)
        result.affected_parks.update(retire(conn, "parks", gone, result.batch_id))


def _import_park_source(store: Store, src: Source, *, source: str, preset_name: str | None,
                        id_column: str | None, mapping: dict[str, str] | None, settings: Settings,
                        options: dict[str, Any], snapshot: bool = False, allow_large: bool = False,
                        progress: Progress | None = None) -> ImportResult:
    """Run one park batch over an opened source: validate and store chunk by chunk, then re-assign."""
    preset = get_preset(preset_name, "parks")
    mapping = check_mapping(mapping, PARK_TARGETS, "park")
    check_mapped_columns({k: v for k, v in mapping.items() if k not in ("wkt", "geometry")}, src.columns, src.name)
    if not src.crs:
        raise FileRefused(f"{src.name} declares no coordinate reference system; pass --crs (e.g. EPSG:28992)")
    ctx = ParkContext(crs=src.crs, preset=preset, overrides=mapping, id_column=id_column,
                      max_name_length=settings.max_name_length, source_name=src.name, crs_from=src.crs_from,
                      max_area_m2=None if allow_large else settings.max_park_area_km2 * 1e6, keep_ids=snapshot)

    def body(conn: Connection, result: ImportResult) -> None:
        p = schema.parks
        existing = {r.source_id: r for r in conn.execute(sa.select(p).where(p.c.source == source))}
        areas = AreaLookup(conn)
        for chunk in result.stages.each(iter(src.chunks(settings.import_chunk_rows)), "read"):
            with result.stages.timing("validate"):
                clean, rejections = validate_parks(chunk, ctx)
            with result.stages.timing("assign"):
                areas.fill(clean)
            result.read += len(chunk.frame)
            result.rejected += len(rejections)
            with result.stages.timing("write"):
                store_rejections(conn, result.batch_id, rejections)
                _store_parks(conn, clean, existing, source, result)
            if progress is not None:
                progress(result.read, src.rows_hint)
        if snapshot:
            if result.read == 0:
                raise FileRefused(f"{src.name} holds no parks: as a --snapshot it would retire every park of "
                                  f"source {source!r}; nothing was changed")
            held = set(np.concatenate(ctx.all_ids).tolist()) if ctx.all_ids else set()
            _retire_missing(conn, existing, held, result)
        result.stored = result.created + result.updated
        result.ignored_columns = sorted(ctx.ignored_columns)
        if result.stored or result.retired or result.revived:
            # Parks moved, appeared or went: signals located near them may now belong elsewhere.
            with result.stages.timing("assign"):
                index = build_park_index(store, conn)
                result.reassigned, moved = reassign_signals(conn, index, settings.nearby_distance_m)
            result.affected_parks.update(moved)

    return run_batch(store, "parks", source, src.name, preset.name,
                     {**options, "snapshot": snapshot or None, "allow_large": allow_large or None}, body)


def import_parks(store: Store, path: str | Path, *, settings: Settings, preset: str | None = None,
                 layer: str | None = None, crs: str | None = None, source: str | None = None,
                 id_column: str | None = None, mapping: dict[str, str] | None = None,
                 encoding: str | None = None, snapshot: bool = False, allow_large: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Import park polygons from a geodata file (or a CSV with a WKT column).

    With ``snapshot`` the file is the source's complete current set: its parks the file does not hold are
    retired (kept with their history, no longer scored, mapped or served) and come back when a later file
    holds them again. Parks larger than ``settings.max_park_area_km2`` are refused unless ``allow_large``.
    """
    path = Path(path)
    get_preset(preset, "parks")  # unknown options are refused before the file is opened
    check_mapping(mapping, PARK_TARGETS, "park")
    source = source or (preset if preset and preset != "default" else path.stem)
    options = {"preset": preset, "layer": layer, "crs": crs, "id_column": id_column, "mapping": mapping}
    src = open_or_record(store, "parks", source, path, preset, options, layer=layer, crs=crs, encoding=encoding)
    return _import_park_source(store, src, source=source, preset_name=preset, id_column=id_column,
                               mapping=mapping, settings=settings, options=options, snapshot=snapshot,
                               allow_large=allow_large, progress=progress)


def import_park_frame(store: Store, frame: pd.DataFrame, *, settings: Settings, source: str,
                      crs: str, snapshot: bool = False, allow_large: bool = False) -> ImportResult:
    """Import parks from an in-memory (Geo)DataFrame with Parkwacht's own column names."""
    geometry = np.asarray(frame.geometry.array, dtype=object) if "geometry" in frame else None
    attrs = pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
    src = frame_source(source, attrs, crs=crs, geometry=geometry)
    return _import_park_source(store, src, source=source, preset_name=None, id_column=None, mapping=None,
                               settings=settings, options={"from": "frame"}, snapshot=snapshot,
                               allow_large=allow_large)

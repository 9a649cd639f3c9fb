"""Municipality and province boundaries as a source like parks, and the areas parks without one lie in.

``parkwacht import areas FILE --level municipality|province`` reads CBS "gebiedsindelingen" (GeoJSON or
GeoPackage with a code and a name, e.g. ``statcode``/``statnaam``) into the ``areas`` table, one row per
level and CBS code (``GM0344``, ``PV26``). The map's municipality layer, the API's municipality filter and
its aggregates take their shapes from there. Parks whose file carries no municipality (or province) get it
from these boundaries: on their own import, and when boundaries arrive after them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..config import Settings
from ..store import Store, schema
from .batches import ImportResult, open_or_record, run_batch, store_rejections
from .columns import clean_text
from .crs_check import refuse_contradicting
from .errors import FileRefused, UnknownOption
from .park_geometry import GEOMETRY_ERRORS, polygons_in_rd
from .pipeline import Progress
from .readers import Chunk
from .rows import Rejections, SeenIds, check_duplicates, check_malformed, check_utf8
from .sync import now_utc

__all__ = ["AREA_LEVELS", "AreaLookup", "import_areas", "fill_parks"]

AREA_LEVELS = tuple(schema.AREA_LEVELS)
#: Column names tried, in order, for an area's code and name (CBS, PDOK and plain spellings).
CODE_COLUMNS = ("statcode", "code", "gemeentecode", "provinciecode", "gm_code", "pv_code", "identificatie")
NAME_COLUMNS = ("statnaam", "name", "naam", "gemeentenaam", "provincienaam", "gm_naam", "pv_naam")
_PREFIX = {"municipality": ("GM", 4), "province": ("PV", 2)}
#: A park outside every (coarse) boundary takes the nearest area within this distance.
NEAREST_WITHIN_M = 2_000.0


def _pick(columns: list[str], given: str | None, candidates: tuple[str, ...], what: str, name: str) -> str:
    """The column holding the area's ``what`` (code or name): the one given, else the first known spelling."""
    if given:
        if given not in columns:
            raise FileRefused(f"{name} has no column {given!r} for the {what}; its columns: {', '.join(columns)}")
        return given
    lower = {c.lower(): c for c in columns}
    for c in candidates:
        if c in lower:
            return lower[c]
    raise FileRefused(f"{name} has no {what} column (tried {', '.join(candidates)}); name it with "
                      f"--{what}-column")


def _codes(text: pd.Series, level: str, rej: Rejections) -> np.ndarray:
    """CBS codes as ``GM0344`` / ``PV26`` (digits alone accepted); anything else is the row's rejection."""
    prefix, width = _PREFIX[level]
    digits = text.str.upper().str.removeprefix(prefix)
    good = digits.str.fullmatch(rf"\d{{1,{width}}}").to_numpy(dtype=bool)
    rej.add(~good, "code", f"{level} code is not a CBS code such as {prefix}{'3' * width} or {'3' * width}")
    return np.asarray(np.where(good, prefix + digits.str.zfill(width), None), dtype=object)


def _validate(chunk: Chunk, level: str, code_col: str, name_col: str, crs: str, seen: SeenIds,
              ) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Clean area rows (code, name, RD geometry) and the rejected rows of one chunk."""
    frame, n = chunk.frame, len(chunk.frame)
    rej = Rejections(n)
    check_malformed(frame, rej)
    check_utf8(frame, rej, encoding_hint=False)
    if chunk.geometry is None:
        raise FileRefused("an areas file needs geometry: use GeoJSON, GeoPackage or a Shapefile")
    geoms = polygons_in_rd(chunk.geometry, crs, rej).geoms
    codes = _codes(clean_text(frame[code_col], n), level, rej)
    names = clean_text(frame[name_col], n)
    rej.add((names == "").to_numpy(), "name", f"{level} has no name")
    rej.add((names.str.len() > 100).to_numpy(), "name", "name is longer than 100 characters")
    check_duplicates(np.where(pd.isna(codes), "", codes).astype(object), np.arange(chunk.first_row,
                     chunk.first_row + n), seen, rej)
    out = pd.DataFrame({"code": codes, "name": names.to_numpy(dtype=object), "geometry": geoms})
    return out[rej.ok].reset_index(drop=True), rej.records(chunk)


def _store(conn: Connection, clean: pd.DataFrame, level: str, source: str, existing: dict[str, Any],
           result: ImportResult) -> None:
    a = schema.areas
    for rec in clean.to_dict("records"):
        g = rec["geometry"]
        minx, miny, maxx, maxy = g.bounds
        values = {"name": rec["name"], "geom_wkb": shapely.to_wkb(g), "minx": minx, "miny": miny, "maxx": maxx,
                  "maxy": maxy, "source": source, "batch_id": result.batch_id}
        old = existing.get(rec["code"])
        if old is None:
            conn.execute(a.insert().values(level=level, code=rec["code"], **values))
            result.created += 1
        elif old.name == values["name"] and bytes(old.geom_wkb) == values["geom_wkb"]:
            result.unchanged += 1
        else:
            conn.execute(a.update().where(a.c.id == old.id).values(**values, updated_at=now_utc()))
            result.updated += 1


def import_areas(store: Store, path: str | Path, *, settings: Settings, level: str, layer: str | None = None,
                 crs: str | None = None, source: str | None = None, code_column: str | None = None,
                 name_column: str | None = None, encoding: str | None = None, snapshot: bool = False,
                 progress: Progress | None = None) -> ImportResult:
    """Import municipality or province boundaries; parks without a municipality (province) then get one.

    With ``snapshot`` the file is the complete set of its level: areas of that level it does not hold are
    removed (boundaries carry no history that scores or signals hang on).
    """
    if level not in AREA_LEVELS:
        raise UnknownOption(f"unknown area level {level!r}; known: {', '.join(AREA_LEVELS)}")
    path = Path(path)
    source = source or path.stem
    options = {"level": level, "layer": layer, "crs": crs, "code_column": code_column, "name_column": name_column}
    src = open_or_record(store, "areas", source, path, None, options, layer=layer, crs=crs, encoding=encoding)
    if not src.crs:
        raise FileRefused(f"{src.name} declares no coordinate reference system; pass --crs (e.g. EPSG:28992)")
    crs_of: str = src.crs
    code_col = _pick(src.columns, code_column, CODE_COLUMNS, "code", src.name)
    name_col = _pick(src.columns, name_column, NAME_COLUMNS, "name", src.name)

    def body(conn: Connection, result: ImportResult) -> None:
        a = schema.areas
        existing = {r.code: r for r in conn.execute(sa.select(a).where(a.c.level == level))}
        seen = SeenIds()
        first = True
        for chunk in result.stages.each(iter(src.chunks(settings.import_chunk_rows)), "read"):
            if first and chunk.geometry is not None:
                first = False
                sample = [g.envelope.centroid for g in chunk.geometry[:500] if g is not None and not g.is_empty]
                refuse_contradicting(np.array([p.x for p in sample]), np.array([p.y for p in sample]), crs_of,
                                     name=src.name, how=src.crs_from)
            with result.stages.timing("validate"):
                clean, rejections = _validate(chunk, level, code_col, name_col, crs_of, seen)
            result.read += len(chunk.frame)
            result.rejected += len(rejections)
            with result.stages.timing("write"):
                store_rejections(conn, result.batch_id, rejections)
                _store(conn, clean, level, source, existing, result)
            if progress is not None:
                progress(result.read, src.rows_hint)
        if snapshot:
            gone = [r.id for code, r in existing.items() if code not in seen]
            if gone:
                conn.execute(a.delete().where(a.c.id.in_(gone)))
            result.retired = len(gone)
        result.stored = result.created + result.updated
        with result.stages.timing("assign"):
            result.assignment = {"parks_given_" + level: fill_parks(conn, level)}

    return run_batch(store, "areas", source, src.name, None, {**options, "snapshot": snapshot or None}, body)


class AreaLookup:
    """The municipality and province each park lies in, from the imported boundaries (loaded on first use)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._levels: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, shapely.STRtree] | None] = {}

    def _level(self, level: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, shapely.STRtree] | None:
        if level not in self._levels:
            a = schema.areas
            rows = self._conn.execute(sa.select(a.c.code, a.c.name, a.c.geom_wkb).where(a.c.level == level)
                                      .order_by(a.c.code)).all()
            if rows:
                geoms = np.asarray(shapely.from_wkb([r.geom_wkb for r in rows]), dtype=object)
                shapely.prepare(geoms)
                self._levels[level] = (np.array([r.code for r in rows], dtype=object),
                                       np.array([r.name for r in rows], dtype=object), geoms, shapely.STRtree(geoms))
            else:
                self._levels[level] = None
        return self._levels[level]

    def locate(self, geoms: np.ndarray, level: str) -> tuple[np.ndarray, np.ndarray]:
        """(code, name) of the area each geometry's representative point lies in (None where none is near)."""
        n = len(geoms)
        codes, names = np.full(n, None, dtype=object), np.full(n, None, dtype=object)
        found = self._level(level)
        if found is None or not n:
            return codes, names
        area_codes, area_names, area_geoms, tree = found
        try:
            points = shapely.point_on_surface(geoms.astype(object))
        except GEOMETRY_ERRORS:
            return codes, names
        pi, aj = tree.query(points, predicate="intersects")
        first = np.unique(pi, return_index=True)[1]
        codes[pi[first]], names[pi[first]] = area_codes[aj[first]], area_names[aj[first]]
        rest = np.flatnonzero(pd.isna(codes))
        if len(rest):
            ri, rj = tree.query_nearest(points[rest], max_distance=NEAREST_WITHIN_M, all_matches=False)
            codes[rest[ri]], names[rest[ri]] = area_codes[rj], area_names[rj]
        return codes, names

    def fill(self, clean: pd.DataFrame) -> None:
        """Give parks without a municipality (or province) the one their polygon lies in, with a note."""
        if clean.empty:
            return
        missing = clean["municipality_code"].isna().to_numpy() & clean["municipality_name"].isna().to_numpy()
        if missing.any():
            code, name = self.locate(clean["geometry"].to_numpy()[missing], "municipality")
            clean.loc[missing, "municipality_code"] = code
            clean.loc[missing, "municipality_name"] = name
        no_province = clean["province"].isna().to_numpy()
        if no_province.any():
            _, province = self.locate(clean["geometry"].to_numpy()[no_province], "province")
            clean.loc[no_province, "province"] = province


def fill_parks(conn: Connection, level: str) -> int:
    """Give stored current parks without a municipality (province) the one they lie in; returns how many."""
    p = schema.parks
    if level == "municipality":
        cond = sa.and_(p.c.municipality_code.is_(None), p.c.municipality_name.is_(None))
    else:
        cond = p.c.province.is_(None)
    rows = conn.execute(sa.select(p.c.id, p.c.geom_wkb).where(cond, schema.current(p))).all()
    if not rows:
        return 0
    codes, names = AreaLookup(conn).locate(np.asarray(shapely.from_wkb([r.geom_wkb for r in rows]), dtype=object),
                                           level)
    now, done = now_utc(), 0
    for row, code, name in zip(rows, codes, names):
        if code is None:
            continue
        values = ({"municipality_code": code, "municipality_name": name} if level == "municipality"
                  else {"province": name})
        conn.execute(p.update().where(p.c.id == row.id).values(**values, updated_at=now))
        done += 1
    return done

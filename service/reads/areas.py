"""Areas served beside the parks: municipal aggregates of the published scores and regional hot-spot areas.

Both are derived from the park catalogue (:mod:`.catalogue`), so they always agree with the parks an analyst
sees, and are held in memory per data version like it. Municipal boundaries come from the ``areas`` table
when they were imported (CBS code, else name); without one a municipality is served with a null geometry.
Hot-spot areas are what the risk map draws: discs of :data:`HOTSPOT_RADIUS_M` around the parks Gi* marks
``hot``, merged where they touch, so one feature is one regional cluster rather than one ring per park.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from shapely import STRtree

from .. import geo
from ..store import Store, connection, schema
from ..vocab import RISK_CLASSES
from .catalogue import RD_CRS, ParkCatalogue, ParkFilter, catalogue

__all__ = ["AreaCollection", "municipality_aggregates", "hotspot_areas", "HOTSPOT_RADIUS_M",
           "MUNICIPALITY_FIELDS", "HOTSPOT_FIELDS"]

#: Radius of the discs around hot parks that make up a hot-spot area (the risk map uses the same).
HOTSPOT_RADIUS_M = 1000.0
#: The properties of a municipality feature, in order.
MUNICIPALITY_FIELDS: tuple[str, ...] = (
    "code", "name", "province", "park_count", "scored_count", *(f"count_{c}" for c in RISK_CLASSES),
    "count_unscored", "mean_score", "max_score", "hotspot_parks", "boundary", "as_of", "run_id", "model_version",
)
#: The properties of a hot-spot area feature, in order.
HOTSPOT_FIELDS: tuple[str, ...] = (
    "id", "park_count", "park_ids", "park_names", "municipalities", "mean_score", "max_score", "min_hotspot_p",
    "radius_m", "as_of", "run_id", "model_version",
)


@dataclass
class AreaCollection:
    """Features over areas with the same selection interface as the park catalogue (bbox, equals, as_of)."""

    version: tuple[Any, ...]
    ids: list[Any]
    props: list[dict[str, Any]]
    geom_rd: np.ndarray
    geom_wgs: np.ndarray
    features_wgs: list[str] = field(repr=False)
    features_rd: list[str] = field(repr=False)
    _trees: dict[str, STRtree] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, feature_id: Any) -> int | None:
        """Where the feature with ``feature_id`` (compared as text) is, or None."""
        wanted = str(feature_id)
        for i, fid in enumerate(self.ids):
            if str(fid) == wanted:
                return i
        return None

    def select(self, flt: ParkFilter, sort: Sequence[str] = ()) -> np.ndarray:
        """Positions of the features matching the bbox, property equality and as-of parts of ``flt``."""
        keep = np.ones(len(self.ids), dtype=bool)
        if flt.bbox is not None:
            if crs_tree := self._tree(flt.bbox_crs):
                inside = np.zeros(len(self.ids), dtype=bool)
                inside[crs_tree.query(shapely.box(*flt.bbox), predicate="intersects")] = True
                keep &= inside
        for name, value in flt.equals:
            keep &= np.array([_text(p.get(name)) == value for p in self.props], dtype=bool)
        if flt.as_of_from is not None or flt.as_of_to is not None:
            lo = flt.as_of_from.isoformat() if flt.as_of_from else "0000"
            hi = flt.as_of_to.isoformat() if flt.as_of_to else "9999"
            keep &= np.array([p.get("as_of") is not None and lo <= p["as_of"] <= hi for p in self.props], dtype=bool)
        return np.flatnonzero(keep)

    def _tree(self, crs: str) -> STRtree | None:
        if not len(self.ids):
            return None
        if crs not in self._trees:
            self._trees[crs] = STRtree(self.geom_rd if crs == RD_CRS else self.geom_wgs)
        return self._trees[crs]

    def features(self, positions: np.ndarray, *, crs: str = "", geometry: bool = True) -> list[str]:
        """Pre-serialised GeoJSON features (text) of ``positions``, in RD when ``crs`` is RD, else CRS84."""
        source = self.features_rd if crs == RD_CRS else self.features_wgs
        return [source[i] for i in positions]


def _text(value: Any) -> str:
    """A property as a query string spells it: ``true``/``false`` for booleans, '' for null."""
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _collection(version: tuple[Any, ...], ids: list[Any], props: list[dict[str, Any]],
                geoms_rd: list[Any]) -> AreaCollection:
    """Reproject once and serialise every feature in both CRSs (a null geometry stays null)."""
    rd = np.array(geoms_rd, dtype=object) if geoms_rd else np.empty(0, dtype=object)
    has = np.array([g is not None for g in rd], dtype=bool)
    wgs = np.full(len(rd), None, dtype=object)
    if has.any():
        wgs[has] = geo.to_wgs84(rd[has])

    def texts(geoms: np.ndarray, grid: float) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = [None] * len(geoms)
        if has.any():
            for i, text in zip(np.flatnonzero(has), shapely.to_geojson(shapely.set_precision(geoms[has], grid))):
                out[i] = json.loads(text)
        return out

    def serialise(geometries: list[dict[str, Any] | None]) -> list[str]:
        return [json.dumps({"type": "Feature", "id": fid, "geometry": g, "properties": p}, ensure_ascii=False,
                           separators=(",", ":")) for fid, p, g in zip(ids, props, geometries)]

    return AreaCollection(version=version, ids=ids, props=props, geom_rd=rd, geom_wgs=wgs,
                          features_wgs=serialise(texts(wgs, 1e-7)), features_rd=serialise(texts(rd, 0.01)))


def _run_fields(cat: ParkCatalogue) -> dict[str, Any]:
    run = cat.run or {}
    as_of = run.get("as_of")
    return {"as_of": None if as_of is None else str(as_of)[:10], "run_id": run.get("id"),
            "model_version": run.get("model_version")}


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 2) if values else None


# -- municipalities and provinces -----------------------------------------------------------------------------
def _boundary_version(store: Store, level: str = "municipality") -> tuple[Any, ...]:
    """Changes when boundaries of ``level`` are imported or changed (cheap: a count and a timestamp)."""
    a = schema.areas
    with connection(store) as conn:
        count, latest = conn.execute(sa.select(sa.func.count(), sa.func.max(sa.cast(a.c.updated_at, sa.String)))
                                     .where(a.c.level == level)).one()
    return int(count), str(latest)


def _boundaries(store: Store, level: str = "municipality") -> tuple[dict[str, Any], dict[str, Any]]:
    """(boundary by CBS code, boundary by lower-case name) of the imported areas of ``level``, in RD; the
    code of each is kept too, as ``codes`` by lower-case name."""
    a = schema.areas
    with connection(store) as conn:
        rows = list(conn.execute(sa.select(a.c.code, a.c.name, a.c.geom_wkb).where(a.c.level == level)))
    geoms = shapely.from_wkb([r.geom_wkb for r in rows]) if rows else []
    by_code = {str(r.code).upper(): g for r, g in zip(rows, geoms)}
    by_name = {str(r.name).strip().lower(): (g, str(r.code)) for r, g in zip(rows, geoms)}
    return by_code, by_name


def _area_key(props: dict[str, Any], level: str) -> str:
    if level == "province":
        return (props.get("province") or "").strip() or "unknown"
    return props.get("municipality_code") or (props.get("municipality_name") or "").strip() or "unknown"


def _aggregate(key: str, members: list[dict[str, Any]], run: dict[str, Any], level: str = "municipality"
               ) -> dict[str, Any]:
    scores = [float(p["score"]) for p in members if p.get("score") is not None]
    named = next((p for p in members if p.get("municipality_name")), members[0])
    out: dict[str, Any] = dict.fromkeys(MUNICIPALITY_FIELDS)
    if level == "province":
        code, name = None, (None if key == "unknown" else key)
    else:
        code, name = members[0].get("municipality_code"), named.get("municipality_name")
    out.update(code=code, name=name,
               province=next((p["province"] for p in members if p.get("province")), None),
               park_count=len(members), scored_count=len(scores), mean_score=_mean(scores),
               max_score=round(max(scores), 2) if scores else None,
               hotspot_parks=sum(1 for p in members if p.get("hotspot") == "hot"), **run)
    for c in RISK_CLASSES:
        out[f"count_{c}"] = sum(1 for p in members if p.get("risk_class") == c)
    out["count_unscored"] = len(members) - len(scores)
    if key == "unknown":
        out["name"] = None
    return out


def _build_municipalities(store: Store, cat: ParkCatalogue, version: tuple[Any, ...],
                          level: str = "municipality") -> AreaCollection:
    by_code, by_name = _boundaries(store, level)
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in cat.props:
        groups.setdefault(_area_key(p, level), []).append(p)
    run = _run_fields(cat)
    ids, props, geoms = [], [], []
    for key in sorted(groups):
        agg = _aggregate(key, groups[key], run, level)
        named = by_name.get(str(agg["name"] or "").lower())
        if level == "province" and named is not None:
            agg["code"] = named[1]
        boundary = by_code.get(str(agg["code"] or "").upper()) or (named[0] if named else None)
        agg["boundary"] = boundary is not None
        ids.append(key)
        props.append(agg)
        geoms.append(boundary)
    return _collection(version, ids, props, geoms)


# -- hot spots ------------------------------------------------------------------------------------------------
def _build_hotspots(cat: ParkCatalogue, radius_m: float) -> AreaCollection:
    hot = [i for i, p in enumerate(cat.props) if p.get("hotspot") == "hot"]
    if not hot:
        return _collection(cat.version, [], [], [])
    points = shapely.point_on_surface(cat.geom_rd[hot])
    union = shapely.union_all(shapely.buffer(points, radius_m, quad_segs=8))
    areas = sorted(getattr(union, "geoms", [union]), key=lambda g: (g.bounds[0], g.bounds[1]))
    tree = STRtree(points)
    run = _run_fields(cat)
    rows = []
    for area in areas:
        members = sorted((cat.props[hot[j]] for j in tree.query(area, predicate="intersects")),
                         key=lambda p: (-(p.get("score") or 0.0), p["id"]))
        scores = [float(p["score"]) for p in members if p.get("score") is not None]
        ps = [float(p["hotspot_p"]) for p in members if p.get("hotspot_p") is not None]
        fid = min(p["id"] for p in members)  # stable while the cluster keeps its lowest-numbered park
        props: dict[str, Any] = dict.fromkeys(HOTSPOT_FIELDS)
        props.update(id=fid, park_count=len(members), park_ids=",".join(str(p["id"]) for p in members),
                     park_names=", ".join(p.get("name") or f"park {p['id']}" for p in members[:5]),
                     municipalities=", ".join(sorted({p["municipality_name"] for p in members
                                                      if p.get("municipality_name")})),
                     mean_score=_mean(scores), max_score=round(max(scores), 2) if scores else None,
                     min_hotspot_p=round(min(ps), 4) if ps else None, radius_m=radius_m, **run)
        rows.append((fid, props, area))
    rows.sort(key=lambda r: r[0])
    return _collection(cat.version, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


_CACHE: dict[tuple[str, str], AreaCollection] = {}
_LOCK = threading.Lock()


def _cached(key: tuple[str, str], version: tuple[Any, ...], build: Any) -> AreaCollection:
    cached = _CACHE.get(key)
    if cached is not None and cached.version == version:
        return cached
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None or cached.version != version:
            cached = build()
            _CACHE[key] = cached
        return cached


def municipality_aggregates(store: Store, level: str = "municipality") -> AreaCollection:
    """One feature per municipality (or province) with parks: counts per risk class, mean and highest score,
    hot parks."""
    cat = catalogue(store)
    version = (*cat.version, *_boundary_version(store, level))
    return _cached((store.url, level), version, lambda: _build_municipalities(store, cat, version, level))


def hotspot_areas(store: Store, radius_m: float = HOTSPOT_RADIUS_M) -> AreaCollection:
    """One feature per regional Gi* hot-spot cluster: the merged discs around its hot parks."""
    cat = catalogue(store)
    return _cached((store.url, f"hotspots:{radius_m}"), cat.version, lambda: _build_hotspots(cat, radius_m))

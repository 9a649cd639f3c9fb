"""The park catalogue: every current park with its published score, held in memory per data version.

Analysts' queries (REST ``/api/v1/parks``, OGC API ``/ogc/collections/parks/items``, exports) all filter,
sort and page the same few thousand parks. Reading them from the store on every request costs a query, a
WKB decode and a reprojection per park; the catalogue does that once per data version (a published run,
an incremental update, an import) and answers each request with array operations and pre-serialised
GeoJSON features. Properties are flat (one column per theme and per top factor) so GIS tools show them.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from shapely import STRtree

from .. import geo, scoring
from ..store import Store, connection, schema
from ..vocab import RISK_CLASSES, THEMES
from .scores import data_version

__all__ = ["ParkCatalogue", "ParkFilter", "catalogue", "build_catalogue", "patch_catalogue", "CRS84", "RD_CRS",
           "SORT_FIELDS", "PROPERTY_FIELDS"]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD_CRS = "http://www.opengis.net/def/crs/EPSG/0/28992"
#: Fields a client may sort on (``-field`` for descending).
SORT_FIELDS = ("id", "name", "score", "change", "risk_class", "kind", "municipality_name", "area_m2")
_TOP = 3
#: The flat properties of a park feature, in order (also the CSV columns).
PROPERTY_FIELDS: tuple[str, ...] = (
    "id", "name", "kind", "municipality_code", "municipality_name", "province", "unit_count", "area_m2",
    "score", "risk_class", "change", "previous_score", "hotspot", "hotspot_p",
    *(f"points_{t}" for t in THEMES),
    *(f"factor_{i}{suffix}" for i in range(1, _TOP + 1) for suffix in ("", "_label", "_points")),
    "latest_signal", "as_of", "scored_at", "run_id", "model_version",
)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class ParkFilter:
    """What a client asks for; every field optional. ``bbox`` is in ``bbox_crs`` (CRS84 lon/lat or RD)."""

    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str = CRS84
    municipality: str | None = None  # CBS code (GM0513) or name, case-insensitive
    province: str | None = None
    kinds: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    min_score: float | None = None
    max_score: float | None = None
    hotspot: str | None = None
    park_ids: frozenset[int] | None = None
    as_of_from: dt.date | None = None
    as_of_to: dt.date | None = None
    equals: tuple[tuple[str, str], ...] = ()  # property = value (OGC property filters), compared as text


@dataclass
class ParkCatalogue:
    """Arrays over the current parks (ordered by id) and their pre-serialised GeoJSON features."""

    version: tuple[Any, ...]
    run: dict[str, Any] | None
    ids: np.ndarray
    props: list[dict[str, Any]]
    geom_rd: np.ndarray
    geom_wgs: np.ndarray
    features_wgs: list[str] = field(repr=False)
    features_rd: list[str] = field(repr=False)
    features_bare: list[str] = field(repr=False)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _trees: dict[str, STRtree] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def _column(self, name: str) -> np.ndarray:
        return np.array([p.get(name) for p in self.props], dtype=object)

    def tree(self, crs: str) -> STRtree:
        if crs not in self._trees:
            self._trees[crs] = STRtree(self.geom_rd if crs == RD_CRS else self.geom_wgs)
        return self._trees[crs]

    def position(self, park_id: int) -> int | None:
        i = int(np.searchsorted(self.ids, park_id))
        return i if i < len(self.ids) and int(self.ids[i]) == park_id else None

    # -- filtering, sorting, paging ------------------------------------------------------------------
    def select(self, flt: ParkFilter, sort: Sequence[str] = ()) -> np.ndarray:
        """Positions of the parks matching ``flt``, in ``sort`` order (default: by id)."""
        keep = np.ones(len(self.ids), dtype=bool)
        if flt.bbox is not None:
            hits = self.tree(flt.bbox_crs).query(shapely.box(*flt.bbox), predicate="intersects")
            inside = np.zeros(len(self.ids), dtype=bool)
            inside[hits] = True
            keep &= inside
        keep &= self._text_filters(flt)
        keep &= self._score_filters(flt)
        if flt.park_ids is not None:
            keep &= np.isin(self.ids, np.fromiter(flt.park_ids, dtype=np.int64, count=len(flt.park_ids)))
        positions = np.flatnonzero(keep)
        return self._sorted(positions, sort)

    def _text_filters(self, flt: ParkFilter) -> np.ndarray:
        keep = np.ones(len(self.ids), dtype=bool)
        if flt.municipality:
            want = flt.municipality.strip().lower()
            keep &= np.array([want in ((p["municipality_code"] or "").lower(), (p["municipality_name"] or "").lower())
                              for p in self.props], dtype=bool)
        if flt.province:
            want = flt.province.strip().lower()
            keep &= np.array([(p["province"] or "").lower() == want for p in self.props], dtype=bool)
        if flt.kinds:
            keep &= np.isin(self._column("kind"), list(flt.kinds))
        if flt.classes:
            keep &= np.isin(self._column("risk_class"), list(flt.classes))
        if flt.hotspot:
            keep &= self._column("hotspot") == flt.hotspot
        for name, value in flt.equals:
            keep &= np.array([str(p.get(name)) == value if p.get(name) is not None else value == ""
                              for p in self.props], dtype=bool)
        return keep

    def _score_filters(self, flt: ParkFilter) -> np.ndarray:
        keep = np.ones(len(self.ids), dtype=bool)
        if flt.min_score is None and flt.max_score is None and flt.as_of_from is None and flt.as_of_to is None:
            return keep
        scores = np.array([np.nan if p["score"] is None else p["score"] for p in self.props], dtype=float)
        if flt.min_score is not None:
            keep &= scores >= flt.min_score
        if flt.max_score is not None:
            keep &= scores <= flt.max_score
        if flt.as_of_from is not None or flt.as_of_to is not None:
            lo = (flt.as_of_from or dt.date.min).isoformat()
            hi = (flt.as_of_to or dt.date.max).isoformat()
            keep &= np.array([p["as_of"] is not None and lo <= p["as_of"] <= hi for p in self.props], dtype=bool)
        return keep

    def _sorted(self, positions: np.ndarray, sort: Sequence[str]) -> np.ndarray:
        if not sort or not len(positions):
            return positions
        keys: list[np.ndarray] = []
        for spec in reversed(list(sort)):  # lexsort: the last key is the primary one; it is stable, so ties
            desc, name = spec.startswith("-"), spec.lstrip("-+")  # keep the id order
            keys.extend(self._sort_keys(positions, name, desc))
        return positions[np.lexsort(keys)]

    def _sort_keys(self, positions: np.ndarray, name: str, desc: bool) -> list[np.ndarray]:
        """A missing value sorts last either way; text compares case-insensitively."""
        values = [self.props[i].get(name) for i in positions]
        missing = np.array([v is None for v in values])
        if name == "risk_class":
            values = [None if v is None else RISK_CLASSES.index(v) for v in values]
        if all(v is None or isinstance(v, int | float) for v in values):
            num = np.array([0.0 if v is None else float(v) for v in values])
            return [(-num if desc else num), missing]
        order = {t: k for k, t in enumerate(sorted({str(v).lower() for v in values if v is not None}))}
        ranks = np.array([-1 if v is None else order[str(v).lower()] for v in values], dtype=float)
        return [(-ranks if desc else ranks), missing]

    def features(self, positions: np.ndarray, *, crs: str = CRS84, geometry: bool = True) -> list[str]:
        """Pre-serialised GeoJSON features (text) of ``positions``."""
        source = self.features_bare if not geometry else (self.features_rd if crs == RD_CRS else self.features_wgs)
        return [source[i] for i in positions]


# -- building ---------------------------------------------------------------------------------------------
def _park_rows(conn: sa.Connection) -> list[Any]:
    p = schema.parks
    cols = [p.c.id, p.c.name, p.c.kind, p.c.municipality_code, p.c.municipality_name, p.c.province,
            p.c.unit_count, p.c.area_m2, p.c.geom_wkb]
    return list(conn.execute(sa.select(*cols).where(p.c.retired_at.is_(None)).order_by(p.c.id)))


def _score_rows(conn: sa.Connection, run_id: int, parks: Sequence[int] | None = None) -> dict[int, Any]:
    ps = schema.park_scores
    q = sa.select(ps.c.park_id, ps.c.score, ps.c.risk_class, ps.c.change, ps.c.previous_score, ps.c.hotspot,
                  ps.c.hotspot_p, ps.c.themes, ps.c.factors, ps.c.freshness, ps.c.updated_at, ps.c.as_of)
    q = q.where(ps.c.run_id == run_id)
    if parks is not None:
        q = q.where(ps.c.park_id.in_(parks))
    return {int(r.park_id): r for r in conn.execute(q)}


def _properties(park: Any, score: Any, run: dict[str, Any] | None,
                labels: dict[str, tuple[str, str]]) -> dict[str, Any]:
    props: dict[str, Any] = dict.fromkeys(PROPERTY_FIELDS)
    props.update(id=int(park.id), name=park.name, kind=park.kind, municipality_code=park.municipality_code,
                 municipality_name=park.municipality_name, province=park.province, unit_count=park.unit_count,
                 area_m2=None if park.area_m2 is None else round(float(park.area_m2), 1))
    if score is None or run is None:
        return props
    themes = _json(score.themes) or {}
    points = {k: float((v or {}).get("points") or 0) for k, v in (_json(score.factors) or {}).items()}
    props.update(score=round(float(score.score), 2), risk_class=score.risk_class,
                 change=None if score.change is None else round(float(score.change), 2),
                 previous_score=None if score.previous_score is None else round(float(score.previous_score), 2),
                 hotspot=score.hotspot, hotspot_p=score.hotspot_p, as_of=_iso(score.as_of or run.get("as_of")),
                 scored_at=_iso(score.updated_at), run_id=run["id"], model_version=run.get("model_version"))
    for t in THEMES:
        props[f"points_{t}"] = round(float(themes.get(t) or 0), 2)
    for i, (fid, pts) in enumerate(scoring.top_factors(points, _TOP), start=1):
        props[f"factor_{i}"], props[f"factor_{i}_points"] = fid, round(pts, 2)
        props[f"factor_{i}_label"] = labels.get(fid, (fid, fid))[0]
    fresh = [d for d in (_json(score.freshness) or {}).values() if d]
    props["latest_signal"] = max(fresh)[:10] if fresh else None
    return props


def _feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> str:
    return json.dumps({"type": "Feature", "id": props["id"], "geometry": geometry, "properties": props},
                      ensure_ascii=False, separators=(",", ":"))


def build_catalogue(store: Store) -> ParkCatalogue:
    """Read every current park with its published score, reproject once and serialise each feature."""
    with connection(store) as conn:
        version = data_version(conn)
        run = scoring.published_run(store)
        parks = _park_rows(conn)
        scores = _score_rows(conn, int(run["id"])) if run else {}
        model = scoring.run_model(conn, int(run["id"])) if run else None
    labels = {f.id: (f.label_nl, f.label_en) for f in model.factors} if model else {}
    ids = np.array([int(p.id) for p in parks], dtype=np.int64)
    geom_rd = np.asarray(shapely.from_wkb([p.geom_wkb for p in parks]) if parks else [], dtype=object)
    geom_wgs = np.asarray(geo.to_wgs84(geom_rd), dtype=object) if parks else np.empty(0, dtype=object)
    props = [_properties(p, scores.get(int(p.id)), run, labels) for p in parks]
    wgs = shapely.set_precision(geom_wgs, 1e-7) if parks else geom_wgs
    rd = shapely.set_precision(geom_rd, 0.01) if parks else geom_rd
    wgs_json = shapely.to_geojson(wgs) if parks else []
    rd_json = shapely.to_geojson(rd) if parks else []
    return ParkCatalogue(
        version=version, run=run, ids=ids, props=props, geom_rd=geom_rd, geom_wgs=geom_wgs,
        features_wgs=[_feature(pr, json.loads(g)) for pr, g in zip(props, wgs_json)],
        features_rd=[_feature(pr, json.loads(g)) for pr, g in zip(props, rd_json)],
        features_bare=[_feature(pr, None) for pr in props], labels=labels,
    )


#: Parks re-scored since the cached catalogue above which a patch is not worth it and it is built afresh.
PATCH_MAX_PARKS = 500


def _patchable(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Same published run, same parks: only incremental updates (and signals, which the catalogue does not
    show) came in since ``old``; see :func:`.scores.data_version` for the tuple."""
    return old[0] == new[0] and new[0] is not None and old[2:5] == new[2:5]


def patch_catalogue(store: Store, cat: ParkCatalogue, version: tuple[Any, ...]) -> ParkCatalogue | None:
    """``cat`` with the scores of the parks re-scored since its version, or None when a full build is due.

    Every signal POST re-scores a few parks, and every worker would otherwise rebuild the whole catalogue
    for the next request (~1 s for the national set). The patched catalogue is a new object (requests in
    flight keep reading the old one); geometries, their trees and the features of other parks are shared."""
    if cat.run is None or not _patchable(cat.version, version):
        return None
    u = schema.score_updates
    with connection(store) as conn:
        rows = conn.execute(sa.select(u.c.rescored).where(u.c.run_id == int(cat.run["id"]),
                                                          u.c.id > int(cat.version[1] or 0))).scalars().all()
        parks = sorted({int(p) for ids in rows for p in (_json(ids) or [])})
        if len(parks) > PATCH_MAX_PARKS:
            return None
        p = schema.parks
        cols = [p.c.id, p.c.name, p.c.kind, p.c.municipality_code, p.c.municipality_name, p.c.province,
                p.c.unit_count, p.c.area_m2]
        park_rows = {int(r.id): r for r in conn.execute(sa.select(*cols).where(p.c.id.in_(parks)))} if parks else {}
        scores = _score_rows(conn, int(cat.run["id"]), parks) if parks else {}
    props, wgs, rd, bare = list(cat.props), list(cat.features_wgs), list(cat.features_rd), list(cat.features_bare)
    for pid in parks:
        i = cat.position(pid)
        if i is None or pid not in park_rows:
            continue
        props[i] = _properties(park_rows[pid], scores.get(pid), cat.run, cat.labels)
        wgs[i] = _feature(props[i], json.loads(wgs[i])["geometry"])
        rd[i] = _feature(props[i], json.loads(rd[i])["geometry"])
        bare[i] = _feature(props[i], None)
    return ParkCatalogue(version=version, run=cat.run, ids=cat.ids, props=props, geom_rd=cat.geom_rd,
                         geom_wgs=cat.geom_wgs, features_wgs=wgs, features_rd=rd, features_bare=bare,
                         labels=cat.labels, _trees=cat._trees)


_CACHE: dict[str, ParkCatalogue] = {}
_LOCK = threading.Lock()


def catalogue(store: Store) -> ParkCatalogue:
    """The catalogue of ``store`` at its current data version: patched when only incremental updates came
    in since the cached one, rebuilt when anything else changed."""
    version = data_version(store)
    cached = _CACHE.get(store.url)
    if cached is not None and cached.version == version:
        return cached
    with _LOCK:
        cached = _CACHE.get(store.url)
        if cached is None or cached.version != version:
            patched = patch_catalogue(store, cached, version) if cached is not None else None
            cached = patched if patched is not None else build_catalogue(store)
            _CACHE[store.url] = cached
        return cached

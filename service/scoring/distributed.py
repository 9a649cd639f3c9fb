"""The dask engine: a full run's engine step on a ``dask.distributed`` cluster, exactly equal to the in-process one.

Parks are cut into spatial partitions (contiguous runs of the Hilbert curve over their centroids, computed
with dask-geopandas); each partition travels to a worker once, with only the signals assigned to its parks.
Phase 1 computes every partition's first-pass points (everything but the neighbour factor); those are small,
one integer per park, and are gathered. Phase 2 computes each partition again with its neighbour pairs and
the first-pass points of neighbours in other partitions (``known_base``), which is how the incremental update
already scores a subset. The results are joined in park-id order and the caller goes on as usual: hot spots,
explanations, the lock and publication are the same code for both engines.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store import Store
from .engine import EngineResult, Evidence, NeighbourPairs, ParkFrame, compute
from .factors import SignalFrame
from .model import Model

__all__ = ["DaskEngine", "spatial_partitions", "split_signals", "two_phase", "merge_results", "ENGINES"]

log = logging.getLogger("parkwacht.batch")

ENGINES = ("local", "dask")


def spatial_partitions(park_ids: np.ndarray, geoms: np.ndarray, n_parts: int) -> list[np.ndarray]:
    """``park_ids`` cut into at most ``n_parts`` spatially compact groups (each sorted by id)."""
    n_parts = max(1, min(n_parts, len(park_ids)))
    if len(park_ids) == 0:
        return []
    if n_parts == 1:
        return [np.sort(park_ids)]
    import dask_geopandas
    import geopandas as gpd

    points = gpd.GeoSeries(gpd.GeoSeries(geoms, crs=28992).representative_point().values, crs=28992)
    dgs = dask_geopandas.from_geopandas(gpd.GeoDataFrame(geometry=points), npartitions=1)
    minx, miny, maxx, maxy = points.total_bounds  # padded: parks on one line still have an extent
    distance = np.asarray(dgs.hilbert_distance(total_bounds=(minx - 1, miny - 1, maxx + 1, maxy + 1)).compute(),
                          dtype=np.int64)
    order = np.lexsort((park_ids, distance))
    return [np.sort(park_ids[chunk]) for chunk in np.array_split(order, n_parts) if len(chunk)]


def _phase1(model: Model, part: tuple[ParkFrame, SignalFrame], as_of: dt.date) -> np.ndarray:
    """First-pass points (hundredths) of one partition's parks: no neighbour factor needed."""
    parks, signals = part
    with np.errstate(invalid="ignore"):  # the neighbour factor is NaN here and is not part of the first pass
        return compute(model, parks, signals, as_of, neighbours=NeighbourPairs.empty()).base_cents


def _phase2(model: Model, part: tuple[ParkFrame, SignalFrame], as_of: dt.date, pairs: NeighbourPairs,
            known_base: dict[int, int]) -> EngineResult:
    """One partition's full result, its neighbours' first-pass points given."""
    parks, signals = part
    return compute(model, parks, signals, as_of, neighbours=pairs, known_base=known_base)


def merge_results(model: Model, as_of: dt.date, parts: list[EngineResult]) -> EngineResult:
    """Partition results joined into one, in park-id order, as if one engine had scored every park."""
    parts = [p for p in parts if len(p.park_ids)]
    ids = np.concatenate([p.park_ids for p in parts])
    order = np.argsort(ids, kind="stable")
    where = np.empty(len(ids), dtype=np.int64)
    where[order] = np.arange(len(ids))  # position in the merged result of each concatenated row
    offsets = np.cumsum([0] + [len(p.park_ids) for p in parts])

    def rows(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])[order]

    evidence: dict[str, Evidence] = {}
    for fid in parts[0].evidence:
        pos = np.concatenate([where[off + p.evidence[fid].pos] for off, p in zip(offsets, parts)])
        ev_ids = np.concatenate([p.evidence[fid].ids for p in parts])
        count = np.concatenate([p.evidence[fid].count for p in parts])[order]
        keep = np.argsort(pos, kind="stable")  # parks ascending; within a park the order of its own engine
        evidence[fid] = Evidence(pos[keep], ev_ids[keep], count)
    counts: dict[str, int] = {}
    for p in parts:
        for k, v in p.counts.items():
            counts[k] = counts.get(k, 0) + int(v)
    lag: dict[int, list[int]] = {}
    for p in parts:
        lag.update(p.lag_neighbours)
    return EngineResult(model=model, as_of=as_of, park_ids=ids[order], raw=rows("raw"), normalised=rows("normalised"),
                        cents=rows("cents"), base_cents=rows("base_cents"), score_cents=rows("score_cents"),
                        adjust_cents=rows("adjust_cents"), evidence=evidence,
                        lag_neighbours={k: lag[k] for k in sorted(lag)}, counts=counts)


def split_signals(parks: ParkFrame, signals: SignalFrame,
           groups: list[np.ndarray]) -> list[tuple[ParkFrame, SignalFrame]]:
    """Each group's parks with only the signals assigned to them (one pass over the signals, ids kept ascending)."""
    label_of = np.full(len(parks), -1, dtype=np.int64)
    for k, g in enumerate(groups):
        label_of[np.searchsorted(parks.id, g)] = k
    pos = np.minimum(np.searchsorted(parks.id, signals.park_id), max(len(parks) - 1, 0))
    label = np.where(parks.id[pos] == signals.park_id, label_of[pos], -1)
    order = np.argsort(label, kind="stable")  # stable: ids stay ascending inside each group
    bounds = np.searchsorted(label[order], np.arange(len(groups) + 1))
    return [(parks.take(np.searchsorted(parks.id, g)), signals.take(order[bounds[k]:bounds[k + 1]]))
            for k, g in enumerate(groups)]


@dataclass
class DaskEngine:
    """A drop-in for :func:`~.engine.compute` that runs on a dask cluster (``scheduler`` or a LocalCluster).

    ``geometries`` (park ids and RD geometries, as :meth:`Store.park_geometries` gives them) place parks in
    partitions; without them the engine reads them from ``store``.
    """

    scheduler: str | None = None
    workers: int = 2
    partitions: int | None = None
    store: Store | None = None

    def _client(self) -> Any:
        from distributed import Client, LocalCluster

        if self.scheduler:
            return Client(self.scheduler), None
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.WARNING)
        return Client(cluster), cluster

    def _groups(self, parks: ParkFrame, n_parts: int) -> list[np.ndarray]:
        if self.store is None:
            return [np.sort(g) for g in np.array_split(parks.id, n_parts) if len(g)]
        pg = self.store.park_geometries()
        keep = np.isin(pg.ids, parks.id)
        groups = spatial_partitions(pg.ids[keep], pg.geoms[keep], n_parts)
        missing = np.setdiff1d(parks.id, pg.ids[keep])  # parks without a geometry: one more group
        return groups + ([missing] if len(missing) else [])

    def __call__(self, model: Model, parks: ParkFrame, signals: SignalFrame, as_of: dt.date, *,
                 neighbours: NeighbourPairs | None = None) -> EngineResult:
        pairs = neighbours or NeighbourPairs.empty()
        if len(parks) == 0:
            return compute(model, parks, signals, as_of, neighbours=pairs)
        client, cluster = self._client()
        try:
            n_workers = len(client.scheduler_info()["workers"])
            groups = self._groups(parks, self.partitions or max(2, 2 * n_workers))
            # Each partition travels once; both phases find it on its worker.
            handles = [client.scatter([part], direct=True)[0] for part in split_signals(parks, signals, groups)]
            log.info("dask engine: %d partitions on %d workers", len(groups), n_workers)

            def run(fn: Callable[..., Any], calls: list[tuple[Any, ...]]) -> list[Any]:
                return list(client.gather([client.submit(fn, *args, pure=False) for args in calls]))

            return two_phase(model, as_of, groups, handles, pairs, run)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def two_phase(model: Model, as_of: dt.date, groups: list[np.ndarray], parts: list[Any], pairs: NeighbourPairs,
              run: Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]) -> EngineResult:
    """The two phases over ``parts`` (one per group: a (parks, signals) pair or a handle to one), mapped by ``run``.

    ``run(fn, calls)`` applies ``fn`` to each argument tuple: on a cluster, or in process (tests do that).
    """
    bases = run(_phase1, [(model, part, as_of) for part in parts])
    base = dict(zip(np.concatenate(groups).tolist(), np.concatenate(bases).tolist()))
    calls = []
    for g, part in zip(groups, parts):
        sel = np.isin(pairs.a, g)
        mine = NeighbourPairs(pairs.a[sel], pairs.b[sel])
        known = {int(b): int(base[int(b)]) for b in np.setdiff1d(mine.b, g)}
        calls.append((model, part, as_of, mine, known))
    return merge_results(model, as_of, run(_phase2, calls))

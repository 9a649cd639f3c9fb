"""The dask engine: a full run's engine step on a ``dask.distributed`` cluster, exactly equal to the in-process one.

Parks are cut into spatial partitions (contiguous runs of the Hilbert curve over their centroids, computed
with dask-geopandas). Each partition travels to a free worker with only the signals assigned to its parks, one
partition per worker at a time, and the worker sends back its *first pass* (every factor but the neighbours'
one; small: per park, plus the capped evidence ids), after which the partition's signals are dropped. A
worker thus holds the signals of one partition at once. The spatial lag needs no signal: the driver finishes
each partition with its neighbour pairs and the first-pass points of neighbours in other partitions
(``known_base``, as the incremental update already scores a subset), and joins the results in park-id order.
Hot spots, explanations, the lock and publication are the same code for both engines.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store import Store
from .engine import EngineResult, Evidence, FirstPass, NeighbourPairs, ParkFrame, compute, finish, first_pass
from .factors import SignalFrame
from .model import Model

__all__ = ["DaskEngine", "spatial_partitions", "iter_partitions", "split_signals", "first_passes_on",
           "finish_partitions", "merge_results", "ENGINES"]

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


def _first_pass(model: Model, part: tuple[ParkFrame, SignalFrame], as_of: dt.date) -> FirstPass:
    parks, signals = part
    return first_pass(model, parks, signals, as_of)


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


def iter_partitions(parks: ParkFrame, signals: SignalFrame,
                    groups: list[np.ndarray]) -> Iterator[tuple[ParkFrame, SignalFrame]]:
    """Each group's parks with only the signals assigned to them (one pass over the signals, ids kept ascending).

    One at a time, so whoever sends them holds one partition's copy of the signals at once.
    """
    label_of = np.full(len(parks), -1, dtype=np.int64)
    for k, g in enumerate(groups):
        label_of[np.searchsorted(parks.id, g)] = k
    pos = np.minimum(np.searchsorted(parks.id, signals.park_id), max(len(parks) - 1, 0))
    label = np.where(parks.id[pos] == signals.park_id, label_of[pos], -1)
    order = np.argsort(label, kind="stable")  # stable: ids stay ascending inside each group
    bounds = np.searchsorted(label[order], np.arange(len(groups) + 1))
    del label, pos, label_of
    for k, g in enumerate(groups):
        yield parks.take(np.searchsorted(parks.id, g)), signals.take(order[bounds[k]:bounds[k + 1]])


def split_signals(parks: ParkFrame, signals: SignalFrame,
                  groups: list[np.ndarray]) -> list[tuple[ParkFrame, SignalFrame]]:
    """All partitions of :func:`iter_partitions` at once."""
    return list(iter_partitions(parks, signals, groups))


def first_passes_on(client: Any, model: Model, as_of: dt.date,
                    parts: Iterator[tuple[ParkFrame, SignalFrame]]) -> list[FirstPass]:
    """Each partition's first pass on ``client``'s cluster, in the order of ``parts``.

    A partition goes to a worker with nothing to do (scattered to it, its task pinned there) and is released
    as its first pass comes back, so no worker holds two partitions' signals at once.
    """
    from distributed import as_completed

    workers = list(client.scheduler_info()["workers"])
    if not workers:
        raise RuntimeError("the dask cluster has no workers")
    results: dict[int, FirstPass] = {}
    owner: dict[str, tuple[int, str]] = {}
    todo = enumerate(parts)
    done = as_completed()

    def send(addr: str) -> bool:
        nxt = next(todo, None)
        if nxt is None:
            return False
        k, part = nxt
        [handle] = client.scatter([part], workers=[addr], direct=True)
        fut = client.submit(_first_pass, model, handle, as_of, workers=[addr], allow_other_workers=False,
                            pure=False)
        owner[fut.key] = (k, addr)
        done.add(fut)
        return True

    for addr in workers:
        if not send(addr):
            break
    for fut in done:
        k, addr = owner.pop(fut.key)
        results[k] = fut.result()
        fut.release()  # the task's result; its partition is forgotten with the last reference to its handle
        send(addr)
    return [results[k] for k in range(len(results))]


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
            log.info("dask engine: %d partitions on %d workers", len(groups), n_workers)
            firsts = first_passes_on(client, model, as_of, iter_partitions(parks, signals, groups))
            return finish_partitions(model, as_of, groups, firsts, pairs)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def finish_partitions(model: Model, as_of: dt.date, groups: list[np.ndarray], firsts: list[FirstPass],
              pairs: NeighbourPairs) -> EngineResult:
    """Each group's first pass finished with its neighbour pairs and its neighbours' first-pass points, joined."""
    base = dict(zip(np.concatenate(groups).tolist(), np.concatenate([f.base_cents for f in firsts]).tolist()))
    results = []
    for g, fp in zip(groups, firsts, strict=True):
        sel = np.isin(pairs.a, g)
        mine = NeighbourPairs(pairs.a[sel], pairs.b[sel])
        known = {int(b): int(base[int(b)]) for b in np.setdiff1d(mine.b, g)}
        results.append(finish(fp, neighbours=mine, known_base=known))
    return merge_results(model, as_of, results)

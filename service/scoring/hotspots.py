"""Regional clusters of high (and low) scores: Getis-Ord Gi* over park centroids.

Weights are binary distance bands in metres (libpysal ``DistanceBand`` on RD centroids); the pseudo p-values
come from conditional permutations with a fixed seed, so the same scores always give the same hotspots.
A park without any neighbour inside the band (an island) is never a cluster: it gets ``none`` and no p-value.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import shapely

from .model import Model

__all__ = ["Hotspots", "hotspots", "centroids_xy"]


@dataclass
class Hotspots:
    """Per park (aligned with the ids given): ``hot`` / ``cold`` / ``none``, the pseudo p-value and Gi* z."""

    label: np.ndarray
    p_value: np.ndarray  # NaN for islands and when the scores do not vary
    z: np.ndarray


def centroids_xy(geoms: np.ndarray) -> np.ndarray:
    """RD centroids of park polygons as an (n, 2) array."""
    c = shapely.centroid(np.asarray(geoms, dtype=object))
    return np.column_stack([shapely.get_x(c), shapely.get_y(c)]) if len(c) else np.empty((0, 2))


def hotspots(scores: np.ndarray, xy: np.ndarray, model: Model) -> Hotspots:
    """Gi* hot and cold spots of ``scores`` at parks located at ``xy`` (RD metres)."""
    n = len(scores)
    label = np.full(n, "none", dtype=object)
    p = np.full(n, np.nan)
    z = np.full(n, np.nan)
    y = np.asarray(scores, dtype=float)
    if n < 3 or not np.isfinite(y).all() or np.ptp(y) == 0 or y.sum() <= 0:
        return Hotspots(label, p, z)

    from esda import (
        G_Local,  # imported here: esda pulls in a lot and only full runs need it
    )
    from libpysal.weights import DistanceBand

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands and disconnected components are expected, handled below
        w = DistanceBand(xy, threshold=model.hotspot_distance_m, binary=True, silence_warnings=True)
        cardinality = np.array([w.cardinalities[i] for i in w.id_order])
        if not (cardinality > 0).any():
            return Hotspots(label, p, z)
        g = G_Local(y, w, transform="B", permutations=model.hotspot_permutations, star=True,
                    seed=model.hotspot_seed, n_jobs=1, keep_simulations=False)
    connected = cardinality > 0
    z = np.where(connected, np.asarray(g.Zs, dtype=float), np.nan)
    p = np.where(connected, np.asarray(g.p_sim, dtype=float), np.nan)
    significant = connected & (p < model.hotspot_significance)
    label[significant & (z > 0)] = "hot"
    label[significant & (z < 0)] = "cold"
    return Hotspots(label, p, z)

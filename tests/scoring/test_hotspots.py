"""Getis-Ord Gi* hotspots: clusters of high scores are hot, of low scores cold, islands never a cluster."""
from __future__ import annotations

import numpy as np

from service.scoring.hotspots import hotspots


def grid(n: int, step: float) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(n) * step, np.arange(n) * step)
    return np.column_stack([xs.ravel() + 150_000, ys.ravel() + 450_000])


def test_a_block_of_high_scores_is_hot_and_deterministic(model) -> None:
    xy = grid(12, 800.0)  # 144 parks 800 m apart: each has its 2 km neighbours
    scores = np.full(len(xy), 10.0)
    high = (xy[:, 0] < 150_000 + 3 * 800) & (xy[:, 1] < 450_000 + 3 * 800)
    low = (xy[:, 0] > 150_000 + 8 * 800) & (xy[:, 1] > 450_000 + 8 * 800)
    scores[high] = 80.0
    scores[low] = 1.0
    scores += np.linspace(0, 1, len(xy))  # no ties
    a = hotspots(scores, xy, model)
    b = hotspots(scores, xy, model)
    assert list(a.label) == list(b.label) and np.array_equal(a.p_value, b.p_value)
    assert (a.label[high] == "hot").mean() > 0.8
    assert (a.label[low] == "cold").mean() > 0.5
    assert np.all(a.p_value[a.label != "none"] < model.hotspot_significance)


def test_islands_and_flat_scores_give_no_clusters(model) -> None:
    far = grid(4, 10_000.0)  # 10 km apart: nobody within 2 km
    h = hotspots(np.arange(len(far), dtype=float), far, model)
    assert set(h.label) == {"none"} and np.isnan(h.p_value).all()
    flat = hotspots(np.full(25, 30.0), grid(5, 500.0), model)
    assert set(flat.label) == {"none"}

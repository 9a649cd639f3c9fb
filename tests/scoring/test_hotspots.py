"""Getis-Ord Gi* hotspots: clusters of high scores are hot, of low scores cold, islands never a cluster."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from service.scoring.hotspots import centroids_xy, hotspots


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
    assert np.all(a.p_value[a.label != "none"] < a.cutoff) and a.cutoff <= model.hotspot_significance
    # Beside a block of 80s, parks at 1 among parks at 10 are no significant cold spot once every park's
    # test is corrected (FDR, two-sided); among parks at 30 the same block is clearly cold.
    assert (a.label[low] == "cold").mean() < 0.5
    calm = np.full(len(xy), 30.0)
    calm[low] = 1.0
    calm += np.linspace(0, 1, len(xy))
    c = hotspots(calm, xy, model)
    assert (c.label[low] == "cold").all() and (c.label == "hot").sum() == 0
    assert (c.label[~low] == "cold").sum() <= 8  # the block's edge only


def test_islands_and_flat_scores_give_no_clusters(model) -> None:
    far = grid(4, 10_000.0)  # 10 km apart: nobody within 2 km
    h = hotspots(np.arange(len(far), dtype=float), far, model)
    assert set(h.label) == {"none"} and np.isnan(h.p_value).all()
    flat = hotspots(np.full(25, 30.0), grid(5, 500.0), model)
    assert set(flat.label) == {"none"}


def _laag_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Scores like the real parks with almost no signals: every park 'laag', a few points apart."""
    return rng.choice([0.0, 4.0, 4.0, 4.0, 4.64, 7.68], size=n) + rng.random(n) * 0.01


def test_scores_without_spatial_structure_give_almost_no_hotspots(model) -> None:
    rng = np.random.default_rng(7)
    xy = grid(30, 700.0)  # 900 parks, about 25 neighbours each within 2 km
    scores = _laag_like(rng, len(xy))
    h = hotspots(scores, xy, model)
    assert (h.label == "hot").sum() == 0 and (h.label == "cold").sum() <= 2
    assert h.cutoff < model.hotspot_significance
    naive = hotspots(scores, xy, replace(model, hotspot_fdr=False, hotspot_min_level=None))
    assert (naive.label != "none").sum() >= 0.02 * len(xy)  # uncorrected: one park in twenty by chance


def test_a_planted_cluster_is_found_but_a_cluster_of_laag_parks_is_no_hotspot(model) -> None:
    rng = np.random.default_rng(11)
    xy = grid(30, 700.0)
    scores = _laag_like(rng, len(xy))
    block = (xy[:, 0] < 150_000 + 6 * 700) & (xy[:, 1] < 450_000 + 6 * 700)
    planted = scores.copy()
    planted[block] = rng.uniform(35, 65, size=block.sum())
    h = hotspots(planted, xy, model)
    assert (h.label[block] == "hot").mean() > 0.7
    assert (h.label[~block] == "hot").sum() <= 0.02 * (~block).sum()  # only the block's edge spills over
    dull = scores.copy()
    dull[block] = rng.uniform(10, 14, size=block.sum())  # a clear cluster, but every park still 'laag'
    level = hotspots(dull, xy, model)
    assert (level.label == "hot").sum() == 0
    without = hotspots(dull, xy, replace(model, hotspot_min_level=None))
    assert (without.label[block] == "hot").mean() > 0.5


@pytest.mark.realdata
@pytest.mark.slow
def test_real_parks_permuted_scores_give_almost_no_hotspots_and_a_planted_cluster_is_found(
        sample_data, tmp_path, model) -> None:
    import datetime as dt

    from service.config import load_settings
    from service.ingest import import_parks, import_signals
    from service.scoring.runs import engine_scores
    from service.store import Store

    settings = load_settings({}, database_url=f"sqlite:///{tmp_path / 'p.db'}", instance_dir=str(tmp_path),
                             today=dt.date(2024, 6, 30))
    store = Store(settings.database_url)
    store.upgrade()
    import_parks(store, sample_data / "parks_ftm_vakantieparken_final.zip", settings=settings, preset="top10nl")
    import_signals(store, sample_data / "permits_putten_2024-06.tsv", settings=settings, preset="bekendmakingen")
    result, pg, _signals = engine_scores(store, settings, model, dt.date(2024, 6, 30))
    store.dispose()
    order = {int(i): k for k, i in enumerate(pg.ids)}
    xy = centroids_xy(np.array([pg.geoms[order[int(i)]] for i in result.park_ids], dtype=object))
    scores = np.asarray(result.scores, dtype=float)
    assert len(scores) > 3_000 and scores.max() < model.thresholds["verhoogd"]  # every park 'laag'
    naive = hotspots(scores, xy, replace(model, hotspot_fdr=False, hotspot_min_level=None))
    assert (naive.label == "hot").sum() > 100  # the problem: red rings around unremarkable parks
    assert (hotspots(scores, xy, model).label == "hot").sum() == 0
    rng = np.random.default_rng(3)
    for _ in range(3):
        shuffled = hotspots(rng.permutation(scores), xy, model)
        assert (shuffled.label == "hot").sum() == 0 and (shuffled.label == "cold").sum() <= 5
    # a planted cluster: the 2 km neighbourhood of the park with the most neighbours scores 'hoog'
    counts = np.array([(np.hypot(*(xy - c).T) <= model.hotspot_distance_m).sum() for c in xy])
    centre = xy[int(np.argmax(counts))]
    block = np.hypot(*(xy - centre).T) <= 2 * model.hotspot_distance_m
    planted = scores.copy()
    planted[block] = rng.uniform(45, 70, size=block.sum())
    found = hotspots(planted, xy, model)
    assert block.sum() >= 10 and (found.label[block] == "hot").mean() > 0.6
    assert (found.label[~block] == "hot").sum() <= block.sum()

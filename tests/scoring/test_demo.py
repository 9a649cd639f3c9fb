"""The shipped model on the demo region: class shares, hotspots, explanations, the backtest and the CLI."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import sqlalchemy as sa

from service.app import create_app
from service.scoring.backtest import backtest, format_backtest, roc_auc, top_k
from service.scoring.explain import check_decomposition
from service.scoring.history import park_history, park_score, published_run
from service.scoring.model_file import load_model
from service.scoring.runs import compute_scores, default_as_of, score_run
from service.store import schema
from tests.scoring.conftest import copy_of

DEMO_END = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def scored_demo(demo, tmp_path_factory):
    """A copy of the demo store with one published run as of the default date."""
    store, settings = copy_of(demo[0], tmp_path_factory.mktemp("scored"))
    run = score_run(store, settings)
    yield store, settings, run
    store.dispose()


def test_default_as_of_is_the_pinned_today(scored_demo) -> None:
    store, settings, run = scored_demo
    assert settings.today == DEMO_END
    assert default_as_of(store, settings.day()) == DEMO_END == dt.date.fromisoformat(run["as_of"])
    assert run["input_counts"]["live"] is True


def test_class_shares_follow_the_beke_base_rates(scored_demo) -> None:
    store, _, run = scored_demo
    classes = run["input_counts"]["classes"]
    n = sum(classes.values())
    assert n == run["input_counts"]["parks"] > 100
    for name, target in (("laag", 75), ("verhoogd", 18), ("hoog", 7)):
        assert abs(100 * classes[name] / n - target) <= 8, classes


def test_every_demo_score_decomposes(scored_demo, model) -> None:
    store, _, run = scored_demo
    with store.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(schema.park_scores).where(schema.park_scores.c.run_id == run["run_id"]))]
    assert len(rows) == run["input_counts"]["parks"]
    for row in rows:
        check_decomposition(row)
        assert row["risk_class"] == model.classify(row["score"])
    top = max(rows, key=lambda r: r["score"])
    detail = park_score(store, top["park_id"])
    assert detail["risk_class"] == "hoog"
    with_signals = [f for f in detail["factors"] if f.get("signals")]
    assert with_signals and all(len(f["signals"]) <= f["n_signals"] for f in with_signals)
    with store.connect() as conn:  # the listed signals exist, belong to the park and predate as_of
        ids = with_signals[0]["signals"]
        found = conn.execute(sa.select(schema.signals.c.park_id, schema.signals.c.date)
                             .where(schema.signals.c.id.in_(ids))).all()
    assert len(found) == len(ids) and all(p == top["park_id"] and d <= DEMO_END for p, d in found)
    assert park_history(store, top["park_id"])[0]["score"] == top["score"]


def test_hotspots_are_found_and_deterministic(scored_demo) -> None:
    store, settings, run = scored_demo
    hot = run["input_counts"]["hotspots"]
    assert hot["hot"] > 0 and hot["hot"] + hot["cold"] < run["input_counts"]["parks"]
    model = load_model(settings.model_path)
    a = compute_scores(store, settings, model, DEMO_END)
    b = compute_scores(store, settings, model, DEMO_END)
    assert list(a.hotspot_label) == list(b.hotspot_label)
    assert np.array_equal(np.nan_to_num(a.hotspot_p, nan=-1), np.nan_to_num(b.hotspot_p, nan=-1))
    hot_scores = a.result.scores[a.hotspot_label == "hot"]
    cold_scores = a.result.scores[a.hotspot_label == "cold"]
    assert hot_scores.mean() > a.result.scores.mean() > cold_scores.mean()
    no_p = np.isnan(a.hotspot_p)  # islands (no park within the band) carry no p-value and are never clusters
    assert (a.hotspot_label[no_p] == "none").all()
    assert (a.hotspot_p[~no_p] >= 1 / (model.hotspot_permutations + 1)).all()


def test_the_model_beats_both_baselines_on_the_demo(demo) -> None:
    store, settings = demo
    result = backtest(store, settings, as_of=dt.date(2024, 1, 1), horizon_days=180)
    table = result["scorers"]
    assert result["parks_with_later_violation"] >= 20
    for baseline in ("previous_violations", "park_size"):
        assert table["model"]["auc"] > table[baseline]["auc"], table
        assert table["model"]["top"]["10%"]["hit_rate"] > table[baseline]["top"]["10%"]["hit_rate"], table
    assert result["beats_baselines"] == {"auc": True, "top_10%_hit_rate": True}
    text = format_backtest(result)
    assert "Feedback loop" in text and "previous_violations" in text and "PAI@10%" in text


def test_backtest_metrics() -> None:
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    perfect = np.arange(10, 0, -1, dtype=float)
    assert roc_auc(perfect, y) == 1.0 and roc_auc(-perfect, y) == 0.0
    assert roc_auc(np.zeros(10), y) == 0.5
    t = top_k(perfect, y, 0.2)
    assert t == {"parks": 2, "hits": 2.0, "hit_rate": 1.0, "captured": 1.0, "pai": 5.0}
    tied = top_k(np.zeros(10), y, 0.2)  # a lottery among ties: 2 x 2/10 expected hits
    assert tied["hits"] == pytest.approx(0.4) and tied["pai"] == pytest.approx(1.0)


def test_cli_commands(demo, tmp_path) -> None:
    _store, settings = copy_of(demo[0], tmp_path)
    _store.dispose()
    app = create_app(settings)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["score", "--json"])
    assert out.exit_code == 0, out.output
    run = json.loads(out.output)
    assert run["status"] == "published" and run["as_of"] == DEMO_END.isoformat()
    plain = runner.invoke(args=["score", "--as-of", "2025-06-30"])
    assert plain.exit_code == 0 and "published" in plain.output and "superseded" in plain.output
    bad = runner.invoke(args=["score", "--as-of", "30-06-2025"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    bt = runner.invoke(args=["backtest", "--as-of", "2024-01-01", "--horizon", "180", "--json"])
    assert bt.exit_code == 0 and json.loads(bt.output)["beats_baselines"]["auc"] is True
    hist = runner.invoke(args=["history", "1"])
    assert hist.exit_code == 0 and hist.output.count("run ") == 2
    again = runner.invoke(args=["rescore", "1", "2"])
    assert again.exit_code == 0 and "re-scored" in again.output
    listing = runner.invoke(args=["runs"])
    assert listing.exit_code == 0 and "published" in listing.output
    with app.app_context():
        from service.app import runtime

        assert published_run(runtime().store)["as_of"] == "2025-06-30"

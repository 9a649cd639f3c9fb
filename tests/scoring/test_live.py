"""Scores live to today: an incremental update of a live run counts signals up to today; --as-of runs stay pinned."""
from __future__ import annotations

import datetime as dt

import pandas as pd

from geodata.demo import DEMO_END, generate, relative_to
from service.ingest import import_signal_records
from service.scoring import park_score, published_run, rescore_parks
from service.scoring.incremental import live_as_of
from service.scoring.runs import score_run

LATER = DEMO_END + dt.timedelta(days=9)


def _violations(store, settings, park_id: int, day: dt.date, n: int = 3) -> None:
    records = [{"source_id": f"live-{park_id}-{day}-{i}", "type": "inspection", "date": day.isoformat(),
                "park_id": park_id, "violation": "yes", "categories": "permanent_residence;overcrowding;fire_safety"}
               for i in range(n)]
    result = import_signal_records(store, records, settings=settings, source="toezicht")
    assert result.stored == n


def test_live_as_of_follows_the_day_only_for_live_runs() -> None:
    assert live_as_of(DEMO_END, {"live": True}, LATER) == LATER
    assert live_as_of(DEMO_END, {"live": True}, DEMO_END - dt.timedelta(days=3)) == DEMO_END
    assert live_as_of(DEMO_END, {"live": False}, LATER) == DEMO_END
    assert live_as_of("2025-12-31", None, LATER) == DEMO_END  # runs from before live scores: pinned
    assert live_as_of(DEMO_END, '{"live": true}', LATER) == LATER


def test_a_visit_dated_today_counts_at_once_and_the_park_records_its_as_of(demo_copy) -> None:
    store, settings = demo_copy
    run = score_run(store, settings)
    assert run["as_of"] == DEMO_END.isoformat() and run["input_counts"]["live"] is True
    before = park_score(store, 5)
    assert before["as_of"] == before["run_as_of"] == DEMO_END.isoformat()
    later = settings.with_overrides(today=LATER)
    _violations(store, later, 5, LATER)
    out = rescore_parks(store, later, [5])
    assert out["status"] == "updated" and out["as_of"] == LATER.isoformat()
    assert out["signals_after_as_of"] == 0 and "message" not in out
    after = park_score(store, 5)
    assert after["score"] > before["score"] and after["as_of"] == LATER.isoformat()
    assert after["run_as_of"] == DEMO_END.isoformat() and after["incremental"]
    assert published_run(store)["id"] == run["run_id"]
    untouched = park_score(store, 200)
    assert untouched["as_of"] == DEMO_END.isoformat()
    # the nightly full run brings every park to one as-of date again, and the visit still counts
    again = score_run(store, later)
    assert again["as_of"] == LATER.isoformat()
    assert park_score(store, 5)["as_of"] == park_score(store, 200)["as_of"] == LATER.isoformat()
    assert park_score(store, 5)["score"] > 0


def test_an_as_of_run_keeps_nothing_after_its_date(demo_copy) -> None:
    store, settings = demo_copy
    score_run(store, settings, as_of=DEMO_END)
    before = park_score(store, 5)["score"]
    later = settings.with_overrides(today=LATER)
    _violations(store, later, 5, LATER)
    out = rescore_parks(store, later, [5])
    assert out["as_of"] == DEMO_END.isoformat() and out["signals_after_as_of"] == 3
    assert "next full run" in out["message"]
    assert park_score(store, 5)["score"] == before


def test_the_demo_moves_with_the_day_it_is_loaded_on() -> None:
    base = generate(n_parks=30)
    same = relative_to(base, DEMO_END + dt.timedelta(days=1))
    assert same is base
    today = dt.date(2026, 12, 2)
    moved = relative_to(base, today)
    assert max(moved.signals["date"]) == today - dt.timedelta(days=1)
    assert len(moved.signals) == len(base.signals)
    days = (today - dt.timedelta(days=1) - DEMO_END).days
    assert all((m - b).days == days for m, b in zip(moved.signals["date"], base.signals["date"], strict=True))
    pd.testing.assert_series_equal(moved.parks["built_year_median"], base.parks["built_year_median"] + 1)
    assert moved.parks.geometry.equals(base.parks.geometry)
    assert list(moved.signals["source_id"]) == list(base.signals["source_id"])
    pd.testing.assert_series_equal(moved.latent_risk, base.latent_risk)

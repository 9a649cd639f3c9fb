"""Validation against later inspections: hit rate, PAI and ROC AUC of the model next to two baselines.

Score every park as of a date (nothing is published), then ask which parks had an inspection finding a
violation in the following ``horizon`` days. A good model puts those parks at the top. Two baselines keep it
honest: (a) the number of violations found before the date, (b) park size (units) alone.

Feedback loop: inspectors visit parks that already look risky, so risky parks produce more findings whether
or not they are worse; a high hit rate partly measures where inspectors went. The output says so.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from ..config import Settings
from ..spatial import ParkIndex
from ..store import Store, schema
from .model_file import load_model
from .runs import engine_scores

__all__ = ["backtest", "format_backtest", "roc_auc", "top_k", "CAVEAT"]

CAVEAT = ("Feedback loop: inspections go where risk is already suspected, and inspected parks generate more "
          "signals and more findings. Hit rates and PAI therefore measure the model together with where "
          "inspectors went; they are no proof that unvisited, low-scoring parks are fine. A score leads to a "
          "visit, never to a sanction.")


def _midranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    sv = values[order]
    ranks = np.empty(len(values))
    starts = np.flatnonzero(np.r_[True, sv[1:] != sv[:-1]])
    ends = np.r_[starts[1:], len(sv)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    return ranks


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None without both classes."""
    positive = np.asarray(positive, dtype=bool)
    n1 = int(positive.sum())
    n0 = len(positive) - n1
    if n1 == 0 or n0 == 0:
        return None
    r = _midranks(np.asarray(scores, dtype=float))
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def top_k(scores: np.ndarray, positive: np.ndarray, share: float) -> dict[str, float]:
    """Hit rate, captured share and PAI of the top ``share`` of parks by score.

    Parks tied at the cut-off are taken in random order, in expectation: a scorer with many equal values
    (a baseline of mostly zeros) gets the hit rate of a lottery among them, not the luck of an id order.
    """
    scores = np.asarray(scores, dtype=float)
    positive = np.asarray(positive, dtype=bool)
    n = len(scores)
    k = max(1, int(math.ceil(share * n)))
    cut = np.sort(scores)[::-1][k - 1]
    above = scores > cut
    tied = scores == cut
    hits = positive[above].sum() + (k - above.sum()) * positive[tied].mean()
    total = positive.sum()
    captured = float(hits / total) if total else 0.0
    return {"parks": k, "hits": round(float(hits), 3), "hit_rate": round(float(hits / k), 4),
            "captured": round(captured, 4), "pai": round(captured / (k / n), 3) if total else 0.0}


def backtest(store: Store, settings: Settings, *, as_of: dt.date, horizon_days: int,
             model_path: str | Path | None = None, shares: tuple[float, ...] = (0.05, 0.10, 0.20),
             index: ParkIndex | None = None) -> dict[str, Any]:
    """Score as of ``as_of`` (unpublished) and measure it on violations found in (as_of, as_of + horizon]."""
    if horizon_days < 1:
        raise ValueError("the horizon must be at least one day")
    model = load_model(model_path or settings.model_path)
    end = as_of + dt.timedelta(days=horizon_days)
    result, _, _ = engine_scores(store, settings, model, as_of, index=index)
    ids = result.park_ids
    if len(ids) == 0:
        raise ValueError("the store holds no parks to back-test")
    s = schema.signals
    violation = s.c.attributes["violation"].as_boolean().is_(sa.true())
    own = s.c.assignment.in_(("explicit", "inside"))
    with store.connect() as conn:
        later = {int(p) for p in conn.execute(
            sa.select(s.c.park_id).distinct().where(s.c.type == "inspection", s.c.park_id.is_not(None), own,
                                                    s.c.date > as_of, s.c.date <= end, violation)).scalars()}
        inspected = {int(p) for p in conn.execute(
            sa.select(s.c.park_id).distinct().where(s.c.type == "inspection", s.c.park_id.is_not(None), own,
                                                    s.c.date > as_of, s.c.date <= end)).scalars()}
        before: dict[int, int] = dict(conn.execute(
            sa.select(s.c.park_id, sa.func.count()).where(s.c.type == "inspection", s.c.park_id.is_not(None), own,
                                                          s.c.date <= as_of, violation).group_by(s.c.park_id)).all())
        units = dict(conn.execute(sa.select(schema.parks.c.id, schema.parks.c.unit_count)).all())
    positive = np.isin(ids, np.fromiter(later, dtype=np.int64, count=len(later)))
    scorers = {
        "model": result.scores,
        "previous_violations": np.array([before.get(int(p), 0) for p in ids], dtype=float),
        "park_size": np.array([units.get(int(p)) or 0 for p in ids], dtype=float),
    }
    table: dict[str, Any] = {}
    for name, values in scorers.items():
        auc = roc_auc(values, positive)
        table[name] = {"auc": None if auc is None else round(auc, 4),
                       "top": {f"{round(sh * 100)}%": top_k(values, positive, sh) for sh in shares}}
    key = "10%" if any(round(sh * 100) == 10 for sh in shares) else f"{round(shares[0] * 100)}%"

    def beats(metric: str) -> bool | None:
        def value(name: str) -> float | None:
            return table[name]["auc"] if metric == "auc" else table[name]["top"][key]["hit_rate"]
        m = value("model")
        others = [value(n) for n in ("previous_violations", "park_size")]
        known = [o for o in others if o is not None]
        if m is None or len(known) < len(others):
            return None
        return bool(all(m > o for o in known))

    return {
        "as_of": as_of.isoformat(), "horizon_days": horizon_days, "window_end": end.isoformat(),
        "model_version": model.version, "model_hash": model.sha256, "parks": int(len(ids)),
        "parks_with_later_violation": int(positive.sum()), "parks_inspected_in_window": len(inspected),
        "scorers": table, "beats_baselines": {"auc": beats("auc"), f"top_{key}_hit_rate": beats("top")},
        "caveat": CAVEAT,
    }


def format_backtest(result: dict[str, Any]) -> str:
    """The backtest as a plain-text table."""
    shares = list(next(iter(result["scorers"].values()))["top"])
    lines = [
        f"Backtest of model {result['model_version']} ({result['model_hash'][:12]}) as of {result['as_of']}, "
        f"horizon {result['horizon_days']} days (to {result['window_end']})",
        f"{result['parks']} parks; {result['parks_inspected_in_window']} inspected in the window, "
        f"{result['parks_with_later_violation']} with a violation found",
        "",
    ]
    head = f"{'scorer':<22}{'ROC AUC':>9}" + "".join(f"{'hit@' + s:>10}{'PAI@' + s:>9}" for s in shares)
    lines += [head, "-" * len(head)]
    for name, row in result["scorers"].items():
        auc = "-" if row["auc"] is None else f"{row['auc']:.3f}"
        cells = "".join(f"{row['top'][s]['hit_rate']:>10.3f}{row['top'][s]['pai']:>9.2f}" for s in shares)
        lines.append(f"{name:<22}{auc:>9}{cells}")
    lines += ["", "beats both baselines: " + ", ".join(f"{k} {'yes' if v else 'no' if v is not None else '-'}"
                                                        for k, v in result["beats_baselines"].items()),
              "", "Note: " + result["caveat"]]
    return "\n".join(lines)

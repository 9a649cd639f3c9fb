"""Explanations: a park's score decomposed into factor points, theme subtotals and the signals behind them.

The records built here are what ``park_scores`` stores (``factors``, ``themes``) and what readers get back.
The decomposition is exact by construction: points are whole hundredths, the score is their sum, and
:func:`check_decomposition` verifies it for any stored record.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..vocab import THEMES
from .engine import EngineResult
from .model import Model

__all__ = ["ADJUSTMENT", "DecompositionError", "park_records", "check_decomposition", "describe_factors"]

#: Pseudo-factor that lifts a score to 0 when a model with negative weights would go below it.
ADJUSTMENT = "floor_adjustment"


def _numbers(values: np.ndarray) -> list[list[float | None]]:
    """A JSON-safe table: six decimals, NaN (no value) as None (JSON has no NaN)."""
    finite = np.isfinite(values)
    out = np.round(np.where(finite, values, 0.0), 6).astype(object)
    out[~finite] = None
    return out.tolist()


def _split(ev_pos: np.ndarray, ev_ids: np.ndarray, n: int) -> list[list[int]]:
    """Signal ids per park position (positions ascending in ``ev_pos``)."""
    bounds = np.searchsorted(ev_pos, np.arange(n + 1))
    ids = ev_ids.tolist()
    return [ids[bounds[i]:bounds[i + 1]] for i in range(n)]


def park_records(result: EngineResult) -> list[dict[str, Any]]:
    """One record per park of ``result``: score, class, themes, factors (raw, normalised, points, signals).

    ``factors[id]`` holds ``raw`` (the aggregated value), ``normalised`` (after per-unit/hectare), ``points``,
    ``signals`` (ids behind the value, newest first, at most ``max_signal_ids``) and ``n_signals`` (all of
    them); the neighbours' risk lists the neighbouring ``parks`` instead.
    """
    model = result.model
    n = len(result.park_ids)
    evidence = {fid: _split(ev.pos, ev.ids, n) for fid, ev in result.evidence.items()}
    counts = {fid: ev.count.tolist() for fid, ev in result.evidence.items()}
    raw = _numbers(result.raw)
    norm = _numbers(result.normalised)
    cents = result.cents.tolist()
    themes = result.theme_cents().tolist()
    classes = result.classes()
    lag = model.lag_factor
    out = []
    for i, pid in enumerate(result.park_ids.tolist()):
        factors: dict[str, Any] = {}
        for j, f in enumerate(model.factors):
            entry: dict[str, Any] = {"raw": raw[i][j], "normalised": norm[i][j],
                                     "points": cents[i][j] / 100}
            if f.id in evidence:
                entry["signals"] = evidence[f.id][i]
                entry["n_signals"] = int(counts[f.id][i])
            elif lag is not None and f.id == lag.id:
                entry["parks"] = result.lag_neighbours.get(pid, [])
            factors[f.id] = entry
        adjust = int(result.adjust_cents[i])
        if adjust:
            factors[ADJUSTMENT] = {"raw": None, "normalised": None, "points": adjust / 100}
        out.append({
            "park_id": pid,
            "score": int(result.score_cents[i]) / 100,
            "risk_class": str(classes[i]),
            "base_points": int(result.base_cents[i]) / 100,
            "themes": {t: themes[i][k] / 100 for k, t in enumerate(THEMES)},
            "factors": factors,
        })
    return out


class DecompositionError(ValueError):
    """A score that is not the exact sum of its factor points (a bug: scores must decompose exactly)."""


def check_decomposition(record: dict[str, Any]) -> None:
    """Raise :class:`DecompositionError` unless the factor points (and theme subtotals) add up to the score."""
    total = sum(round(f["points"] * 100) for f in record["factors"].values())
    if total != round(record["score"] * 100):
        raise DecompositionError(f"factor points add up to {total / 100}, not to the score {record['score']}")
    themes = record.get("themes")
    if themes:
        adjust = round(record["factors"].get(ADJUSTMENT, {}).get("points", 0) * 100)
        if sum(round(v * 100) for v in themes.values()) + adjust != total:
            raise DecompositionError(f"theme subtotals {themes} do not add up to the score {record['score']}")


def describe_factors(model: Model) -> dict[str, dict[str, Any]]:
    """Labels, theme and weight per factor id (what a reader needs beside the stored numbers)."""
    return {f.id: {"label_nl": f.label_nl, "label_en": f.label_en, "theme": f.theme, "weight": f.weight,
                   "citation": f.citation} for f in model.factors}

"""Risk scoring: the model file, the vectorised engine (batch and incremental), explanations, hotspots,
atomic publication of score runs, and the backtest against later inspections.

The core never imports Flask; only :mod:`service.scoring.cli` does (through ``service.runtime``).
"""
from __future__ import annotations

from .backtest import backtest, format_backtest
from .engine import EngineResult, NeighbourPairs, ParkFrame, compute
from .explain import check_decomposition, park_records
from .factors import SignalFrame
from .history import list_runs, park_history, park_score, published_run, run_model, score_updates
from .hotspots import hotspots
from .incremental import rescore_after_import, rescore_parks
from .locks import LockLost, RunLocked
from .model import Model, ModelError, load_model, parse_model
from .runs import Progress, compute_scores, default_as_of, engine_scores, score_run

__all__ = [
    "Model", "ModelError", "load_model", "parse_model",
    "SignalFrame", "ParkFrame", "NeighbourPairs", "EngineResult", "compute",
    "park_records", "check_decomposition", "hotspots",
    "score_run", "compute_scores", "engine_scores", "default_as_of", "Progress", "RunLocked", "LockLost",
    "rescore_parks", "rescore_after_import",
    "published_run", "park_score", "park_history", "list_runs", "run_model", "score_updates",
    "backtest", "format_backtest",
]

"""Risk scoring: the model file, the vectorised engine (batch and incremental), explanations, hotspots,
atomic publication of score runs, and the backtest against later inspections.

Part of the core: imports no Flask (the ``parkwacht`` scoring commands live in :mod:`service.cli.scoring`).
"""
from __future__ import annotations

from .backtest import backtest, format_backtest
from .engine import EngineResult, NeighbourPairs, ParkFrame, compute
from .explain import check_decomposition, park_records
from .factors import SignalFrame
from .history import (
    RunScore,
    get_run,
    list_runs,
    park_history,
    park_score,
    published_run,
    published_run_id,
    run_model,
    run_scores,
    score_updates,
    top_factors,
)
from .hotspots import hotspots
from .incremental import rescore_after_import, rescore_parks
from .locks import LockLost, RunLocked
from .model import Model, ModelError
from .model_file import load_model, parse_model
from .runs import Progress, compute_scores, default_as_of, engine_scores, score_run

__all__ = [
    "Model", "ModelError", "load_model", "parse_model",
    "SignalFrame", "ParkFrame", "NeighbourPairs", "EngineResult", "compute",
    "park_records", "check_decomposition", "hotspots",
    "score_run", "compute_scores", "engine_scores", "default_as_of", "Progress", "RunLocked", "LockLost",
    "rescore_parks", "rescore_after_import",
    "published_run", "published_run_id", "get_run", "park_score", "park_history", "list_runs", "run_model",
    "score_updates",
    "RunScore", "run_scores", "top_factors",
    "backtest", "format_backtest",
]

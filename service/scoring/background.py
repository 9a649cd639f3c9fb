"""A full score run started on request (``POST /api/v1/score-runs``): in a thread, answered at once.

The caller gets the new run's id as soon as the run holds the lock, so it can poll the run; the run itself
publishes through the same atomic path and cross-process lock as ``parkwacht score``.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable

from ..config import Settings
from ..spatial import ParkIndex
from ..store import Store
from .locks import RunLocked, is_stale, lock_holder
from .runs import score_run

__all__ = ["start_run", "RunLocked"]

log = logging.getLogger(__name__)


def start_run(store: Store, settings: Settings, *, as_of: dt.date | None = None,
              index: Callable[[], ParkIndex] | None = None, wait_s: float = 10.0) -> int | None:
    """Start a full run in a background thread and return its run id once it holds the lock (None if the
    run ended, or failed before taking it, within ``wait_s``). Raises :class:`RunLocked` while another runs."""
    holder = lock_holder(store)
    if holder is not None and not is_stale(holder):
        raise RunLocked(holder)
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["run"] = score_run(store, settings, as_of=as_of, index=index() if index else None)
        except Exception as exc:  # recorded on the run by score_run; the thread must not die loudly
            outcome["error"] = exc
            log.exception("score run started over the API failed")

    thread = threading.Thread(target=work, name="parkwacht-score-run", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        holder = lock_holder(store)
        if holder is not None and holder.get("pid") == os.getpid() and holder.get("run_id") is not None:
            return int(holder["run_id"])
        if not thread.is_alive():
            run = outcome.get("run")
            if isinstance(run, dict):
                return int(run["run_id"])
            error = outcome.get("error")
            if isinstance(error, RunLocked):
                raise error
            return None
        time.sleep(0.02)
    return None

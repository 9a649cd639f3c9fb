"""The import pipeline's plumbing: where the time goes (stages), progress, and a writer thread.

Measured on 1M signals (``bench/assign.py``): SQLite spends ~5 s of CPU inserting a million rows into the
signals table with its three indexes, whatever Python does around it, and reading, validating and assigning
take about as long again. The database driver releases the GIL while SQLite works, so a writer thread that
owns the import's connection lets the next chunk be read and validated while the previous one is written:
on two cores the import takes about as long as the slower of the two halves, not their sum. The connection
is used by one thread at a time: everything that touches it goes through the writer, in order.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["STAGES", "Stages", "Progress", "Writer"]

T = TypeVar("T")

#: The stages an import reports, in order.
STAGES = ("read", "validate", "assign", "write")

#: ``progress(rows read so far, rows expected or None)``; called after every chunk.
Progress = Callable[[int, "int | None"], None]


#: Guards the stage sums, which the main thread and the writer both add to.
_SUMS = threading.Lock()


@dataclass
class Stages:
    """Seconds spent per stage: wall clock, and CPU of the thread that ran it (which the load of other
    processes on a shared machine does not inflate)."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            spent, used = time.perf_counter() - started, time.thread_time() - cpu
            with _SUMS:
                self.seconds[stage] = self.seconds.get(stage, 0.0) + spent
                self.cpu[stage] = self.cpu.get(stage, 0.0) + used

    def each(self, items: Iterator[T], stage: str) -> Iterator[T]:
        """``items`` with the time spent producing each counted to ``stage`` (a reader's chunks)."""
        while True:
            with self.timing(stage):
                try:
                    item = next(items)
                except StopIteration:
                    return
            yield item

    def rounded(self, which: str = "seconds") -> dict[str, float]:
        return {k: round(v, 3) for k, v in getattr(self, which).items()}


_STOP = object()


class Writer:
    """Runs database work on one thread, in submission order, while the caller prepares the next chunk.

    ``submit`` queues a job (at most ``depth`` wait, which bounds memory); ``call`` runs one and returns its
    result; ``finish`` waits for all. The first failure stops the writer and is raised by the next
    ``submit``/``call``/``finish``. ``close`` (always, in a ``finally``) waits for the job in hand, so the
    connection is never rolled back while the writer still uses it. With ``threaded=False`` jobs run inline.
    """

    def __init__(self, stages: Stages | None = None, *, depth: int = 2, threaded: bool = True) -> None:
        self.stages = stages or Stages()
        self._threaded = threaded
        self._error: BaseException | None = None
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is _STOP:
                    return
                fn, args, done = job
                if self._error is not None:
                    continue
                try:
                    with self.stages.timing("write"):
                        value = fn(*args)
                    if done is not None:
                        done.append(value)
                except BaseException as exc:  # handed to the caller, who raises it
                    self._error = exc
            finally:
                self._jobs.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)``; blocks while ``depth`` jobs wait."""
        self._raise()
        if not self._threaded:
            with self.stages.timing("write"):
                fn(*args)
            return
        self._jobs.put((fn, args, None))

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` after everything queued before it, and return its result."""
        self._raise()
        if not self._threaded:
            return fn(*args)
        done: list[Any] = []
        self._jobs.put((fn, args, done))
        self._jobs.join()
        self._raise()
        return done[0]

    def finish(self) -> None:
        """Wait until every queued job has run; raise the first failure."""
        if self._threaded:
            self._jobs.join()
        self._raise()

    def close(self) -> None:
        """Stop the thread after the job in hand (queued jobs are dropped when a failure is pending)."""
        if self._thread is None:
            return
        if self._error is None:
            self._error = RuntimeError("import stopped")  # anything still queued is skipped, not run
        self._jobs.put(_STOP)
        self._thread.join()
        self._thread = None

"""The cache of rendered risk maps: built once per published run, filter, language and basemap.

Keys include :func:`service.web.queries.data_version` (published run, last incremental update, parks,
signals), so a new run, an incremental re-score or an import makes the old entries unreachable at once,
in every worker: nothing has to be told to invalidate. Entries live in memory (a small LRU) and on disk
under the instance folder (``mapcache/``), so other workers and a restarted service find them too.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..maps import MapParts

__all__ = ["MapCache", "cache_key", "FORMAT"]

#: Bumped whenever the rendered map changes shape, so entries of an older build are never served.
FORMAT = 1


def cache_key(*parts: Any) -> str:
    """A stable hex key of JSON-able parts."""
    text = json.dumps([FORMAT, *parts], default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


class MapCache:
    """Rendered maps by key, in memory (``max_memory`` entries) and on disk (``max_files`` newest kept)."""

    def __init__(self, folder: str | Path | None, max_memory: int = 16, max_files: int = 200) -> None:
        self.folder = Path(folder) if folder else None
        self.max_memory = max_memory
        self.max_files = max_files
        self._memory: OrderedDict[str, MapParts] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def _path(self, key: str) -> Path | None:
        return None if self.folder is None else self.folder / f"{key}.json"

    def get(self, key: str) -> MapParts | None:
        with self._lock:
            parts = self._memory.get(key)
            if parts is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return parts
        path = self._path(key)
        if path is not None and path.is_file():
            try:
                parts = MapParts.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError):
                parts = None  # a torn or foreign file is rebuilt, never served
            if parts is not None:
                self._remember(key, parts)
                with self._lock:
                    self.hits += 1
                return parts
        return None

    def get_or_build(self, key: str, build: Callable[[], MapParts], wait_s: float = 15.0) -> tuple[MapParts, bool]:
        """The entry of ``key`` (and whether it was cached), built by one thread of one worker at a time.

        A signal POST changes the key of every worker at once; without this each worker's next requests
        would all build the same map side by side. The others wait for the first build (a file lock beside
        the entry, at most ``wait_s``) and then read it from disk."""
        parts = self.get(key)
        if parts is not None:
            return parts, True
        with self._build_lock(key, wait_s):
            parts = self.get(key)
            if parts is not None:
                return parts, True
            parts = build()
            self.put(key, parts)
            return parts, False

    @contextmanager
    def _build_lock(self, key: str, wait_s: float) -> Iterator[None]:
        path = self._path(key)
        fd = None
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o644)
            except OSError:
                fd = None  # no lock without a writable folder: build without one
        deadline = time.monotonic() + wait_s
        try:
            while fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break  # a builder that hangs must not hold every page: build anyway
                    time.sleep(0.02)
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing releases the lock

    def put(self, key: str, parts: MapParts) -> None:
        self._remember(key, parts)
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(parts.as_dict(), fh, separators=(",", ":"))
            os.replace(tmp, path)  # atomic: a reader sees the old file or the new one
            self._prune()
        except OSError:
            pass  # a read-only or full disk costs a rebuild later, not the page

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
        if self.folder is not None and self.folder.is_dir():
            for f in [*self.folder.glob("*.json"), *self.folder.glob("*.lock")]:
                f.unlink(missing_ok=True)

    def _remember(self, key: str, parts: MapParts) -> None:
        with self._lock:
            self._memory[key] = parts
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_memory:
                self._memory.popitem(last=False)

    def _prune(self) -> None:
        if self.folder is None:
            return
        files = sorted(self.folder.glob("*.json"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in files[self.max_files:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)

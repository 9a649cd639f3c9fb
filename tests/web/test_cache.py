"""The map cache builds each entry once across workers, and never lets a stuck builder hold pages."""
from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from service.maps import MapParts
from service.web.cache import MapCache


def _parts(tag: str) -> MapParts:
    return MapParts(head="", body=f"<div>{tag}</div>", script="", script_hashes=(), meta={"tag": tag})


def test_workers_asking_at_once_build_the_map_once(tmp_path: Path) -> None:
    workers = [MapCache(tmp_path) for _ in range(4)]  # separate memories, one folder: four worker processes
    builds: list[int] = []
    started = threading.Barrier(len(workers))
    results: list[tuple[MapParts, bool]] = []

    def build() -> MapParts:
        builds.append(1)
        time.sleep(0.3)  # long enough that every other worker asks while it runs
        return _parts("one")

    def ask(cache: MapCache) -> None:
        started.wait()
        results.append(cache.get_or_build("k", build))

    threads = [threading.Thread(target=ask, args=(c,)) for c in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert sorted(hit for _p, hit in results) == [False, True, True, True]
    assert {p.body for p, _h in results} == {"<div>one</div>"}


def test_a_held_lock_delays_a_build_only_so_long(tmp_path: Path) -> None:
    cache = MapCache(tmp_path)
    fd = os.open(tmp_path / "k.lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a builder that never finishes
    try:
        t = time.monotonic()
        parts, hit = cache.get_or_build("k", lambda: _parts("anyway"), wait_s=0.3)
        assert 0.3 <= time.monotonic() - t < 5
        assert (parts.body, hit) == ("<div>anyway</div>", False)
    finally:
        os.close(fd)
    assert cache.get_or_build("k", lambda: _parts("again"))[1] is True


def test_without_a_folder_it_builds_in_memory(tmp_path: Path) -> None:
    cache = MapCache(None)
    assert cache.get_or_build("k", lambda: _parts("x"))[1] is False
    assert cache.get_or_build("k", lambda: _parts("y"))[0].body == "<div>x</div>"
    cache_dir = MapCache(tmp_path)
    cache_dir.get_or_build("k", lambda: _parts("z"))
    cache_dir.clear()
    assert list(tmp_path.iterdir()) == []

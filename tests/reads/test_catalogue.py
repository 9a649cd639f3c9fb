"""The park catalogue follows the store: patched after incremental updates, rebuilt after anything else."""
from __future__ import annotations

import pytest

from service.ingest import import_signal_records
from service.reads import catalogue as cat_mod
from service.reads.catalogue import build_catalogue, catalogue
from service.scoring import score_run
from service.scoring.incremental import rescore_parks


def _same(a: cat_mod.ParkCatalogue, b: cat_mod.ParkCatalogue) -> None:
    assert a.version == b.version
    assert a.ids.tolist() == b.ids.tolist()
    assert a.props == b.props
    assert a.features_wgs == b.features_wgs
    assert a.features_rd == b.features_rd
    assert a.features_bare == b.features_bare


@pytest.fixture
def scored(demo_store):
    store, settings = demo_store
    score_run(store, settings, require_signals=False)
    cat_mod._CACHE.clear()
    yield store, settings
    cat_mod._CACHE.clear()


def _violation(store, settings, park_id: int, n: int = 3) -> None:
    records = [{"source_id": f"cat-{park_id}-{i}", "type": "inspection", "date": settings.day().isoformat(),
                "park_id": park_id, "violation": "yes", "categories": "permanent_residence;overcrowding;fire_safety"}
               for i in range(n)]
    result = import_signal_records(store, records, settings=settings, source="toezicht")
    assert result.stored == n, result.as_dict()


def test_an_incremental_update_patches_the_catalogue_to_what_a_fresh_build_gives(scored, monkeypatch) -> None:
    store, settings = scored
    before = catalogue(store)
    park = int(before.ids[len(before) // 2])
    _violation(store, settings, park)
    out = rescore_parks(store, settings, [park])
    assert park in out["rescored"]

    def no_build(_store):  # the patch must do without a full build
        raise AssertionError("catalogue rebuilt instead of patched")

    monkeypatch.setattr(cat_mod, "build_catalogue", no_build)
    after = catalogue(store)
    monkeypatch.undo()
    assert after is not before and after.geom_rd is before.geom_rd  # geometries shared, not re-read
    i = after.position(park)
    assert i is not None
    assert after.props[i] != before.props[i]  # the park's score, class or freshness moved
    _same(after, build_catalogue(store))
    untouched = [j for j in range(len(after)) if int(after.ids[j]) not in set(out["rescored"])]
    assert all(after.props[j] is before.props[j] for j in untouched)


def test_signals_without_a_rescore_keep_the_catalogue_content(scored, monkeypatch) -> None:
    store, settings = scored
    before = catalogue(store)
    _violation(store, settings, int(before.ids[0]), n=1)  # stored, but not re-scored
    monkeypatch.setattr(cat_mod, "build_catalogue", lambda _s: (_ for _ in ()).throw(AssertionError("rebuilt")))
    after = catalogue(store)
    monkeypatch.undo()
    assert after.version != before.version
    assert after.props == before.props
    _same(after, build_catalogue(store))


def test_a_new_run_or_a_changed_park_set_rebuilds(scored, monkeypatch) -> None:
    store, settings = scored
    before = catalogue(store)
    calls: list[int] = []
    real = cat_mod.build_catalogue
    monkeypatch.setattr(cat_mod, "build_catalogue", lambda s: calls.append(1) or real(s))
    _violation(store, settings, int(before.ids[1]))
    score_run(store, settings, require_signals=False)
    after = catalogue(store)
    assert calls == [1]
    assert after.run is not None and before.run is not None and after.run["id"] != before.run["id"]
    _same(after, real(store))


def test_too_many_rescored_parks_fall_back_to_a_build(scored, monkeypatch) -> None:
    store, settings = scored
    before = catalogue(store)
    monkeypatch.setattr(cat_mod, "PATCH_MAX_PARKS", 0)
    park = int(before.ids[2])
    _violation(store, settings, park)
    rescore_parks(store, settings, [park])
    version = cat_mod.data_version(store)
    assert cat_mod.patch_catalogue(store, before, version) is None
    _same(catalogue(store), build_catalogue(store))

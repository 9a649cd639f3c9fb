"""The live park index follows the store without full rebuilds."""
from __future__ import annotations

from service.ingest import import_parks
from service.runtime import Runtime
from tests.helpers import square, write_geojson

RD_X, RD_Y = 180_000, 470_000
RD_URN = "urn:ogc:def:crs:EPSG::28992"


def test_new_parks_reach_the_live_index_without_a_rebuild(store, settings, tmp_path) -> None:
    rt = Runtime(settings, store)
    first = write_geojson(tmp_path / "a.geojson", [({"source_id": "A"}, square(RD_X, RD_Y))], crs=RD_URN)
    import_parks(store, first, settings=settings, source="t")
    index = rt.park_index()
    assert rt.index_rebuilds == 1 and len(index) == 1
    second = write_geojson(tmp_path / "b.geojson", [({"source_id": "B"}, square(RD_X + 5000, RD_Y))], crs=RD_URN)
    import_parks(store, second, settings=settings, source="t")
    index = rt.park_index()
    assert rt.index_rebuilds == 1, "an added park must not rebuild the index"
    assert index.locate(RD_X + 5010, RD_Y + 10)[1] == "inside"
    assert len(index) == 2
    rt.park_index()
    assert rt.index_rebuilds == 1

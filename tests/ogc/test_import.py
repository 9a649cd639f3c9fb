"""``parkwacht import parks --from-ogc``: parks read page by page from an OGC API – Features server, with the
validation, counts and batch records of a file import. Tested against Parkwacht's own ``/ogc`` on loopback
and against a small hand-made server that sends bad features and broken paging."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from werkzeug.wrappers import Request, Response

from service import geo
from service.app import create_app, runtime
from service.config import Settings, load_settings
from service.ingest import FileRefused
from service.ingest.ogc_source import import_parks_from_ogc
from service.reads import iter_batches, rejected_rows
from service.store import Store, schema

from .conftest import Server, serve

#: Real clients against a real server on loopback: part of `make test`, not of the fast inner loop.
pytestmark = pytest.mark.slow


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[tuple[Settings, Store]]:
    settings = load_settings({}, database_url=f"sqlite:///{tmp_path / 'empty.db'}",
                             instance_dir=str(tmp_path / "instance"), basemap="none")
    store = Store(settings.database_url)
    store.upgrade()
    yield settings, store
    store.dispose()


def _stored(database_url: str) -> dict[str, Any]:
    """Park source id (or id) -> RD geometry of a store's current parks."""
    store = Store(database_url)
    try:
        with store.connect() as conn:
            rows = list(conn.execute(sa.select(schema.parks.c.id, schema.parks.c.source_id, schema.parks.c.name,
                                               schema.parks.c.geom_wkb).where(schema.parks.c.retired_at.is_(None))))
    finally:
        store.dispose()
    return {r: shapely.from_wkb(r.geom_wkb) for r in rows}


def test_cli_imports_every_park_of_parkwachts_own_ogc_api(server: Server, empty: tuple[Settings, Store],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings, store = empty
    app = create_app(settings)
    monkeypatch.setenv("PARKWACHT_OGC_TOKEN", server.token)
    args = ["import", "parks", "--from-ogc", server.url, "--collection", "parks", "--json"]
    out = app.test_cli_runner().invoke(args=args)
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout[out.stdout.index("{"):out.stdout.rindex("}") + 1])
    source = {r.id: g for r, g in _stored(server.database_url).items()}
    assert result["read"] == result["stored"] == result["created"] == len(source)
    assert result["rejected"] == 0 and result["status"] == "done"
    copied = {int(r.source_id): (r, g) for r, g in _stored(settings.database_url).items()}
    assert set(copied) == set(source)  # the feature id is the source id
    for pid, (_row, geom) in list(copied.items())[:20]:  # asked for in RD New: the same polygon to the centimetre
        assert geom.equals_exact(shapely.set_precision(source[pid], 0.01), tolerance=0.011)
    batch = iter_batches(store)[0]
    assert batch["filename"] == f"{server.url}/collections/parks" and batch["status"] == "done"
    assert batch["options"]["from_ogc"] == server.url and batch["options"]["id_column"] == "ogc_feature_id"
    again = app.test_cli_runner().invoke(args=args)
    assert again.exit_code == 0
    repeat = json.loads(again.stdout[again.stdout.index("{"):again.stdout.rindex("}") + 1])
    assert repeat["unchanged"] == len(source) and repeat["stored"] == 0
    runtime(app).store.dispose()


def test_pages_are_followed_by_next_links_and_a_bbox_is_passed_on(server: Server,
                                                                  empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    result = import_parks_from_ogc(store, server.url, collection="parks", settings=settings, page_size=37,
                                   headers=server.headers)
    total = len(_stored(server.database_url))
    assert result.read == result.created == total
    box = "5.8,52.2,5.9,52.3"
    other = import_parks_from_ogc(store, server.url, collection="parks", settings=settings, page_size=2, bbox=box,
                                  source="box", headers=server.headers)
    geoms = np.array(list(_stored(server.database_url).values()), dtype=object)
    expected = int(np.count_nonzero(shapely.intersects(geo.to_wgs84(geoms), shapely.box(5.8, 52.2, 5.9, 52.3))))
    assert other.read == other.created == expected > 2


def test_a_wrong_collection_or_token_is_refused_and_recorded(server: Server, empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    with pytest.raises(FileRefused, match="404"):
        import_parks_from_ogc(store, server.url, collection="campings", settings=settings, headers=server.headers)
    with pytest.raises(FileRefused, match="401"):
        import_parks_from_ogc(store, server.url, collection="parks", settings=settings)
    with pytest.raises(FileRefused, match="apply to files"):
        import_parks_from_ogc(store, server.url, collection="parks", settings=settings, layer="x")
    batches = iter_batches(store)
    assert [b["status"] for b in batches[:2]] == ["failed", "failed"]
    assert "campings" in (batches[1]["error"] or "") or "campings" in (batches[0]["error"] or "")


# -- a hand-made server: bad features, broken paging ------------------------------------------------------
def _square(lon: float, lat: float, d: float = 0.002) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


FEATURES = [
    {"type": "Feature", "id": "a", "geometry": _square(5.9, 52.2), "properties": {"naam": "Goed park", "functie":
                                                                                   "bungalowpark"}},
    {"type": "Feature", "id": "b", "geometry": None, "properties": {"naam": "Zonder vorm"}},
    {"type": "Feature", "id": "c", "geometry": _square(0.1, 0.1), "properties": {"naam": "In zee"}},
    {"type": "Feature", "id": "d", "geometry": _square(5.95, 52.25), "properties": {"naam": "x" * 300}},
    {"type": "Feature", "id": "e", "geometry": _square(5.8, 52.3), "properties": {"naam": "Camping Twee",
                                                                                   "functie": "camping",
                                                                                   "nationaliteit": "geheim"}},
]


def _fake_app(loop: bool = False) -> Any:
    """One collection in CRS84 only, two features a page; with ``loop`` the second page links to the first."""

    @Request.application
    def app(request: Request) -> Response:
        base = request.host_url.rstrip("/")
        if request.path == "/fake/collections/top10":
            body: dict[str, Any] = {"id": "top10", "links": [{"rel": "items", "type": "application/geo+json",
                                                              "href": f"{base}/fake/collections/top10/items"}]}
        elif request.path == "/fake/collections/top10/items":
            start = int(request.args.get("start", 0))
            if "crs" in request.args:
                return Response("crs not supported", status=400)
            links = []
            if start + 2 < len(FEATURES) or loop:
                nxt = 0 if loop and start >= 2 else start + 2
                links.append({"rel": "next", "type": "application/geo+json",
                              "href": f"{base}/fake/collections/top10/items?start={nxt}"})
            body = {"type": "FeatureCollection", "features": FEATURES[start:start + 2], "links": links}
        else:
            return Response("not found", status=404)
        return Response(json.dumps(body), mimetype="application/geo+json")

    return app


def test_bad_features_are_rejected_with_reasons_like_rows_of_a_file(empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    for base in serve(_fake_app()):
        result = import_parks_from_ogc(store, f"{base}/fake", collection="top10", settings=settings,
                                       preset="top10nl")
    assert (result.read, result.stored, result.rejected) == (5, 2, 3)
    reasons = {r["row_number"]: (r["field"], r["reason"]) for r in rejected_rows(store, result.batch_id)}
    assert reasons[2] == ("geometry", "row has no geometry")
    assert reasons[3][0] == "geometry" and "outside the Netherlands" in reasons[3][1]
    assert reasons[4][0] == "name"
    assert result.ignored_columns == ["nationaliteit"]  # a personal trait is not stored, from a server either
    rows = list(_stored(settings.database_url))
    assert {r.name for r in rows} == {"Goed park", "Camping Twee"}
    assert {r.source_id for r in rows} == {"a", "e"}


def test_a_server_whose_next_links_loop_is_refused_and_nothing_is_stored(empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    for base in serve(_fake_app(loop=True)):
        with pytest.raises(FileRefused, match="links back"):
            import_parks_from_ogc(store, f"{base}/fake", collection="top10", settings=settings, preset="top10nl")
    assert _stored(settings.database_url) == {}
    assert iter_batches(store)[0]["status"] == "failed"


def test_file_and_from_ogc_exclude_each_other(empty: tuple[Settings, Store]) -> None:
    settings, _ = empty
    runner = create_app(settings).test_cli_runner()
    assert runner.invoke(args=["import", "parks"]).exit_code == 2
    both = ["import", "parks", "x.gpkg", "--from-ogc", "http://x", "--collection", "p"]
    assert runner.invoke(args=both).exit_code == 2
    assert runner.invoke(args=["import", "parks", "--from-ogc", "http://x"]).exit_code == 2
    assert runner.invoke(args=["import", "signals"]).exit_code == 2

"""Clients nobody here wrote, against Parkwacht on loopback: OWSLib, GDAL's OAPIF driver (through pyogrio and
``ogrinfo``) and QGIS's way of paging. Counts are checked against shapely on the same parks, read directly
from the store, so a client that silently drops or repeats features fails."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
import sqlalchemy as sa

from service import geo
from service.store import Store, schema

from .conftest import Server

#: Real clients against a real server on loopback: part of `make test`, not of the fast inner loop.
pytestmark = pytest.mark.slow

needs_oapif = pytest.mark.skipif("OAPIF" not in pyogrio.list_drivers(), reason="this GDAL has no OAPIF driver")

#: Boxes (CRS84) over the demo region: one with a few parks, one with many, one with none.
BOXES = [(5.80, 52.20, 5.90, 52.30), (5.6, 52.1, 6.1, 52.45), (3.5, 50.8, 3.6, 50.9)]


def _parks(server: Server, rd: bool = False) -> dict[int, Any]:
    """Every current park's geometry in CRS84 (or RD), straight from the store (not through the API)."""
    store = Store(server.database_url)
    try:
        with store.connect() as conn:
            rows = list(conn.execute(sa.select(schema.parks.c.id, schema.parks.c.geom_wkb)
                                     .where(schema.parks.c.retired_at.is_(None))))
    finally:
        store.dispose()
    geoms = np.asarray(shapely.from_wkb([r.geom_wkb for r in rows]), dtype=object)
    return {int(r.id): g for r, g in zip(rows, geoms if rd else geo.to_wgs84(geoms))}


def _shapely_count(parks: dict[int, Any], box: tuple[float, float, float, float]) -> int:
    return int(np.count_nonzero(shapely.intersects(np.array(list(parks.values()), dtype=object), shapely.box(*box))))


def _get(url: str, headers: dict[str, str]) -> dict[str, Any]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as resp:
        return json.loads(resp.read())


# -- OWSLib ---------------------------------------------------------------------------------------------------
def test_owslib_reads_landing_page_conformance_collections_and_items(server: Server) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server.url, headers=server.headers)
    assert {lk["rel"] for lk in api.links} >= {"self", "service-desc", "service-doc", "conformance", "data"}
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert api.feature_collections() == ["parks", "municipalities", "hotspots"]
    assert api.collection("parks")["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/28992"
    assert "risk_class" in api.collection_queryables("parks")["properties"]
    parks = _parks(server)
    box = BOXES[0]
    page = api.collection_items("parks", bbox=list(box), limit=3)
    assert page["numberMatched"] == _shapely_count(parks, box)
    assert page["numberReturned"] == len(page["features"]) == min(3, page["numberMatched"])
    everything = api.collection_items("parks", limit=10_000)
    assert sorted(f["id"] for f in everything["features"]) == sorted(parks)


# -- GDAL -----------------------------------------------------------------------------------------------------
@pytest.fixture
def gdal_auth(server: Server, tmp_path: Path) -> Iterator[Path]:
    """GDAL sends the analyst's token with every request: a header file (GDAL >= 3.6 reads it, also when a driver
    sets headers of its own, which the OAPIF driver does and which overrides GDAL_HTTP_HEADERS)."""
    header_file = tmp_path / "gdal-headers.txt"
    header_file.write_text(f"Authorization: Bearer {server.token}\n", encoding="utf-8")
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": str(header_file)})
    yield header_file
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADER_FILE": None})


@needs_oapif
def test_gdal_oapif_lists_the_collections_and_reads_every_park(server: Server, gdal_auth: Path) -> None:
    source = f"OAPIF:{server.url}"
    layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    assert layers == ["parks", "municipalities", "hotspots"]
    frame = pyogrio.read_dataframe(source, layer="parks")
    parks = _parks(server)
    assert sorted(frame["id"].astype(int)) == sorted(parks)
    assert {"score", "risk_class", "hotspot", "municipality_code"} <= set(frame.columns)
    assert frame.geometry.notna().all()


@needs_oapif
@pytest.mark.parametrize("box", BOXES[:2], ids=["small", "large"])
def test_gdal_bbox_counts_equal_a_direct_shapely_count(server: Server, gdal_auth: Path,
                                                       box: tuple[float, float, float, float]) -> None:
    """GDAL takes the collection's storage CRS (RD New, Part 2) as the layer's, so its bbox is in RD: the count
    is compared with shapely on the stored RD geometries, the same box, no reprojection in between."""
    source = f"OAPIF:{server.url}"
    layer_crs = pyogrio.read_info(source, layer="parks")["crs"]
    if layer_crs == "EPSG:28992":
        xs, ys = geo.to_rd_xy(np.array([box[0], box[2]]), np.array([box[1], box[3]]), geo.WGS84)
        box = (float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1]))
        parks = _parks(server, rd=True)
    else:
        parks = _parks(server)
    frame = pyogrio.read_dataframe(source, layer="parks", bbox=box)
    expected = _shapely_count(parks, box)
    assert expected > 0
    assert len(frame) == expected


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL's ogrinfo is not installed")
def test_ogrinfo_summarises_the_parks_layer(server: Server, gdal_auth: Path) -> None:
    out = subprocess.run(["ogrinfo", "-ro", "-so", "--config", "GDAL_HTTP_HEADER_FILE", str(gdal_auth),
                          f"OAPIF:{server.url}", "parks"],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "GDAL_HTTP_TIMEOUT": "30"})
    assert out.returncode == 0, out.stderr
    assert f"Feature Count: {len(_parks(server))}" in out.stdout
    assert "risk_class" in out.stdout


# -- QGIS's paging --------------------------------------------------------------------------------------------
def _follow(url: str, headers: dict[str, str]) -> tuple[list[int], list[dict[str, Any]]]:
    """Follow ``next`` links until there is none, as QGIS does; returns the ids seen and every page."""
    ids: list[int] = []
    pages = []
    while url:
        page = _get(url, {**headers, "Accept": "application/geo+json"})
        pages.append(page)
        ids += [f["id"] for f in page["features"]]
        url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), "")
        assert len(pages) < 1000
    return ids, pages


def test_paging_by_next_links_returns_every_park_exactly_once(server: Server) -> None:
    ids, pages = _follow(f"{server.url}/collections/parks/items?limit=17", server.headers)
    parks = _parks(server)
    assert len(ids) == len(set(ids)) == len(parks)
    assert set(ids) == set(parks)
    assert all(p["numberMatched"] == len(parks) for p in pages)
    assert all(p["numberReturned"] == len(p["features"]) for p in pages)
    assert len(pages) == -(-len(parks) // 17)


@pytest.mark.parametrize("box", BOXES, ids=["small", "large", "empty"])
def test_paging_a_bbox_returns_what_shapely_counts(server: Server, box: tuple[float, float, float, float]) -> None:
    query = ",".join(str(v) for v in box)
    ids, pages = _follow(f"{server.url}/collections/parks/items?bbox={query}&limit=25", server.headers)
    parks = _parks(server)
    expected = {pid for pid, g in parks.items() if g.intersects(shapely.box(*box))}
    assert len(ids) == len(set(ids)) and set(ids) == expected
    assert pages[0]["numberMatched"] == len(expected)

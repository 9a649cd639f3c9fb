"""Importing parks: the real TOP10NL-derived sample, re-imports, and every kind of bad input."""
from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from service.ingest import FileRefused, ImportFailed, import_parks, rejected_rows
from service.store import schema
from tests.helpers import square, write_geojson

RD_X, RD_Y = 180_000, 470_000  # a spot on the Veluwe


def parks_in_store(store) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(schema.parks).order_by(schema.parks.c.id))]


def park_file(tmp_path: Path, features, name="parks.geojson", crs="urn:ogc:def:crs:EPSG::28992") -> Path:
    return write_geojson(tmp_path / name, features, crs=crs)


@pytest.mark.realdata
def test_real_sample_imports_with_one_command(store, settings, sample_data) -> None:
    result = import_parks(store, sample_data / "parks_ftm_vakantieparken_final.zip", settings=settings,
                          preset="top10nl")
    assert result.read == 3770
    # The file repeats one park exactly (same polygon, same values): stored once, the repeat rejected.
    assert result.stored == 3769 and result.rejected == 1
    assert result.read == result.stored + result.rejected + result.unchanged
    (rej,) = rejected_rows(store, result.batch_id)
    assert "repeats row" in rej["reason"]

    source = gpd.read_file(sample_data / "parks_ftm_vakantieparken_final.zip")
    rows = parks_in_store(store)
    by_name = {r["name"] for r in rows}
    assert "Duinlust" in by_name
    kinds = {k: sum(r["kind"] == k for r in rows) for k in ("camping", "bungalowpark", "caravanpark", "unknown")}
    assert kinds["bungalowpark"] == (source.functie == "bungalowpark").sum()
    assert kinds["caravanpark"] == (source.functie == "caravanpark").sum()
    assert abs(kinds["camping"] - (source.functie == "camping, kampeerterrein").sum()) <= 1
    assert sum(r["operator"] == "Roompot" for r in rows) == (source.eigenaar == "Roompot").sum()
    assert sum(r["takeover_year"] is not None for r in rows) == source.overname_j.notna().sum()
    first = next(r for r in rows if r["name"] == "Duinlust")
    assert first["municipality_code"] == "GM1924" and first["municipality_name"] == "Goeree-Overflakkee"
    assert first["province"] == "Zuid-Holland" and first["unit_count"] == 1 and first["kind"] == "caravanpark"
    assert first["area_m2"] == pytest.approx(3968, rel=0.01)
    assert first["attributes"]["link"].startswith("https://brt.basisregistraties.overheid.nl/")


@pytest.mark.realdata
def test_real_sample_reimport_is_idempotent(store, settings, sample_data) -> None:
    path = sample_data / "parks_ftm_vakantieparken_final.zip"
    import_parks(store, path, settings=settings, preset="top10nl")
    again = import_parks(store, path, settings=settings, preset="top10nl")
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 3769, 1)
    assert store.count(schema.parks) == 3769


def test_reimport_records_what_changed(store, settings, tmp_path) -> None:
    path = park_file(tmp_path, [({"source_id": "P1", "name": "De Berk", "unit_count": 10}, square(RD_X, RD_Y)),
                                ({"source_id": "P2", "name": "Het Ven", "unit_count": 5}, square(RD_X + 500, RD_Y))])
    import_parks(store, path, settings=settings, source="t")
    path = park_file(tmp_path, [({"source_id": "P1", "name": "De Berk", "unit_count": 12}, square(RD_X, RD_Y)),
                                ({"source_id": "P2", "name": "Het Ven", "unit_count": 5}, square(RD_X + 500, RD_Y))])
    result = import_parks(store, path, settings=settings, source="t")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    with store.connect() as conn:
        (change,) = conn.execute(sa.select(schema.import_changes)).all()
    assert change.source_id == "P1" and change.changes == {"unit_count": [10, 12]}


def test_kinds_and_codes_are_normalised(store, settings, tmp_path) -> None:
    feats = [({"source_id": "a", "kind": "Camping, kampeerterrein", "municipality_code": "513"}, square(RD_X, RD_Y)),
             ({"source_id": "b", "kind": "", "municipality_code": "GM0243"}, square(RD_X + 300, RD_Y)),
             ({"source_id": "c", "kind": "glamping", "municipality_code": ""}, square(RD_X + 600, RD_Y))]
    import_parks(store, park_file(tmp_path, feats), settings=settings, source="t")
    rows = {r["source_id"]: r for r in parks_in_store(store)}
    assert rows["a"]["kind"] == "camping" and rows["a"]["municipality_code"] == "GM0513"
    assert rows["b"]["kind"] == "unknown" and rows["b"]["municipality_code"] == "GM0243"
    assert rows["c"]["kind"] == "unknown" and rows["c"]["attributes"]["kind_source"] == "glamping"


def test_wgs84_file_is_reprojected_to_rd(store, settings, tmp_path) -> None:
    poly = shapely.box(5.60, 52.25, 5.61, 52.26)
    import_parks(store, write_geojson(tmp_path / "p.geojson", [({"source_id": "w"}, poly)]), settings=settings,
                 source="t")
    (row,) = parks_in_store(store)
    assert 160_000 < row["minx"] < 190_000 and 460_000 < row["miny"] < 480_000
    assert row["area_m2"] == pytest.approx(0.01 * 0.01 * 111_320 * 68_000, rel=0.05)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"this is not geodata at all", "not a readable geodata file"),
    (b'{"type": "FeatureCollection", "features": [', "not a readable geodata file"),
])
def test_files_that_are_not_geodata_are_refused(store, settings, tmp_path, content, message) -> None:
    path = tmp_path / "bad.geojson"
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=message):
        import_parks(store, path, settings=settings)
    assert store.count(schema.parks) == 0
    with store.connect() as conn:
        batch = conn.execute(sa.select(schema.import_batches)).one()
    assert batch.status == "failed" and message.split()[0] in batch.error


def test_shapefile_without_crs_is_refused_unless_crs_given(store, settings, tmp_path) -> None:
    gdf = gpd.GeoDataFrame({"source_id": ["s1"]}, geometry=[square(RD_X, RD_Y)], crs=None)
    shp = tmp_path / "nocrs.shp"
    gdf.to_file(shp)
    with pytest.raises(FileRefused, match="no coordinate reference system"):
        import_parks(store, shp, settings=settings)
    result = import_parks(store, shp, settings=settings, crs="EPSG:28992")
    assert result.stored == 1


def test_zipped_shapefile_with_macos_junk(store, settings, tmp_path) -> None:
    gdf = gpd.GeoDataFrame({"naam": ["Zonnedauw"], "functie": ["bungalowpark"]}, geometry=[square(RD_X, RD_Y)],
                           crs=28992)
    gdf.to_file(tmp_path / "p.shp")
    z = tmp_path / "p.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in tmp_path.glob("p.*"):
            if f.suffix != ".zip":
                zf.write(f, f.name)
                zf.writestr(f"__MACOSX/._{f.name}", b"\x00\x05\x16\x07junk")
    result = import_parks(store, z, settings=settings, preset="top10nl")
    assert result.stored == 1
    assert parks_in_store(store)[0]["name"] == "Zonnedauw"


def test_geopackage_with_layer(store, settings, tmp_path) -> None:
    gpkg = tmp_path / "p.gpkg"
    gpd.GeoDataFrame({"source_id": ["a"]}, geometry=[square(RD_X, RD_Y)], crs=28992).to_file(gpkg, layer="other")
    gpd.GeoDataFrame({"source_id": ["b", "c"]}, geometry=[square(RD_X, RD_Y), square(RD_X + 200, RD_Y)],
                     crs=28992).to_file(gpkg, layer="parks")
    assert import_parks(store, gpkg, settings=settings, layer="parks").stored == 2


def test_bad_rows_are_rejected_with_reasons_and_the_rest_stored(store, settings, tmp_path) -> None:
    bowtie = shapely.Polygon([(RD_X, RD_Y), (RD_X + 100, RD_Y + 100), (RD_X + 100, RD_Y), (RD_X, RD_Y + 100)])
    line_only = shapely.Polygon([(RD_X, RD_Y), (RD_X + 100, RD_Y), (RD_X + 200, RD_Y)])  # zero area
    feats = [
        ({"source_id": "ok", "name": "Goed park"}, square(RD_X, RD_Y)),
        ({"source_id": "bowtie", "name": "Strik"}, bowtie),
        ({"source_id": "point", "name": "Punt"}, shapely.Point(RD_X, RD_Y)),
        ({"source_id": "line", "name": "Lijn"}, shapely.LineString([(RD_X, RD_Y), (RD_X + 10, RD_Y)])),
        ({"source_id": "flat", "name": "Plat"}, line_only),
        ({"source_id": "nogeom", "name": "Leeg"}, None),
        ({"source_id": "far", "name": "Ver weg"}, square(900_000, 900_000)),
        ({"source_id": "long", "name": "x" * 5000}, square(RD_X + 400, RD_Y)),
        ({"source_id": "html", "name": "<img src=x onerror=alert(1)>"}, square(RD_X + 800, RD_Y)),
        ({"source_id": "ok", "name": "Dubbel"}, square(RD_X + 1200, RD_Y)),
        ({"source_id": "units", "unit_count": "veel"}, square(RD_X + 1600, RD_Y)),
        ({"source_id": "year", "takeover_year": 2999}, square(RD_X + 2000, RD_Y)),
        ({"source_id": "code", "municipality_code": "Putten"}, square(RD_X + 2400, RD_Y)),
    ]
    result = import_parks(store, park_file(tmp_path, feats), settings=settings, source="t")
    assert result.read == 13
    assert result.read == result.stored + result.rejected
    stored = {r["source_id"]: r for r in parks_in_store(store)}
    assert set(stored) == {"ok", "bowtie", "html"}
    assert stored["bowtie"]["attributes"]["geometry_note"].startswith("invalid geometry repaired")
    assert shapely.from_wkb(stored["bowtie"]["geom_wkb"]).is_valid
    # HTML in a name is text: kept exactly, escaped wherever it is shown.
    assert stored["html"]["name"] == "<img src=x onerror=alert(1)>"
    reasons = {r["raw"]["source_id"]: (r["field"], r["reason"]) for r in rejected_rows(store, result.batch_id)}
    assert reasons["point"] == ("geometry", "a park must be a Polygon or MultiPolygon, not a Point")
    assert "LineString" in reasons["line"][1]
    assert reasons["flat"][0] == "geometry"
    assert reasons["nogeom"] == ("geometry", "row has no geometry")
    assert "outside the Netherlands" in reasons["far"][1]
    assert reasons["long"] == ("name", "name is longer than 200 characters")
    assert reasons["ok"] == ("source_id", "duplicate id 'ok' in this file (first on row 1)")
    assert reasons["units"][0] == "unit_count"
    assert reasons["year"][0] == "takeover_year"
    assert reasons["code"][0] == "municipality_code"


def test_chunked_reading_gives_the_same_result(store, settings, tmp_path) -> None:
    feats = [({"source_id": f"p{i}", "name": f"Park {i}"}, square(RD_X + 300 * i, RD_Y)) for i in range(23)]
    feats.append(({"source_id": "p3", "name": "dup across chunks"}, square(RD_X, RD_Y + 5000)))
    small = settings.with_overrides(import_chunk_rows=5)
    result = import_parks(store, park_file(tmp_path, feats), settings=small, source="t")
    assert (result.read, result.stored, result.rejected) == (24, 23, 1)
    assert rejected_rows(store, result.batch_id)[0]["row_number"] == 24


def test_failure_half_way_writes_nothing(store, settings, tmp_path, monkeypatch) -> None:
    feats = [({"source_id": f"p{i}"}, square(RD_X + 300 * i, RD_Y)) for i in range(10)]
    path = park_file(tmp_path, feats)
    from service.ingest import parks

    calls = {"n": 0}
    real = parks.validate_parks

    def breaks_on_second_chunk(chunk, ctx):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk went away")
        return real(chunk, ctx)

    monkeypatch.setattr(parks, "validate_parks", breaks_on_second_chunk)
    with pytest.raises(ImportFailed, match="rolled back"):
        import_parks(store, path, settings=settings.with_overrides(import_chunk_rows=4), source="t")
    assert store.count(schema.parks) == 0
    assert store.count(schema.rejected_rows) == 0
    with store.connect() as conn:
        batch = conn.execute(sa.select(schema.import_batches)).one()
    assert batch.status == "failed" and "disk went away" in batch.error


def test_personal_trait_columns_are_not_stored(store, settings, tmp_path) -> None:
    feats = [({"source_id": "a", "nationaliteit_beheerder": "X", "remark": "ok"}, square(RD_X, RD_Y))]
    result = import_parks(store, park_file(tmp_path, feats), settings=settings, source="t")
    assert result.ignored_columns == ["nationaliteit_beheerder"]
    (row,) = parks_in_store(store)
    assert row["attributes"] == {"remark": "ok"}

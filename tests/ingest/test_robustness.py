"""No single row aborts an import: geometry GEOS or PROJ refuses, contradicting CRSs, implausible parks,
unknown options and unusable encodings, each answered with a reason a person can act on."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from service.ingest import (
    FileRefused,
    UnknownOption,
    import_park_frame,
    import_parks,
    import_signal_records,
    import_signals,
    rejected_rows,
)
from service.store import schema
from tests.helpers import square, write_csv, write_geojson

RD_X, RD_Y = 180_000, 470_000
RD = "urn:ogc:def:crs:EPSG::28992"


def _reasons(store, batch_id: int) -> dict[str, tuple[str | None, str]]:
    return {r["raw"].get("source_id"): (r["field"], r["reason"]) for r in rejected_rows(store, batch_id)}


def _raw_geojson(path: Path, features: list[tuple[dict, object]], crs: str | None = RD) -> Path:
    """A FeatureCollection with geometries given as GeoJSON dicts (so hostile ones survive as written)."""
    fc: dict = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(fc), encoding="utf-8")
    return path


def _ring(x: float, y: float, size: float = 100.0) -> list[list[float]]:
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def test_geometry_geos_cannot_repair_is_one_rejection_and_the_rest_is_stored(store, settings) -> None:
    # A multipolygon with a two-point ring: make_valid's default method raises "Overlay input is mixed-dimension"
    # on it (as on 16 CBS municipality boundaries); the fallback repairs it, a bow-tie is split, a ring that
    # collapses to a line is refused, a point that reprojection empties is refused.
    import geopandas as gpd

    crossing = shapely.from_wkt(f"POLYGON(({RD_X} {RD_Y}, {RD_X + 100} {RD_Y + 100}, {RD_X + 100} {RD_Y}, "
                                f"{RD_X} {RD_Y + 100}, {RD_X} {RD_Y}))")
    collapsed = shapely.from_wkt(f"POLYGON(({RD_X} {RD_Y}, {RD_X + 50} {RD_Y}, {RD_X + 100} {RD_Y}, {RD_X} {RD_Y}))")
    frame = gpd.GeoDataFrame({"source_id": ["ok", "bowtie", "collapsed", "empty", "line", "nan"]}, geometry=[
        square(RD_X, RD_Y), crossing, collapsed, shapely.Polygon(),
        shapely.LineString([(RD_X, RD_Y), (RD_X + 5, RD_Y)]),
        shapely.from_wkt(f"POLYGON(({RD_X} {RD_Y}, {RD_X + 10} {RD_Y}, {RD_X} NaN, {RD_X} {RD_Y}))"),
    ], crs=28992)
    result = import_park_frame(store, frame, settings=settings, source="t", crs="EPSG:28992")
    assert result.read == result.stored + result.rejected + result.unchanged == 6
    assert result.stored == 2
    reasons = _reasons(store, result.batch_id)
    assert "collapses to" in reasons["collapsed"][1] and "needs an area" in reasons["collapsed"][1]
    assert reasons["empty"] == ("geometry", "geometry is empty")
    assert "not a LineString" in reasons["line"][1]
    assert "NaN or infinity" in reasons["nan"][1]


def test_a_mixed_dimension_ring_is_repaired_not_refused(store, settings, tmp_path) -> None:
    shell = _ring(RD_X, RD_Y, 500)
    path = _raw_geojson(tmp_path / "p.geojson", [
        ({"source_id": "two-point-ring"}, {"type": "MultiPolygon", "coordinates": [
            [shell], [[[RD_X + 900, RD_Y], [RD_X + 901, RD_Y], [RD_X + 900, RD_Y]]]]}),
    ])
    result = import_parks(store, path, settings=settings, source="t")
    assert result.read == result.stored + result.rejected
    for r in rejected_rows(store, result.batch_id):  # refused only with a reason from the geometry
        assert r["field"] == "geometry" and r["reason"]


def test_reprojection_failures_are_rows_not_aborts(store, settings, tmp_path) -> None:
    # WGS84 coordinates PROJ cannot take to RD New, and one that lies far away: rejections, the rest stored.
    path = _raw_geojson(tmp_path / "p.geojson", [
        ({"source_id": "ok"}, {"type": "Polygon", "coordinates": [[[5.6, 52.2], [5.601, 52.2], [5.601, 52.201],
                                                                  [5.6, 52.201], [5.6, 52.2]]]}),
        ({"source_id": "pole"}, {"type": "Polygon", "coordinates": [[[0, 90], [10, 90], [10, 89.9], [0, 90]]]}),
        ({"source_id": "huge"}, {"type": "Polygon", "coordinates": [[[1e300, 1e300], [2e300, 1e300],
                                                                    [2e300, 2e300], [1e300, 1e300]]]}),
    ], crs=None)
    result = import_parks(store, path, settings=settings, source="t")
    assert result.read == 3 and result.stored == 1
    assert set(_reasons(store, result.batch_id)) == {"pole", "huge"}


def test_signal_geometries_that_geos_refuses_are_rejections(store, settings) -> None:
    records = [
        {"source_id": "ok", "type": "complaint", "date": "2024-01-01",
         "geometry": {"type": "Point", "coordinates": [5.6, 52.2]}},
        {"source_id": "empty-point", "type": "complaint", "date": "2024-01-01",
         "geometry": {"type": "Point", "coordinates": []}},
        {"source_id": "empty-collection", "type": "complaint", "date": "2024-01-01",
         "geometry": {"type": "GeometryCollection", "geometries": []}},
        {"source_id": "line", "type": "complaint", "date": "2024-01-01",
         "geometry": {"type": "LineString", "coordinates": [[5.6, 52.2], [5.61, 52.21]]}},
    ]
    result = import_signal_records(store, records, settings=settings, source="api")
    assert result.read == result.stored + result.rejected == 4
    assert result.stored == 2  # the point, and the line through its representative point
    reasons = _reasons(store, result.batch_id)
    assert reasons["empty-point"][0] == "location" and reasons["empty-collection"][0] == "location"


def test_geojson_in_rd_metres_is_refused_with_the_fix(store, settings, tmp_path) -> None:
    path = write_geojson(tmp_path / "parks.geojson", [({"source_id": f"p{i}"}, square(RD_X + 300 * i, RD_Y))
                                                      for i in range(5)])  # no crs member: WGS84 by RFC 7946
    with pytest.raises(FileRefused, match=r"RFC 7946.*look like RD New \(EPSG:28992\); pass --crs EPSG:28992"):
        import_parks(store, path, settings=settings, source="t")
    assert store.count(schema.parks) == 0 and store.count(schema.rejected_rows) == 0
    result = import_parks(store, path, settings=settings, source="t", crs="EPSG:28992")
    assert result.stored == 5


def test_signals_with_swapped_lon_lat_throughout_are_refused(store, settings, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "lon", "lat"],
                     [[f"s{i}", "2024-01-01", 52.2 + i / 100, 5.6] for i in range(10)])
    with pytest.raises(FileRefused, match="swapped throughout"):
        import_signals(store, path, settings=settings, signal_type="complaint")
    assert store.count(schema.signals) == 0 and store.count(schema.rejected_rows) == 0
    with store.connect() as conn:
        batch = conn.execute(sa.select(schema.import_batches)).one()
    assert batch.status == "failed" and "swapped" in batch.error


def test_signals_in_rd_labelled_as_degrees_are_refused(store, settings, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "lon", "lat"],
                     [[f"s{i}", "2024-01-01", RD_X + i, RD_Y] for i in range(10)])
    with pytest.raises(FileRefused, match="look like RD New"):
        import_signals(store, path, settings=settings, signal_type="complaint")


def test_a_mixed_file_keeps_its_row_by_row_rejections(store, settings, tmp_path) -> None:
    rows = [[f"s{i}", "2024-01-01", 5.6, 52.2] for i in range(8)] + [["swapped", "2024-01-01", 52.2, 5.6]]
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "lon", "lat"], rows)
    result = import_signals(store, path, settings=settings, signal_type="complaint")
    assert (result.stored, result.rejected) == (8, 1)
    assert "swapped" in _reasons(store, result.batch_id)["swapped"][1]


def test_implausibly_large_parks_are_refused_unless_allowed(store, settings, tmp_path) -> None:
    path = write_geojson(tmp_path / "p.geojson", [
        ({"source_id": "park"}, square(RD_X, RD_Y, 500)),
        ({"source_id": "country"}, shapely.box(13_000, 306_000, 278_000, 619_000)),
    ], crs=RD)
    result = import_parks(store, path, settings=settings, source="t")
    assert (result.stored, result.rejected) == (1, 1)
    field, reason = _reasons(store, result.batch_id)["country"]
    assert field == "geometry" and "km²" in reason and "--allow-large" in reason
    again = import_parks(store, path, settings=settings, source="t", allow_large=True)
    assert (again.created, again.unchanged) == (1, 1)
    small = settings.with_overrides(max_park_area_km2=0.1)
    third = import_parks(store, path, settings=small, source="u")
    assert third.stored == 0 and third.rejected == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"signal_type": "complain"}, "unknown signal type 'complain'; known: permit"),
    ({"preset": "bekendmaking"}, "unknown signals preset 'bekendmaking'; known: bekendmakingen, signals"),
    ({"mapping": {"lon_": "x"}}, "'lon_' is not a signal field"),
    ({"encoding": "utf-99"}, "unknown text encoding 'utf-99'"),
])
def test_unknown_options_are_refused_before_the_file_is_read(store, settings, tmp_path, kwargs, message) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "lon", "lat"], [["a", "2024-01-01", 5.6, 52.2]])
    with pytest.raises(UnknownOption, match=message):
        import_signals(store, path, settings=settings, **{"signal_type": "complaint", **kwargs})
    assert store.count(schema.import_batches) == 0  # nothing was read, so no batch was opened


def test_a_mapped_column_the_file_lacks_and_an_unknown_layer_name_the_choices(store, settings, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "lon", "lat"], [["a", "2024-01-01", 5.6, 52.2]])
    with pytest.raises(FileRefused, match="no column for --map name=naam; its columns: source_id, date"):
        import_signals(store, path, settings=settings, signal_type="complaint", mapping={"name": "naam"})
    parks = write_geojson(tmp_path / "p.geojson", [({"source_id": "a"}, square(RD_X, RD_Y))], crs=RD)
    with pytest.raises(FileRefused, match="has no layer 'nope'; its layers: p"):
        import_parks(store, parks, settings=settings, layer="nope")


def test_utf16_on_an_8_bit_file_is_one_line(store, settings, tmp_path) -> None:
    for rows in (1, 40):  # a tiny file (no BOM) and a larger one (no line breaks read as UTF-16)
        path = write_csv(tmp_path / f"s{rows}.csv", ["source_id", "date", "lon", "lat"],
                         [[f"r{i}", "2024-01-01", "5.6", "52.25"] for i in range(rows)])
        with pytest.raises(FileRefused, match="is not utf-16 text|no line breaks"):
            import_signals(store, path, settings=settings, signal_type="complaint", encoding="utf-16")


@pytest.mark.realdata
def test_utf16_on_a_shapefile_is_refused_not_a_traceback(store, settings, sample_data) -> None:
    with pytest.raises(FileRefused):
        import_parks(store, sample_data / "parks_ftm_vakantieparken_final.zip", settings=settings,
                     preset="top10nl", encoding="utf-16")
    assert store.count(schema.parks) == 0

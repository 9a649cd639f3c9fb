"""Importing signals: the real Putten publications, assignment to parks, and every kind of bad input."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

from service.ingest import FileRefused, import_parks, import_signals, rejected_rows
from service.store import schema
from tests.helpers import square, write_csv, write_geojson

RD_X, RD_Y = 180_000, 470_000


def signals_in_store(store) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(schema.signals).order_by(schema.signals.c.id))]


@pytest.fixture
def two_parks(store, settings, tmp_path) -> dict[str, int]:
    """Park A: 200x200 m at RD (180000, 470000); park B 1 km east."""
    path = write_geojson(tmp_path / "parks.geojson",
                         [({"source_id": "A", "name": "Park A"}, square(RD_X, RD_Y, 200)),
                          ({"source_id": "B", "name": "Park B"}, square(RD_X + 1000, RD_Y, 200))],
                         crs="urn:ogc:def:crs:EPSG::28992")
    import_parks(store, path, settings=settings, source="t")
    with store.connect() as conn:
        return {r.source_id: r.id for r in conn.execute(sa.select(schema.parks))}


def rd_csv(tmp_path: Path, rows: list[list], header=("source_id", "date", "x", "y")) -> Path:
    return write_csv(tmp_path / "signals.csv", list(header), rows)


@pytest.mark.realdata
def test_putten_publications_preset(store, settings, sample_data) -> None:
    import_parks(store, sample_data / "parks_ftm_vakantieparken_final.zip", settings=settings, preset="top10nl")
    result = import_signals(store, sample_data / "permits_putten_2024-06.tsv", settings=settings,
                            preset="bekendmakingen")
    assert (result.read, result.stored, result.rejected) == (61, 61, 0)
    assert result.assignment["inside"] == 2
    assert result.assignment["inside"] + result.assignment["nearby"] == 8
    rows = signals_in_store(store)
    assert {r["type"] for r in rows} == {"permit"}
    assert {r["subtype"] for r in rows} >= {"bouwvergunning", "kapvergunning", "omgevingsvergunning"}
    assert all(r["source_id"].split("-")[0] in {"gmb", "prb", "wsb"} for r in rows)
    inside = [r for r in rows if r["assignment"] == "inside"]
    with store.connect() as conn:
        names = {conn.execute(sa.select(schema.parks.c.name).where(schema.parks.c.id == r["park_id"])).scalar()
                 for r in inside}
    assert names == {"De Konijnenburg"}
    residence = [r for r in inside if "zonder_beheerderstaken" in r["attributes"].get("topics", [])]
    assert len(residence) == 1 and "bewoning" in residence[0]["attributes"]["topics"]
    assert all(0 < r["distance_m"] <= 250 for r in rows if r["assignment"] == "nearby")
    assert "tijdelijke bewoning bedrijfswoning" in residence[0]["attributes"]["title"]
    again = import_signals(store, sample_data / "permits_putten_2024-06.tsv", settings=settings,
                           preset="bekendmakingen")
    assert (again.stored, again.unchanged) == (0, 61)


@pytest.mark.realdata
def test_putten_geojson_gives_the_same_locations(store, settings, sample_data) -> None:
    a = import_signals(store, sample_data / "permits_putten_2024-06.tsv", settings=settings, preset="bekendmakingen",
                       source="tsv")
    b = import_signals(store, sample_data / "permits_putten_2024-06.geojson", settings=settings,
                       preset="bekendmakingen", source="gj")
    assert a.stored == b.stored == 61
    rows = signals_in_store(store)
    by_src = {}
    for r in rows:
        by_src.setdefault(r["source_id"], []).append((round(r["x"], 2), round(r["y"], 2)))
    assert all(len(v) == 2 and v[0] == v[1] for v in by_src.values())


def test_assignment_explicit_inside_nearby_unassigned(store, settings, tmp_path, two_parks) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "x", "y", "park_ref"], [
        ["in", "2024-01-01", RD_X + 50, RD_Y + 50, ""],
        ["near", "2024-01-01", RD_X + 300, RD_Y + 100, ""],
        ["far", "2024-01-01", RD_X + 5000, RD_Y, ""],
        ["given", "2024-01-01", "", "", "B"],
        ["given-located", "2024-01-01", RD_X + 50, RD_Y + 50, "B"],
    ])
    result = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    assert result.assignment == {"explicit": 2, "inside": 1, "nearby": 1, "unassigned": 1}
    rows = {r["source_id"]: r for r in signals_in_store(store)}
    assert rows["in"]["park_id"] == two_parks["A"] and rows["in"]["assignment"] == "inside"
    assert rows["near"]["park_id"] == two_parks["A"] and rows["near"]["distance_m"] == pytest.approx(100)
    assert rows["far"]["park_id"] is None and rows["far"]["assignment"] == "unassigned"
    assert rows["given"]["park_id"] == two_parks["B"] and rows["given"]["assignment"] == "explicit"
    assert rows["given-located"]["park_id"] == two_parks["B"]


def test_signals_imported_before_parks_are_assigned_when_parks_arrive(store, settings, tmp_path) -> None:
    path = rd_csv(tmp_path, [["s1", "2024-02-02", RD_X + 10, RD_Y + 10]])
    import_signals(store, path, settings=settings, signal_type="incident", crs="EPSG:28992")
    assert signals_in_store(store)[0]["assignment"] == "unassigned"
    parks = write_geojson(tmp_path / "p.geojson", [({"source_id": "A"}, square(RD_X, RD_Y))],
                          crs="urn:ogc:def:crs:EPSG::28992")
    result = import_parks(store, parks, settings=settings, source="t")
    assert result.reassigned == 1
    assert signals_in_store(store)[0]["assignment"] == "inside"


def test_inspection_outcomes_and_registrations(store, settings, tmp_path, two_parks) -> None:
    header = ["source_id", "type", "date", "park_ref", "violation", "categories", "residents"]
    path = write_csv(tmp_path / "s.csv", header, [
        ["i1", "inspection", "2024-03-01", "A", "ja", "permanent_residence; fire_safety", ""],
        ["i2", "inspection", "2024-03-02", "A", "no", "", ""],
        ["i3", "inspection", "2024-03-03", "A", "", "", ""],
        ["i4", "inspection", "2024-03-04", "A", "yes", "nationality", ""],
        ["r1", "registration", "2024-03-31", "B", "", "", "14"],
        ["r2", "registration", "2024-03-31", "B", "", "", "-3"],
        ["r3", "registration", "2024-03-31", "B", "", "", ""],
    ])
    result = import_signals(store, path, settings=settings)
    assert (result.stored, result.rejected) == (3, 4)
    rows = {r["source_id"]: r for r in signals_in_store(store)}
    assert rows["i1"]["attributes"]["violation"] is True
    assert rows["i1"]["attributes"]["categories"] == ["permanent_residence", "fire_safety"]
    assert rows["i2"]["attributes"] == {"violation": False, "categories": []}
    assert rows["r1"]["attributes"]["residents"] == 14
    reasons = {r["raw"]["source_id"]: r["reason"] for r in rejected_rows(store, result.batch_id)}
    assert reasons["i3"] == "inspection without outcome: give violation yes or no"
    assert reasons["i4"].startswith("unknown inspection categories ['nationality']")
    assert reasons["r2"] == "residents must be a whole number of 0 or more"
    assert reasons["r3"] == "registration without a resident count"


def test_bad_rows_each_get_a_reason(store, settings, tmp_path, two_parks) -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    path = write_csv(tmp_path / "s.csv", ["source_id", "type", "date", "lon", "lat", "name"], [
        ["ok", "complaint", "2024-05-01", "5.6", "52.25", "Overlast"],
        ["ok-dutch-date", "complaint", "01-05-2024", '"5,6"', '"52,25"', ""],
        ["badline", "complaint", "2024-05-01", "5.6", "52.25", "a", "b", "c"],
        ["nodate", "complaint", "", "5.6", "52.25", ""],
        ["baddate", "complaint", "gisteren", "5.6", "52.25", ""],
        ["feb30", "complaint", "2024-02-30", "5.6", "52.25", ""],
        ["future", "complaint", tomorrow, "5.6", "52.25", ""],
        ["type", "burglary", "2024-05-01", "5.6", "52.25", ""],
        ["nan", "complaint", "2024-05-01", "NaN", "52.25", ""],
        ["text", "complaint", "2024-05-01", "abc", "52.25", ""],
        ["half", "complaint", "2024-05-01", "5.6", "", ""],
        ["empty", "complaint", "2024-05-01", "", "", ""],
        ["swapped", "complaint", "2024-05-01", "52.25", "5.6", ""],
        ["rd-as-wgs", "complaint", "2024-05-01", "180000", "470000", ""],
        ["paris", "complaint", "2024-05-01", "2.35", "48.85", ""],
        ["longname", "complaint", "2024-05-01", "5.6", "52.25", "y" * 5000],
        ["ok", "complaint", "2024-05-02", "5.6", "52.25", "again"],
        ["html", "complaint", "2024-05-01", "5.6", "52.25", "<script>alert(1)</script>"],
    ])
    result = import_signals(store, path, settings=settings)
    assert result.read == 18 and result.read == result.stored + result.rejected
    stored = {r["source_id"]: r for r in signals_in_store(store)}
    assert set(stored) == {"ok", "ok-dutch-date", "html"}
    assert stored["ok-dutch-date"]["date"] == dt.date(2024, 5, 1)
    assert stored["html"]["attributes"]["name"] == "<script>alert(1)</script>"
    r = {x["raw"].get("source_id") or x["raw"]["fields"][0]: (x["field"], x["reason"])
         for x in rejected_rows(store, result.batch_id)}
    assert r["nodate"] == ("date", "date is missing")
    assert r["baddate"] == ("date", "date 'gisteren' is not a date (use YYYY-MM-DD)")
    assert r["feb30"][0] == "date"
    assert r["future"] == ("date", f"date {tomorrow} lies in the future")
    assert r["type"][0] == "type" and "unknown signal type 'burglary'" in r["type"][1]
    assert r["nan"] == ("lon", "lon 'NaN' is not a number")
    assert r["text"] == ("lon", "lon 'abc' is not a number")
    assert r["half"] == ("lat", "lat is missing while lon is given")
    assert r["empty"][0] == "location" and "no location and no park" in r["empty"][1]
    assert "swapped" in r["swapped"][1]
    assert "RD metres" in r["rd-as-wgs"][1]
    assert r["paris"] == ("location", "coordinates lie outside the Netherlands (area of use of EPSG:28992)")
    assert r["longname"] == ("name", "name is longer than 200 characters")
    assert r["ok"][1] == "duplicate id 'ok' in this file (first on row 1)"
    assert r["badline"] == (None, "row has 8 fields where the header has 6; quote values that contain the separator")


def test_non_utf8_rows_are_rejected_with_a_hint_and_cp1252_reads_them(store, settings, tmp_path, two_parks) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "x", "y", "name"], [
        ["a", "2024-01-01", RD_X + 10, RD_Y + 10, "Caf\u00e9 overlast"],
        ["b", "2024-01-01", RD_X + 10, RD_Y + 10, "gewoon"],
    ], encoding="cp1252")
    result = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    assert (result.stored, result.rejected) == (1, 1)
    (rej,) = rejected_rows(store, result.batch_id)
    assert rej["field"] == "name" and "not valid UTF-8" in rej["reason"] and "--encoding cp1252" in rej["reason"]
    assert rej["raw"]["name"] == "Caf\\xe9 overlast"
    fixed = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992",
                           encoding="cp1252", source="fixed")
    assert fixed.stored == 2
    assert any(r["attributes"].get("name") == "Café overlast" for r in signals_in_store(store))


@pytest.mark.parametrize("header, rows, kwargs, message", [
    (["source_id", "x", "y"], [["a", "1", "2"]], {"signal_type": "complaint", "crs": "EPSG:28992"},
     "missing required column 'date'"),
    (["source_id", "date", "x", "y"], [["a", "2024-01-01", "1", "2"]], {"signal_type": "complaint"},
     "need the coordinate system"),
    (["source_id", "date", "lon", "lat"], [["a", "2024-01-01", "5", "52"]], {}, "no signal type"),
])
def test_file_level_problems_are_refused(store, settings, tmp_path, header, rows, kwargs, message) -> None:
    path = write_csv(tmp_path / "s.csv", header, rows)
    with pytest.raises(FileRefused, match=message):
        import_signals(store, path, settings=settings, **kwargs)
    assert store.count(schema.signals) == 0


def test_empty_and_header_only_files(store, settings, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileRefused, match="is empty"):
        import_signals(store, empty, settings=settings, signal_type="complaint")
    header_only = write_csv(tmp_path / "h.csv", ["source_id", "date", "lon", "lat"], [])
    result = import_signals(store, header_only, settings=settings, signal_type="complaint")
    assert (result.read, result.stored) == (0, 0)


def test_wkt_and_semicolon_csv(store, settings, tmp_path, two_parks) -> None:
    path = write_csv(tmp_path / "s.csv", ["id", "date", "wkt"], [
        ["w1", "2024-01-01", f"POINT ({RD_X + 20} {RD_Y + 20})"],
        ["w2", "2024-01-01", "POINT (oops)"],
        ["w3", "2024-01-01",
         f"POLYGON (({RD_X + 1000} {RD_Y}, {RD_X + 1100} {RD_Y}, {RD_X + 1100} {RD_Y + 100}, {RD_X + 1000} {RD_Y}))"],
    ], sep=";")
    result = import_signals(store, path, settings=settings, signal_type="other", crs="EPSG:28992",
                            mapping={"source_id": "id"})
    assert (result.stored, result.rejected) == (2, 1)
    rows = {r["source_id"]: r for r in signals_in_store(store)}
    assert rows["w1"]["park_id"] == two_parks["A"]
    assert rows["w3"]["park_id"] == two_parks["B"] and "non-point" in rows["w3"]["attributes"]["location_note"]


def test_rows_without_id_get_a_stable_content_id(store, settings, tmp_path, two_parks) -> None:
    path = write_csv(tmp_path / "s.csv", ["date", "x", "y"],
                     [["2024-01-01", RD_X + 1, RD_Y + 1], ["2024-01-02", RD_X + 1, RD_Y + 1]])
    first = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    again = import_signals(store, path, settings=settings, signal_type="complaint", crs="EPSG:28992")
    assert first.stored == 2 and again.unchanged == 2


def test_changed_signal_is_updated_and_the_change_recorded(store, settings, tmp_path, two_parks) -> None:
    rd_csv(tmp_path, [["s1", "2024-01-01", RD_X + 1, RD_Y + 1]])
    import_signals(store, tmp_path / "signals.csv", settings=settings, signal_type="complaint", crs="EPSG:28992")
    rd_csv(tmp_path, [["s1", "2024-01-01", RD_X + 1001, RD_Y + 1]])
    result = import_signals(store, tmp_path / "signals.csv", settings=settings, signal_type="complaint",
                            crs="EPSG:28992")
    assert (result.updated, result.created) == (1, 0)
    assert result.affected_parks == {two_parks["A"], two_parks["B"]}
    with store.connect() as conn:
        (change,) = conn.execute(sa.select(schema.import_changes)).all()
    assert change.changes["park_id"] == [two_parks["A"], two_parks["B"]]
    assert "x" in change.changes


def test_bulk_path_stores_exactly_what_the_ordinary_path_stores(store, settings, tmp_path, two_parks,
                                                                 monkeypatch) -> None:
    """Large loads skip RETURNING and SQLAlchemy's per-row processing; the stored rows must not differ."""
    from service.ingest import signal_writes

    rows = [["s1", "inspection", "2024-03-01", RD_X + 5, RD_Y + 5, "yes", "drugs", "Caf\u00e9 \u20ac"],
            ["s2", "complaint", "2024-03-02", RD_X + 300, RD_Y, "", "", ""],
            ["s3", "complaint", "2024-03-03", RD_X + 9000, RD_Y, "", "", ""]]
    header = ["source_id", "type", "date", "x", "y", "violation", "categories", "remark"]
    path = write_csv(tmp_path / "s.csv", header, rows)
    import_signals(store, path, settings=settings, crs="EPSG:28992", source="ordinary")
    monkeypatch.setattr(signal_writes, "RETURNING_LIMIT", 0)
    import_signals(store, path, settings=settings, crs="EPSG:28992", source="bulk")
    got = {}
    for r in signals_in_store(store):
        key = (r.pop("source"), r["source_id"])
        for k in ("id", "batch_id", "created_at"):
            r.pop(k)
        got[key] = r
    for sid in ("s1", "s2", "s3"):
        assert got[("bulk", sid)] == got[("ordinary", sid)]
    assert got[("bulk", "s1")]["date"] == dt.date(2024, 3, 1)
    assert got[("bulk", "s1")]["attributes"] == {"violation": True, "categories": ["drugs"], "remark": "Café €"}


def test_geopackage_signals_with_polygons_use_a_representative_point(store, settings, tmp_path, two_parks) -> None:
    import geopandas as gpd

    gpkg = tmp_path / "s.gpkg"
    gpd.GeoDataFrame(
        {"source_id": ["g1", "g2"], "date": ["2024-06-01", "2024-06-02"], "subtype": ["hennep", None]},
        geometry=[shapely.Point(RD_X + 10, RD_Y + 10), square(RD_X + 1020, RD_Y + 20, 50)], crs=28992,
    ).to_file(gpkg, layer="meldingen")
    result = import_signals(store, gpkg, settings=settings, signal_type="incident", layer="meldingen")
    assert (result.stored, result.rejected) == (2, 0)
    rows = {r["source_id"]: r for r in signals_in_store(store)}
    assert rows["g1"]["park_id"] == two_parks["A"] and rows["g1"]["subtype"] == "hennep"
    assert rows["g2"]["park_id"] == two_parks["B"] and "non-point" in rows["g2"]["attributes"]["location_note"]


def test_park_ref_shared_by_two_sources_must_name_its_source(store, settings, tmp_path, two_parks) -> None:
    other = write_geojson(tmp_path / "o.geojson", [({"source_id": "A"}, square(RD_X + 3000, RD_Y))],
                          crs="urn:ogc:def:crs:EPSG::28992")
    import_parks(store, other, settings=settings, source="other")
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "park_ref"], [
        ["bare", "2024-01-01", "A"], ["qualified", "2024-01-01", "other:A"], ["unique", "2024-01-01", "B"]])
    result = import_signals(store, path, settings=settings, signal_type="complaint")
    assert (result.stored, result.rejected) == (2, 1)
    (rej,) = rejected_rows(store, result.batch_id)
    assert rej["raw"]["source_id"] == "bare" and rej["reason"] == "park_ref 'A' matches no park"
    rows = {r["source_id"]: r["park_id"] for r in signals_in_store(store)}
    assert rows["unique"] == two_parks["B"] and rows["qualified"] not in two_parks.values()


def test_one_trait_policy_for_signal_columns(store, settings, tmp_path, two_parks) -> None:
    """The import drops exactly the columns the vocabulary's policy names, by whole word."""
    header = ["source_id", "date", "x", "y", "etnische_achtergrond", "migratieachtergrond", "afkomst",
              "trace_id", "grace_period"]
    path = rd_csv(tmp_path, [["t1", "2024-01-01", RD_X + 10, RD_Y + 10, "a", "b", "c", "tr-1", "30"]], header)
    result = import_signals(store, path, settings=settings, signal_type="complaint", source="t", crs="EPSG:28992")
    assert result.stored == 1
    assert sorted(result.ignored_columns) == ["afkomst", "etnische_achtergrond", "migratieachtergrond"]
    attrs = signals_in_store(store)[0]["attributes"]
    assert set(attrs) == {"trace_id", "grace_period"}

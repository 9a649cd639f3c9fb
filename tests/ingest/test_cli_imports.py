"""``parkwacht import``: areas, --snapshot, --allow-large, progress only for people, stale batches shown."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import shapely

from service.cli import imports
from service.store import schema
from tests.helpers import square, write_csv, write_geojson

RD_X, RD_Y = 180_000, 470_000
RD = "urn:ogc:def:crs:EPSG::28992"


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_import_areas_then_parks_get_their_municipality(run, tmp_path) -> None:
    areas = write_geojson(tmp_path / "gm.geojson", [({"statcode": "GM0273", "statnaam": "Putten"},
                                                     shapely.box(RD_X - 900, RD_Y - 900, RD_X + 900, RD_Y + 900))],
                          crs=RD)
    out = run("import", "areas", str(areas), "--level", "municipality", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["stored"] == 1
    out = run("import", "areas", str(areas), "--level", "gemeente")
    assert out.exit_code == 2 and "municipality" in out.output and "Traceback" not in out.output
    parks = write_geojson(tmp_path / "p.geojson", [({"source_id": "a"}, square(RD_X, RD_Y)),
                                                   ({"source_id": "nl"}, shapely.box(13_000, 306_000, 278_000,
                                                                                     619_000))], crs=RD)
    out = run("import", "parks", str(parks), "--json")
    assert json.loads(out.stdout)["rejected"] == 1  # the country-sized one
    out = run("import", "parks", str(parks), "--allow-large", "--json")
    assert json.loads(out.stdout)["created"] == 1


def test_snapshot_reports_what_it_retired(run, tmp_path) -> None:
    header = ["source_id", "date", "x", "y"]
    run("import", "signals", str(write_csv(tmp_path / "a.csv", header, [["1", "2024-01-01", RD_X, RD_Y],
                                                                       ["2", "2024-01-01", RD_X, RD_Y]])),
        "--type", "complaint", "--crs", "EPSG:28992", "--source", "feed")
    out = run("import", "signals", str(write_csv(tmp_path / "b.csv", header, [["1", "2024-01-01", RD_X, RD_Y]])),
              "--type", "complaint", "--crs", "EPSG:28992", "--source", "feed", "--snapshot")
    assert out.exit_code == 0, out.output
    assert "snapshot: retired 1" in out.output and "stages (s): read" in out.output
    listed = run("import", "batches")
    assert "retired 1 revived 0" in listed.output


def test_unknown_type_is_one_line_naming_the_types(run, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "date", "lon", "lat"], [["1", "2024-01-01", "5.6", "52.2"]])
    out = run("import", "signals", str(path), "--type", "complain")
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.output.strip().splitlines() == [
        "Error: unknown signal type 'complain'; known: permit, ownership_change, inspection, registration, "
        "complaint, incident, bibob, energy_anomaly, other"]


def test_progress_is_for_a_terminal_and_never_with_json(monkeypatch, capsys) -> None:
    monkeypatch.setattr(imports.sys.stderr, "isatty", lambda: True, raising=False)
    assert imports._progress(as_json=True) is None
    progress = imports._progress(as_json=False)
    assert progress is not None
    progress(250_000, 1_000_000)
    progress.done()
    err = capsys.readouterr().err
    assert "250,000 rows of ~1,000,000" in err and "rows/s" in err and "s left" in err


def test_import_batches_records_a_killed_import_as_failed(run, store) -> None:
    with store.begin() as conn:
        conn.execute(schema.import_batches.insert().values(
            kind="signals", source="feed", status="running", pid=1, host="elsewhere",
            heartbeat_at=dt.datetime(2020, 1, 1)))
    out = run("import", "batches")
    assert out.exit_code == 0 and "failed" in out.output and "stopped without finishing" in out.output

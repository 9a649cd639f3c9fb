"""The parkwacht command: imports with --json, rejected rows, and errors without stack traces."""
from __future__ import annotations

import json

import pytest

from service.cli import main
from tests.helpers import square, write_csv, write_geojson


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def test_db_upgrade_and_current(run) -> None:
    assert "revision" in run("db", "upgrade").output
    assert run("db", "current").output.strip() == "0001" or run("db", "current").output.strip().startswith("000")


def test_import_parks_json_and_rejected(run, tmp_path) -> None:
    path = write_geojson(tmp_path / "p.geojson", [({"source_id": "a"}, square(180_000, 470_000)),
                                                 ({"source_id": "b"}, None)], crs="urn:ogc:def:crs:EPSG::28992")
    out = run("import", "parks", str(path), "--json")
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)  # re-scoring news goes to stderr, the JSON alone to stdout
    assert (result["read"], result["stored"], result["rejected"]) == (2, 1, 1)
    listed = run("import", "rejected", str(result["batch_id"]))
    assert "row 2: [geometry] row has no geometry" in listed.output
    as_json = json.loads(run("import", "rejected", str(result["batch_id"]), "--json").stdout)
    assert as_json["rejected"][0]["row_number"] == 2


def test_import_signals_text_report(run, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["id", "date", "lon", "lat"], [["1", "2024-01-01", "5.6", "52.2"]])
    out = run("import", "signals", str(path), "--type", "complaint", "--map", "source_id=id")
    assert out.exit_code == 0, out.output
    assert "read 1, stored 1" in out.output and "unassigned 1" in out.output


def test_errors_are_messages_not_tracebacks(run, tmp_path) -> None:
    bad = tmp_path / "x.geojson"
    bad.write_text("nonsense")
    out = run("import", "parks", str(bad))
    assert out.exit_code == 1
    assert "not a readable geodata file" in out.output and "Traceback" not in out.output
    out = run("import", "parks", str(bad), "--preset", "nope")
    assert out.exit_code == 1 and "unknown parks preset 'nope'" in out.output
    out = run("import", "rejected", "12345")
    assert out.exit_code == 1 and "no import batch 12345" in out.output


def test_console_script_is_a_flask_group() -> None:
    assert main.name == "parkwacht"

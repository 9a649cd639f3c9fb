"""Privacy by design: small person counts suppressed for non-admins, personal traits never stored."""
from __future__ import annotations

import json

import sqlalchemy as sa

from service import audit
from service.ingest import import_signals
from service.privacy import SUPPRESSED, drop_personal_traits, suppress_count
from service.store import schema
from tests.helpers import write_csv


def test_suppress_count() -> None:
    for role in ("officer", "analyst", None):
        assert [suppress_count(n, role) for n in (0, 1, 4, 5, 12, None, -3)] == \
            [0, SUPPRESSED, SUPPRESSED, 5, 12, None, SUPPRESSED]
    assert [suppress_count(n, "admin") for n in (1, 4)] == [1, 4]
    assert SUPPRESSED == "< 5"


def test_drop_personal_traits_at_any_depth() -> None:
    value = {"a": 1, "Nationaliteit": "x", "nested": [{"religion": "y", "b": 2}], "countryOfBirth": "z"}
    assert drop_personal_traits(value) == {"a": 1, "nested": [{"b": 2}]}


def test_rejected_rows_of_a_file_keep_no_trait_columns(store, settings, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "type", "date", "lon", "lat", "nationality", "geboorteland",
                                          "religie", "team"],
                     [["a", "complaint", "2999-01-01", "5.8", "52.2", "NL", "Syrië", "x", "west"],
                      ["b", "complaint", "2024-01-01", "5.8", "52.2", "NL", "Syrië", "x", "west", "extra"]])
    result = import_signals(store, path, settings=settings)
    assert result.rejected == 2
    with store.connect() as conn:
        r = schema.rejected_rows
        raws = conn.execute(sa.select(r.c.raw).order_by(r.c.row_number)).scalars().all()
        stored = json.dumps(conn.execute(sa.select(schema.signals.c.attributes)).scalars().all())
    text = json.dumps(raws)
    for word in ("nationality", "geboorteland", "religie", "Syri"):
        assert word not in text and word not in stored
    assert raws[0]["team"] == "west" and "not kept" in raws[1]["fields"]


def test_health_checks_are_public_and_say_nothing(app) -> None:
    anon = app.test_client(token=None)
    assert anon.get("/healthz").get_json() == {"status": "ok"}
    assert anon.get("/readyz").get_json() == {"status": "ok"}


def test_command_line_imports_are_audited(app, store, tmp_path) -> None:
    path = write_csv(tmp_path / "s.csv", ["source_id", "type", "date", "lon", "lat"],
                     [["a", "complaint", "2024-01-01", "5.8", "52.2"]])
    out = app.test_cli_runner().invoke(args=["import", "signals", str(path), "--json"])
    assert out.exit_code == 0, out.output
    (row,) = audit.entries(store, action="import")[1]
    assert row["target"] == "import signals" and row["user_name"].startswith("cli:") and row["role"] == "admin"
    assert row["detail"]["outcome"] == "done" and any(str(v).endswith("s.csv") for v in row["detail"].values())

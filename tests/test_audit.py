"""The audit trail: rows for looks and changes, filters and exports, and a store that refuses edits."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from service import audit
from service.store import schema
from tests.signin import add_user, bearer


def test_record_and_filter(store) -> None:
    anna = audit.Actor("anna", "officer", user_id=3, client="10.0.0.1")
    audit.record(store, anna, "park.view", "park:1", status=200)
    audit.record(store, anna, "export", "worklist.csv")
    audit.record(store, audit.Actor("bert", "admin"), "login.success", "user:bert")
    total, rows = audit.entries(store)
    assert total == 3 and rows[0]["action"] == "login.success"  # newest first
    assert audit.entries(store, user="anna")[0] == 2
    assert audit.entries(store, action="park")[1][0]["target"] == "park:1"
    assert audit.entries(store, target="worklist.csv")[0] == 1
    today = dt.date.today()
    assert audit.entries(store, since=today, until=today)[0] == 3
    assert audit.entries(store, since=today + dt.timedelta(days=1))[0] == 0
    first = audit.entries(store, action="park.view")[1][0]
    assert (first["user_name"], first["role"], first["client"], first["detail"]) == ("anna", "officer", "10.0.0.1",
                                                                                     {"status": 200})


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_store_refuses_to_change_audit_rows(store, statement) -> None:
    audit.record(store, None, "login.failure", "user:x")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with store.begin() as conn:
            conn.execute(sa.text(statement))
    assert store.count(schema.audit_log) == 1


def test_no_route_can_change_the_audit_log(app) -> None:
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}, rule.rule


def test_exports_are_spreadsheet_safe_csv_or_json_lines(store) -> None:
    audit.record(store, audit.Actor("=cmd|' /C calc'!A0", "officer"), "park.view", "park:1", note="a;b")
    rows = list(csv.reader(io.StringIO("".join(audit.export_lines(store, "csv")))))
    assert rows[0] == list(audit.EXPORT_FIELDS) and rows[1][2].startswith("'=")
    (line,) = list(audit.export_lines(store, "json"))
    assert json.loads(line)["target"] == "park:1"


def test_park_pages_and_api_details_are_audited_with_user_role_and_address(client, app, store) -> None:
    officer = app.test_client(token=add_user(store, "officer", name="olga")[1])
    assert officer.get("/parks/424242").status_code == 404
    assert client.get("/api/v1/parks/424242").status_code == 404
    rows = {r["action"]: r for r in audit.entries(store)[1]}
    view = rows["park.view"]
    assert (view["user_name"], view["role"], view["target"], view["client"]) == ("olga", "officer", "park:424242",
                                                                                 "127.0.0.1")
    assert view["detail"]["status"] == 404
    assert rows["park.api_view"]["target"] == "park:424242" and rows["park.api_view"]["role"] == "admin"


def test_a_refused_look_is_not_recorded_as_a_look(app, store) -> None:
    analyst = app.test_client(token=add_user(store, "analyst")[1])
    assert analyst.get("/parks/1").status_code == 403
    assert audit.entries(store, action="park.view")[0] == 0


def test_the_admin_page_filters_and_is_admin_only(client, app, store) -> None:
    audit.record(store, audit.Actor("anna", "officer"), "park.view", "park:7")
    audit.record(store, audit.Actor("bert", "officer"), "park.view", "park:8")
    html = client.get("/admin/audit?user=anna&action=park.view").get_data(as_text=True)
    assert "park:7" in html and "park:8" not in html
    bad = client.get("/admin/audit?since=gisteren").get_data(as_text=True)
    assert "geen datum" in bad
    assert audit.entries(store, action="audit.view")[0] == 2
    officer = app.test_client(token=add_user(store, "officer")[1])
    assert officer.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit", headers=bearer(add_user(store, "analyst")[1])).status_code == 403

"""``parkwacht users``, ``audit export`` and ``purge``: secrets shown once, never listed; everything audited."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
import sqlalchemy as sa

from service import audit
from service.auth import tokens, users
from service.store import schema


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input)

    return invoke


def test_add_prints_a_token_once_and_list_never_shows_it(run, store) -> None:
    out = run("users", "add", "putten-feed", "--role", "analyst", "--source", "gemeente-putten")
    assert out.exit_code == 0, out.output
    token = re.search(r"pwk_\S+", out.output).group(0)
    principal = tokens.resolve_token(store, token)
    assert principal.role == "analyst" and principal.sources == ("gemeente-putten",)
    listing = run("users", "list").output + run("users", "list", "--json").output + run("users", "tokens",
                                                                                          "putten-feed").output
    assert "putten-feed" in listing and token not in listing and "argon2" not in listing
    assert token[:12] in listing  # the prefix tells tokens apart
    actions = [r["action"] for r in audit.entries(store)[1]]
    assert "user.add" in actions and "token.issue" in actions
    assert audit.entries(store, action="user.add")[1][0]["user_name"].startswith("cli:")


def test_passwords_from_stdin_or_generated(run, store) -> None:
    assert run("users", "add", "anna", "--role", "officer", "--password-stdin", "--no-token",
               input="a long password here\n").exit_code == 0
    assert users.authenticate(store, "anna", "a long password here") is not None
    out = run("users", "add", "root", "--role", "admin", "--generate-password")
    password = re.search(r"password: (\S+)", out.output).group(1)
    assert users.authenticate(store, "root", password) is not None and "pwk_" in out.output
    again = run("users", "add", "root", "--role", "admin", "--generate-password", "--if-absent")
    assert again.exit_code == 0 and "exists already" in again.output and not re.search(r"^password:", again.output,
                                                                                        re.M)
    short = run("users", "add", "bert", "--role", "officer", "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    changed = run("users", "password", "anna", "--generate-password")
    assert changed.exit_code == 0 and users.authenticate(store, "anna", "a long password here") is None


def test_token_and_revoke(run, store) -> None:
    run("users", "add", "feed", "--role", "analyst", "--no-token")
    token = re.search(r"pwk_\S+", run("users", "token", "feed", "--expires-days", "30").output).group(0)
    assert tokens.resolve_token(store, token) is not None
    out = run("users", "revoke", "feed")
    assert out.exit_code == 0 and "revoked 1" in out.output and tokens.resolve_token(store, token) is None
    assert run("users", "revoke", "nobody").exit_code != 0
    assert run("users", "disable", "feed").exit_code == 0 and not users.get_user(store, "feed").active


def test_audit_export_csv_and_json(run, store, tmp_path) -> None:
    audit.record(store, audit.Actor("anna", "officer", client="10.0.0.9"), "park.view", "park:3")
    out = run("audit", "export", "--since", dt.date.today().isoformat(), "--action", "park.view")
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows[0][:3] == ["id", "at", "user_name"] and rows[1][2] == "anna" and rows[1][7] == "10.0.0.9"
    target = tmp_path / "audit.jsonl"
    assert run("audit", "export", "--since", "2000-01-01", "--format", "json", "--action", "park",
               "--output", str(target)).exit_code == 0
    assert [json.loads(line)["target"] for line in target.read_text().splitlines()] == ["park:3"]
    assert audit.entries(store, action="audit.export")[0] == 2
    assert run("audit", "export", "--since", "yesterday").exit_code != 0


def _signal(conn, sid: str, date: dt.date) -> None:
    conn.execute(schema.signals.insert().values(source="t", source_id=sid, type="complaint", date=date,
                                                assignment="unassigned", row_hash="x"))


def test_purge_removes_old_signals_and_rejected_rows_counted_and_audited(run, store) -> None:
    today = dt.date.today()
    with store.begin() as conn:
        _signal(conn, "old", today.replace(year=today.year - 9))
        _signal(conn, "new", today - dt.timedelta(days=10))
        batch = conn.execute(schema.import_batches.insert().values(
            kind="signals", source="t", status="done", started_at=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
            .returning(schema.import_batches.c.id)).scalar_one()
        conn.execute(schema.rejected_rows.insert().values(batch_id=batch, row_number=1, reason="x", raw={"a": 1}))
    dry = run("purge", "--older-than", "5", "--dry-run", "--json")
    assert json.loads(dry.output) | {"cutoff": None} == {"cutoff": None, "older_than_years": 5, "dry_run": True,
                                                         "signals": 1, "import_changes": 0, "rejected_rows": 1}
    assert store.count(schema.signals) == 2
    out = run("purge", "--older-than", "5")
    assert out.exit_code == 0 and "removed 1 signal(s)" in out.output
    with store.connect() as conn:
        assert conn.execute(sa.select(schema.signals.c.source_id)).scalars().all() == ["new"]
    assert store.count(schema.rejected_rows) == 0
    assert [r["detail"]["dry_run"] for r in audit.entries(store, action="purge")[1]] == [False, True]
    refused = run("purge", "--older-than", "1")
    assert refused.exit_code != 0 and "looks back" in refused.output

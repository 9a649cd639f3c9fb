"""Users and tokens in the store: hashes only, roles checked, every change audited with it."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from service import audit
from service.auth import passwords, tokens, users
from service.store import schema

PASSWORD = "correct horse battery"


def test_a_user_gets_a_hashed_password_and_the_change_is_audited(store) -> None:
    actor = audit.Actor("cli:tester", "admin", client="cli")
    user = users.add_user(store, "anna", "officer", password=PASSWORD, actor=actor)
    assert user.role == "officer" and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    total, rows = audit.entries(store, action="user.add")
    assert total == 1 and rows[0]["target"] == "user:anna" and rows[0]["user_name"] == "cli:tester"


@pytest.mark.parametrize("name, role, password, message", [
    ("Anna Smit", "officer", None, "not a user name"),
    ("anna", "superuser", None, "unknown role"),
    ("anna", "officer", "short", "at least 12"),
    ("anna", "officer", "aaaaaaaaaaaaaa", "more than three"),
])
def test_bad_users_are_refused(store, name, role, password, message) -> None:
    with pytest.raises(users.UserError, match=message):
        users.add_user(store, name, role, password=password)


def test_names_are_unique(store) -> None:
    users.add_user(store, "anna", "officer")
    with pytest.raises(users.UserError, match="exists already"):
        users.add_user(store, "anna", "analyst")


def test_authenticate(store) -> None:
    users.add_user(store, "anna", "officer", password=PASSWORD)
    assert users.authenticate(store, "anna", PASSWORD).name == "anna"
    assert users.authenticate(store, "anna", "wrong password!") is None
    assert users.authenticate(store, "nobody", PASSWORD) is None
    assert users.authenticate(store, "../etc", PASSWORD) is None
    users.set_active(store, "anna", False)
    assert users.authenticate(store, "anna", PASSWORD) is None


def test_a_new_password_or_disabling_ends_sessions(store) -> None:
    first = users.add_user(store, "anna", "officer", password=PASSWORD)
    users.set_password(store, "anna", "another long password")
    second = users.get_user(store, "anna")
    assert second.session_version > first.session_version
    assert users.authenticate(store, "anna", "another long password") is not None


def test_tokens_are_stored_as_hashes_and_resolve_to_their_user(store) -> None:
    users.add_user(store, "feed", "analyst")
    token = tokens.issue_token(store, "feed", sources=["gemeente-putten"])
    assert token.startswith("pwk_") and len(token) == 47
    with store.connect() as conn:
        stored = conn.execute(sa.select(schema.api_tokens)).one()
    assert stored.token_hash == tokens.token_hash(token) and token not in str(stored._mapping)
    p = tokens.resolve_token(store, token)
    assert (p.name, p.role, p.via, p.sources) == ("feed", "analyst", "token", ("gemeente-putten",))
    assert p.may_write("gemeente-putten") and not p.may_write("demo")
    assert tokens.resolve_token(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert tokens.resolve_token(store, "not a token") is None


def test_admin_tokens_write_any_source(store) -> None:
    users.add_user(store, "root", "admin")
    p = tokens.resolve_token(store, tokens.issue_token(store, "root"))
    assert p.sources is None and p.may_write("anything")


def test_revoked_expired_and_disabled_tokens_stop_working(store) -> None:
    users.add_user(store, "feed", "analyst")
    a = tokens.issue_token(store, "feed")
    b = tokens.issue_token(store, "feed", expires_days=1)
    assert tokens.resolve_token(store, b) is not None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert tokens.resolve_token(store, b, now=later) is None
    assert tokens.revoke_tokens(store, "feed", prefix=a[:12]) == 1
    assert tokens.resolve_token(store, a) is None and tokens.resolve_token(store, b) is not None
    users.set_active(store, "feed", False)
    assert tokens.resolve_token(store, b) is None
    actions = [r["action"] for r in audit.entries(store)[1]]
    assert actions.count("token.issue") == 2 and "token.revoke" in actions and "user.disable" in actions


def test_the_visit_source_is_never_a_tokens(store) -> None:
    users.add_user(store, "feed", "analyst")
    with pytest.raises(users.UserError, match="visits"):
        tokens.issue_token(store, "feed", sources=["bezoek"])
    with pytest.raises(users.UserError, match="not a source name"):
        tokens.issue_token(store, "feed", sources=["a b"])


def test_listing_users_shows_no_secrets(store) -> None:
    users.add_user(store, "anna", "officer", password=PASSWORD)
    tokens.issue_token(store, "anna")
    (row,) = users.list_users(store)
    assert row["tokens"] == 1 and row["password"] is True
    assert not any("argon2" in str(v) or "pwk_" in str(v) for v in row.values())
    assert all("pwk_" not in str(t) or len(str(t["prefix"])) == 12 for t in tokens.list_tokens(store, "anna"))


def test_password_helpers() -> None:
    h = passwords.hash_password(PASSWORD)
    assert passwords.verify_password(h, PASSWORD) and not passwords.verify_password(h, PASSWORD + "x")
    assert not passwords.verify_password(None, PASSWORD) and not passwords.verify_password("garbage", PASSWORD)
    assert len(passwords.random_password()) >= 20

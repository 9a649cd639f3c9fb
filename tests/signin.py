"""Signing test clients in: users with tokens, bearer headers, and a test client that carries a token.

Every route needs a login (``service.auth.guard``), so the shared fixtures hand out signed-in clients:
``client`` is an admin, ``demo_client`` an officer, and ``app.test_client(token=None)`` is anonymous.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.auth import tokens, users
from service.auth.sessions import session_values
from service.store import Store

__all__ = ["add_user", "bearer", "TokenClient", "sign_in", "signed_in", "race_in_step", "TEST_LIMITS"]

#: Rate limits high enough that no ordinary test meets them (the rate-limit tests set their own).
TEST_LIMITS = {"rate_limit_token": "100000 per minute", "rate_limit_auth_failures": "100000 per minute",
               "rate_limit_login": "1000 per minute"}
_serial = itertools.count(1)


def add_user(store: Store, role: str, *, name: str | None = None, sources: Sequence[str] = (),
             password: str | None = None) -> tuple[users.User, str]:
    """A fresh user with ``role`` and one bearer token (returned in plain text)."""
    user = users.add_user(store, name or f"test-{role}-{next(_serial)}", role, password=password)
    return user, tokens.issue_token(store, user.name, sources=sources)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TokenClient(FlaskClient):
    """A test client that sends the app's default test token (``app.config["TEST_TOKEN"]``) unless told
    otherwise: ``app.test_client(token=None)`` is anonymous, ``token="pwk_..."`` another user."""

    def __init__(self, *args: Any, token: str | None | type[Ellipsis] = Ellipsis, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = self.application.config.get("TEST_TOKEN") if token is Ellipsis else token
        if chosen:
            self.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {chosen}"


def sign_in(client: FlaskClient, user: users.User) -> FlaskClient:
    """Give ``client`` a web session of ``user``, as a login would (no password needed)."""
    with client.session_transaction() as session:
        session.update(session_values(user))
        session.permanent = True
    return client


def signed_in(app: Flask, role: str = "officer") -> Flask:
    """``app`` whose test clients send the token of a fresh ``role`` user (for tests that build their own app)."""
    from service.app import runtime

    _user, token = add_user(runtime(app).store, role)
    app.config.update(TESTING=True, TEST_TOKEN=token)
    app.test_client_class = TokenClient
    return app


def race_in_step(monkeypatch, n: int = 2) -> None:
    """Make the next ``n`` signal imports start their batch together, so each reads "nothing stored yet"
    before any of them writes (the race of two posts of the same new ids)."""
    import threading

    import service.ingest.signals as signals_module

    barrier = threading.Barrier(n, timeout=10)
    original = signals_module.run_batch
    calls = {"n": 0}

    def run_batch(store, kind, source, filename, preset, options, body):
        calls["n"] += 1
        if calls["n"] > n:
            return original(store, kind, source, filename, preset, options, body)

        def together(conn, result):
            barrier.wait()
            return body(conn, result)

        return original(store, kind, source, filename, preset, options, together)

    monkeypatch.setattr(signals_module, "run_batch", run_batch)

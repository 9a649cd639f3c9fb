"""Fixtures of the OGC API tests: the scored demo region (with the web tests' hostile park names), an
analyst's token, a test client and a real server on loopback for clients nobody here wrote.

Every request carries an analyst's bearer token; :func:`analyst_token` is the one place that makes one.
"""
from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from service.app import create_app, runtime
from service.config import PROJECT_ROOT, Settings
from service.store import Store
from tests.conftest import copy_store
from tests.web.conftest import web_demo_db  # noqa: F401  (the scored demo region, shared with the web tests)


def analyst_token(store: Store, name: str = "analist") -> str:
    """A bearer token of a new analyst called ``name``."""
    from service.auth.tokens import issue_token
    from service.auth.users import add_user

    add_user(store, name, "analyst")
    return issue_token(store, name)


@dataclass
class Server:
    """A Parkwacht serving on loopback: its ``/ogc`` URL, the analyst's headers and its store's URL."""

    url: str
    headers: dict[str, str]
    database_url: str

    @property
    def token(self) -> str:
        return self.headers["Authorization"].removeprefix("Bearer ")


def _app(settings: Settings) -> Flask:
    application = create_app(settings)
    application.config.update(TESTING=True)
    return application


def _analyst_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {analyst_token(runtime(app).store)}"
    return client


@pytest.fixture(scope="module")
def ogc_app(web_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:  # noqa: F811
    """The app over a copy of the scored demo shared by a module's tests, which only read it."""
    application = _app(copy_store(web_demo_db, tmp_path_factory.mktemp("ogc")))
    yield application
    runtime(application).store.dispose()


@pytest.fixture(scope="module")
def ogc(ogc_app: Flask) -> FlaskClient:
    """An analyst's test client of :func:`ogc_app`."""
    return _analyst_client(ogc_app)


@pytest.fixture
def private_ogc(web_demo_db: Path, tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient]]:  # noqa: F811
    """An app over a copy of its own, for a test that writes to the store, and an analyst's client of it."""
    application = _app(copy_store(web_demo_db, tmp_path / "ogc"))
    yield application, _analyst_client(application)
    runtime(application).store.dispose()


def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port, threaded) while the caller runs; yields the base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def server(web_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # noqa: F811
    """Parkwacht on loopback, in a process of its own, against a private copy of the scored demo store."""
    settings = copy_store(web_demo_db, tmp_path_factory.mktemp("ogc-server"))
    store = Store(settings.database_url)
    token = analyst_token(store)
    store.dispose()
    proc = subprocess.Popen([sys.executable, "-m", "tests.ogc.serve", settings.database_url], cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(proc.stdout.readline()) if proc.stdout else 0
        yield Server(f"http://127.0.0.1:{port}/ogc", {"Authorization": f"Bearer {token}"}, settings.database_url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

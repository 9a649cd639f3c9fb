"""Errors are answered once, app-wide: problem+json under /api (one title per status), HTML elsewhere."""
from __future__ import annotations

import pytest
from flask import Flask


def _boom_app(app: Flask) -> Flask:
    """Add routes that fail unexpectedly (registered before the first request, as Flask requires)."""

    @app.get("/api/v1/_boom")
    def _api_boom() -> str:
        raise RuntimeError("secret internals: SELECT * FROM parks")

    @app.get("/_boom")
    def _page_boom() -> str:
        raise RuntimeError("secret internals: SELECT * FROM parks")

    return app


@pytest.mark.parametrize(("method", "path", "status", "title"), [
    ("get", "/api/v1/signals", 405, "Method Not Allowed"),
    ("delete", "/api/v1/parks", 405, "Method Not Allowed"),
    ("get", "/api/v1/nothing-here", 404, "Not Found"),
    ("get", "/api/v1/parks/424242", 404, "Not Found"),
    ("get", "/api/v1/imports/424242/rejected", 404, "Not Found"),
    ("get", "/api/v1/parks?limit=many", 400, "Bad Request"),
    ("post", "/api/v1/signals", 415, "Unsupported Media Type"),
])
def test_api_errors_are_problem_json(client, method, path, status, title) -> None:
    resp = getattr(client, method)(path)
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status and body["title"] == title and body["detail"]
    if status == 405:
        assert "GET" in resp.headers["Allow"] or "POST" in resp.headers["Allow"]


def test_a_too_large_body_is_413_problem(app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    resp = app.test_client().post("/api/v1/signals", data="x" * 5000, content_type="application/json")
    assert resp.status_code == 413 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["title"] == "Request Entity Too Large"


def test_an_unexpected_error_is_a_plain_500_without_internals(app) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    client = _boom_app(app).test_client()
    api = client.get("/api/v1/_boom")
    assert api.status_code == 500 and api.mimetype == "application/problem+json"
    assert api.get_json()["title"] == "Internal Server Error"
    assert "SELECT" not in api.get_data(as_text=True)
    page = client.get("/_boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "SELECT" not in page.get_data(as_text=True) and "Traceback" not in page.get_data(as_text=True)


def test_pages_get_the_html_error_page(client) -> None:
    missing = client.get("/parks/424242")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Niet gevonden" in missing.get_data(as_text=True)
    wrong = client.delete("/worklist")
    assert wrong.status_code == 405 and wrong.mimetype == "text/html"

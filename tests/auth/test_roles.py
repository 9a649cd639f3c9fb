"""Every registered route, tried with every role and without credentials, answers as the role table says.

A route without a declared role fails here; a declared one must give: no credentials -> 401 problem+json
(API, /ogc) or a redirect to the login (pages); a role that may not -> 403; a role that may -> anything but
401, 403 or the login redirect (a 400 for an empty form is fine: the guard let it through).
"""
from __future__ import annotations

import re

import pytest

from service.access import PUBLIC, SIGNED_IN, required_role, undeclared_routes
from service.auth.guard import allowed
from tests.signin import add_user, sign_in

ROLES = ("officer", "analyst", "admin")
#: The role table of the README, for the routes it names (every other route is checked against its declaration).
ROLE_TABLE = {
    ("GET", "/"): "officer", ("GET", "/parks/<int:park_id>"): "officer",
    ("POST", "/parks/<int:park_id>/visits"): "officer", ("GET", "/worklist"): "officer",
    ("GET", "/worklist.csv"): "officer", ("GET", "/model"): SIGNED_IN, ("POST", "/logout"): SIGNED_IN,
    ("GET", "/login"): PUBLIC, ("POST", "/login"): PUBLIC, ("GET", "/healthz"): PUBLIC, ("GET", "/readyz"): PUBLIC,
    ("GET", "/imports"): "admin", ("GET", "/admin/audit"): "admin",
    ("GET", "/api/v1/parks"): "analyst", ("GET", "/api/v1/parks/<int:park_id>"): "analyst",
    ("GET", "/api/v1/model"): "analyst", ("POST", "/api/v1/signals"): "analyst",
    ("GET", "/api/v1/imports"): "admin", ("GET", "/api/v1/imports/<int:batch_id>/rejected"): "admin",
}
_SAMPLE = {"int": "1", "default": "parks", "path": "x"}
_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _url(rule: str) -> str:
    return _ARG.sub(lambda m: _SAMPLE.get(m.group(1) or "default", "parks"), rule)


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield method, rule


def _api(path: str) -> bool:
    return path.startswith(("/api/", "/ogc"))


def _denied(resp, path: str) -> str | None:
    """How the guard turned the request away (None: it let it through)."""
    if resp.status_code == 401:
        return "401"
    if resp.status_code == 403:
        return "403"
    login = "/login" in resp.headers.get("Location", "") and not path.startswith("/login")
    if resp.status_code in (302, 303) and login:
        return "login"
    return None


def test_no_route_lacks_a_role(app) -> None:
    assert undeclared_routes(app) == []


def test_the_role_table_matches_the_declarations(app) -> None:
    declared = {(m, r.rule): required_role(app.view_functions[r.endpoint]) for m, r in _routes(app)}
    for key, role in ROLE_TABLE.items():
        assert declared.get(key) == role, f"{key}: the README says {role}, the route declares {declared.get(key)}"


@pytest.fixture
def clients(app, store):
    """An anonymous client and one bearer-token client per role."""
    out = {"anonymous": app.test_client(token=None)}
    for role in ROLES:
        out[role] = app.test_client(token=add_user(store, role)[1])
    return out


def test_every_route_with_every_role(app, clients) -> None:
    problems = []
    walked = list(_routes(app))
    assert len(walked) >= len(ROLE_TABLE)
    for method, rule in walked:
        role = required_role(app.view_functions[rule.endpoint])
        path = _url(rule.rule)
        for who, client in clients.items():
            resp = client.open(path, method=method, headers={"Accept": "application/json"})
            got = _denied(resp, path)
            if role == PUBLIC:
                want = None
            elif who == "anonymous":
                want = "401" if _api(path) else "login"
            else:
                want = None if allowed(role, who) else "403"
            if got != want:
                problems.append(f"{method} {path} as {who}: expected {want or 'through'}, got {resp.status_code}")
            if got == "401":
                assert resp.mimetype == "application/problem+json" and "Bearer" in resp.headers["WWW-Authenticate"]
    assert problems == []


def test_sessions_read_the_api_but_change_nothing_through_it(app, store) -> None:
    analyst = app.test_client(token=None)
    sign_in(analyst, add_user(store, "analyst")[0])
    assert analyst.get("/api/v1/model").status_code == 200
    resp = analyst.post("/api/v1/signals", json=[{"type": "other", "date": "2024-01-01"}])
    assert resp.status_code == 401 and "bearer token" in resp.get_json()["detail"]
    officer = app.test_client(token=None)
    sign_in(officer, add_user(store, "officer")[0])
    assert officer.get("/worklist").status_code == 200
    assert officer.get("/api/v1/model").status_code == 403  # officers do not read the API
    assert officer.get("/admin/audit").status_code == 403


def test_a_bad_token_is_401_and_a_page_without_login_redirects(app) -> None:
    client = app.test_client(token="pwk_" + "x" * 43)
    resp = client.get("/api/v1/model")
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    anon = app.test_client(token=None)
    resp = anon.get("/worklist?municipality=GM0200")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    assert "worklist" in resp.headers["Location"]
    assert anon.get("/healthz").status_code == 200 and anon.get("/login").status_code == 200
    assert anon.get("/static/app.css").status_code == 200

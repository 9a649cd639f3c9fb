"""Web login: cookie flags, one message for any wrong login, safe redirects, logout everywhere, idle and
absolute timeouts, and rate limits that answer 429 with Retry-After."""
from __future__ import annotations

import re
import time
from urllib.parse import unquote

import pytest

from service import audit
from service.app import create_app, runtime
from service.auth import users
from service.auth.views import safe_next
from tests.signin import add_user, bearer

PASSWORD = "a long officer password"


def _csrf(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(client, name: str, password: str = PASSWORD, next_: str = ""):
    return client.post("/login", data={"csrf_token": _csrf(client), "name": name, "password": password,
                                       "next": next_})


@pytest.fixture
def officer(store):
    return users.add_user(store, "anna", "officer", password=PASSWORD)


def test_login_sets_a_safe_session_cookie_and_is_audited(app, store, officer) -> None:
    client = app.test_client(token=None)
    resp = _login(client, "anna")
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # development
    assert client.get("/worklist").status_code == 200
    (row,) = audit.entries(store, action="login.success")[1]
    assert row["user_name"] == "anna" and row["role"] == "officer" and row["client"] == "127.0.0.1"


def test_cookies_are_secure_outside_development(settings, store) -> None:
    app = create_app(settings.with_overrides(environment="production", secret_key="s" * 40))
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["SESSION_COOKIE_HTTPONLY"] is True
    resp = app.test_client().get("/healthz")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_default_secret_is_refused_outside_development(settings) -> None:
    from service.app import InsecureConfiguration

    with pytest.raises(InsecureConfiguration, match="PARKWACHT_SECRET_KEY"):
        create_app(settings.with_overrides(environment="production"))
    with pytest.raises(InsecureConfiguration, match="too short"):
        create_app(settings.with_overrides(environment="production", secret_key="short"))


def test_a_wrong_login_says_the_same_for_name_and_password(app, store, officer) -> None:
    client = app.test_client(token=None)
    wrong_password = _login(client, "anna", "not the password")
    unknown = _login(client, "bert")
    assert wrong_password.status_code == unknown.status_code == 401
    assert "Naam of wachtwoord klopt niet" in wrong_password.get_data(as_text=True)
    assert "Naam of wachtwoord klopt niet" in unknown.get_data(as_text=True)
    assert client.get("/worklist").status_code == 302
    assert [r["target"] for r in audit.entries(store, action="login.failure")[1]] == ["user:bert", "user:anna"]


def test_login_needs_the_csrf_token(app, officer) -> None:
    client = app.test_client(token=None)
    assert client.post("/login", data={"name": "anna", "password": PASSWORD}).status_code == 400


def test_login_returns_to_the_page_asked_for_but_never_to_another_host(app, officer) -> None:
    client = app.test_client(token=None)
    first = client.get("/worklist?municipality=GM0200")
    target = unquote(first.headers["Location"].split("next=", 1)[1])
    assert target == "/worklist?municipality=GM0200"
    assert f'value="{target}"' in client.get(first.headers["Location"]).get_data(as_text=True)
    assert _login(client, "anna", next_="/worklist?municipality=GM0200").headers["Location"] == \
        "/worklist?municipality=GM0200"
    other = app.test_client(token=None)
    for evil in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        assert _login(other, "anna", next_=evil).headers["Location"] == "/"
    assert safe_next("/parks/1") == "/parks/1" and safe_next("/\\x") is None and safe_next("/a\nb") is None


def test_analysts_land_on_the_model_card(app, store) -> None:
    users.add_user(store, "ali", "analyst", password=PASSWORD)
    assert _login(app.test_client(token=None), "ali").headers["Location"] == "/model"


def test_logout_ends_every_session_of_the_user(app, officer) -> None:
    client = app.test_client(token=None)
    _login(client, "anna")
    copied = app.test_client(token=None)
    copied.set_cookie("parkwacht_session", client.get_cookie("parkwacht_session").value)
    assert copied.get("/worklist").status_code == 200
    html = client.get("/worklist").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert "Uitloggen" in html
    resp = client.post("/logout", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"] == "/login"
    assert client.get("/worklist").status_code == 302
    assert copied.get("/worklist").status_code == 302  # the copied cookie stopped working too


def test_an_idle_or_old_session_ends(app, officer) -> None:
    client = app.test_client(token=None)
    _login(client, "anna")
    with client.session_transaction() as s:
        s["seen"] = int(time.time()) - 31 * 60
    resp = client.get("/worklist")
    assert resp.status_code == 302 and "ended=idle" in resp.headers["Location"]
    assert "tijd niets hebt gedaan" in client.get(resp.headers["Location"]).get_data(as_text=True)
    _login(client, "anna")
    with client.session_transaction() as s:
        s["started"] = int(time.time()) - 13 * 3600
    assert "ended=expired" in client.get("/worklist").headers["Location"]


def test_a_disabled_user_is_signed_out_at_once(app, store, officer) -> None:
    client = app.test_client(token=None)
    _login(client, "anna")
    users.set_active(store, "anna", False)
    assert client.get("/worklist").status_code == 302


def test_login_attempts_are_rate_limited(settings, store, officer) -> None:
    app = create_app(settings.with_overrides(rate_limit_login="3 per minute"))
    client = app.test_client()
    codes = [_login(client, "anna", "wrong password!!").status_code for _ in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    limited = _login(client, "anna")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_token_use_is_rate_limited(settings, store) -> None:
    app = create_app(settings.with_overrides(rate_limit_token="2 per minute"))
    headers = bearer(add_user(store, "analyst")[1])
    client = app.test_client()
    codes = [client.get("/api/v1/model", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    resp = client.get("/api/v1/model", headers=headers)
    assert resp.mimetype == "application/problem+json" and int(resp.headers["Retry-After"]) >= 1
    other = bearer(add_user(store, "analyst")[1])
    assert client.get("/api/v1/model", headers=other).status_code == 200  # per token


def test_guessing_tokens_is_rate_limited(settings, store) -> None:
    app = create_app(settings.with_overrides(rate_limit_auth_failures="3 per minute"))
    client = app.test_client()
    codes = [client.get("/api/v1/model", headers=bearer("pwk_" + str(i) * 43)).status_code for i in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[-1] == 429
    assert runtime(app).store is not None

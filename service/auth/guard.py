"""The one place where roles are enforced: a ``before_request`` hook reads the role the endpoint declared.

Per request: the body limit (413), the rate limits (429, Flask-Limiter), then who is asking (a bearer token
anywhere, or the web session on pages and for reading the API) and whether their role may use the route.
Without credentials the API and ``/ogc`` answer 401 problem+json and pages redirect to the login; a wrong
role is 403. ``admin`` may do everything; officers and analysts only what their own role allows (officers
do not read the API: bulk reads and exports are the analysts'). A route that declares no role needs admin
(the suite fails on it anyway: ``tests/auth/test_roles.py``).
"""
from __future__ import annotations

import time
from typing import cast
from urllib.parse import urlencode

from flask import Flask, Response, abort, current_app, g, redirect, request, url_for
from flask_limiter import ApplicationLimit, Limiter
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES

from ..access import PUBLIC, SIGNED_IN, required_role
from ..config import Settings
from ..vocab import ROLES
from . import sessions
from .tokens import resolve_token, token_hash
from .users import Principal

__all__ = ["init_app", "current_principal", "allowed", "GRANTS", "is_api_request", "bearer_token", "client_address"]

#: The roles each role acts as: admin is every role; officers and analysts only themselves.
GRANTS: dict[str, frozenset[str]] = {"officer": frozenset({"officer"}), "analyst": frozenset({"analyst"}),
                                     "admin": frozenset(ROLES)}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed(required: str, role: str | None) -> bool:
    """Whether a user with ``role`` may use a route that declared ``required``."""
    if required == PUBLIC:
        return True
    if role is None:
        return False
    return required == SIGNED_IN or required in GRANTS.get(role, frozenset())


def is_api_request() -> bool:
    """The JSON API and OGC API Features answer with problem documents and take bearer tokens."""
    path = request.path
    return path in ("/api", "/ogc") or path.startswith(("/api/", "/ogc/"))


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer ...`` header (None without one)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def client_address() -> str:
    return request.remote_addr or "unknown"


def current_principal() -> Principal | None:
    """Who this request acts as (None: nobody signed in)."""
    return cast(Principal | None, g.get("principal"))


def _problem(status: int, detail: str) -> Response:
    from ..api.problems import problem_response

    resp = problem_response(status, HTTP_STATUS_CODES[status], detail)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="parkwacht"'
    return resp


def _limit_body() -> None:
    """413 for a body over the limit on every route, also those that never read their body."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _authenticate(settings: Settings, public: bool) -> Response | None:
    """Find who is asking (``g.principal``); a bad bearer token is refused, except on public routes."""
    from ..app import runtime
    from .trail import audit_event

    store = runtime().store
    token = bearer_token()
    g.principal = None
    if token is not None:
        g.principal = resolve_token(store, token)
        if g.principal is None and not public:
            audit_event("token.rejected", request.path[:200], prefix=token[:12])
            return _problem(401, "the bearer token is unknown, expired or revoked") if is_api_request() \
                else _login_redirect()
        return None
    g.principal, g.session_ended = sessions.session_principal(store, settings)
    return None


def _login_redirect() -> Response:
    target = request.full_path if request.query_string else request.path
    query = {"next": target}
    if g.get("session_ended"):
        query["ended"] = g.session_ended
    return cast(Response, redirect(url_for("auth.login") + "?" + urlencode(query)))


def _authorize(settings: Settings) -> Response | None:
    """Answer for a request that may not go on (None: it may, and ``g.authorized`` says so)."""
    if request.endpoint is None or request.endpoint == "static":
        return None  # 404/405 from routing; static assets are public
    view = current_app.view_functions.get(request.endpoint)
    role = (required_role(view) if view is not None else None) or "admin"
    denied = _authenticate(settings, public=role == PUBLIC)
    if denied is not None:
        return denied
    principal = current_principal()
    api = is_api_request()
    if role != PUBLIC:
        if principal is not None and api and principal.via == "session" and request.method not in _SAFE_METHODS:
            return _problem(401, "changes through the API need a bearer token (Authorization: Bearer ...)")
        if principal is None:
            return _problem(401, "sign in with a bearer token (Authorization: Bearer ...)") if api \
                else _login_redirect()
        if not allowed(role, principal.role):
            detail = f"this needs the {role} role; you are signed in as {principal.role}"
            if api:
                return _problem(403, detail)
            abort(403, description=detail)
    g.authorized = True
    return None


def _token_key() -> str:
    token = bearer_token()
    return "token:" + token_hash(token)[:32] if token else "none"


def _login_post() -> bool:
    return request.endpoint == "auth.login" and request.method == "POST"


def _login_name() -> str:
    return "login-name:" + (request.form.get("name") or "").strip().lower()[:100]


def make_limiter(settings: Settings) -> Limiter:
    """Rate limits: per bearer token, on 401 answers per client, and on login attempts per client and name."""
    return Limiter(
        key_func=client_address,
        storage_uri=settings.rate_limit_storage,
        strategy="moving-window",
        headers_enabled=False,  # Retry-After goes on the 429 only (see _retry_after), not on every answer
        application_limits=[
            ApplicationLimit(settings.rate_limit_token, key_function=_token_key, scope="token",
                             exempt_when=lambda: bearer_token() is None),
            ApplicationLimit(settings.rate_limit_auth_failures, scope="auth-failures",
                             deduct_when=lambda response: response.status_code == 401),
            ApplicationLimit(settings.rate_limit_login, scope="login-client", exempt_when=lambda: not _login_post()),
            ApplicationLimit(settings.rate_limit_login, key_function=_login_name, scope="login-name",
                             exempt_when=lambda: not _login_post()),
        ],
    )


def _retry_after(response: Response) -> Response:
    """A 429 says when to try again (seconds until the breached limit's window has room)."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        limiter = cast(Limiter, current_app.extensions["parkwacht_limiter"])
        limit = limiter.current_limit
        wait = int(limit.reset_at - time.time()) if limit is not None else 60
        response.headers["Retry-After"] = str(max(1, wait))
    return response


def init_app(app: Flask, settings: Settings) -> None:
    """Cookies, the body limit, rate limits and the role check, in that order, for every request."""
    sessions.configure_cookies(app, settings)
    app.before_request(_limit_body)
    limiter = make_limiter(settings)
    limiter.init_app(app)
    app.extensions["parkwacht_limiter"] = limiter
    app.after_request(_retry_after)
    app.before_request(lambda: _authorize(settings))

"""The Flask application factory: wires settings, the run-time state, the blueprints and error handling.

This is the edge: the core under it imports no Flask, and the web and API layers call the core's reads.
Every request passes the guard of :mod:`service.auth.guard` (body limit, rate limits, roles) and every
response gets the security headers of :mod:`service.web.security`.
"""
from __future__ import annotations

from typing import Any, cast

from flask import Flask, Response, current_app
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from .config import DEFAULT_SECRET_KEY, PROJECT_ROOT, Settings, load_settings
from .runtime import Runtime

__all__ = ["create_app", "runtime", "MAX_BODY_BYTES", "MAX_JSON_DEPTH", "MAX_ID", "InsecureConfiguration"]

#: Largest request body accepted anywhere (larger: 413). Bulk loads go through the file import.
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Deepest JSON nesting a request body may have (deeper: 400, never a RecursionError).
MAX_JSON_DEPTH = 32
#: Largest id in a URL: the store's ids are 32-bit integers, so a larger number names nothing (404).
MAX_ID = 2**31 - 1


class InsecureConfiguration(RuntimeError):
    """Settings the app refuses to run with (outside development)."""


class _BoundedInt(IntegerConverter):
    """``<int:...>`` that matches only ids the store can hold: ``/parks/99999999999999999999`` is a 404."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max, signed=signed)


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


class _JSONProvider(DefaultJSONProvider):
    """Request bodies nested absurdly deep are a 400 with a reason, not a RecursionError and a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        if _depth(value) > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return value


def _check_secret(settings: Settings) -> None:
    """Outside development a session secret must be set, and long enough not to be guessed."""
    if settings.development:
        return
    if settings.secret_key == DEFAULT_SECRET_KEY:
        raise InsecureConfiguration("PARKWACHT_SECRET_KEY is the development default; set a secret of your own "
                                    "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if len(settings.secret_key) < 32:
        raise InsecureConfiguration("PARKWACHT_SECRET_KEY is too short; use at least 32 random characters")


def _quiet_development_server() -> None:
    """werkzeug's development server names itself and Python's version in a ``Server`` header: send none."""
    from werkzeug.serving import WSGIRequestHandler

    if getattr(WSGIRequestHandler, "_parkwacht_quiet", False):
        return

    def send_response(self: WSGIRequestHandler, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    setattr(WSGIRequestHandler, "send_response", send_response)  # noqa: B010  (a method of a library class)
    setattr(WSGIRequestHandler, "_parkwacht_quiet", True)  # noqa: B010


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The Flask application for ``settings`` (default: from ``PARKWACHT_*`` environment variables)."""
    from . import health, logs
    from .api import bp as api_bp
    from .auth import guard, trail
    from .auth.views import bp as auth_bp
    from .cli import register_commands
    from .errors import register_error_handlers
    from .ogc import bp as ogc_bp
    from .web import bp as web_bp
    from .web.security import apply_common_headers

    settings = settings.with_overrides(**overrides) if settings else load_settings(**overrides)
    _check_secret(settings)
    _quiet_development_server()
    app = Flask(
        "service",
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=settings.instance_dir,
        instance_relative_config=False,
    )
    app.url_map.converters["int"] = _BoundedInt  # before any route is added
    app.json = _JSONProvider(app)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.extensions["parkwacht"] = Runtime(settings)
    logs.init_app(app)  # first, so that a request the guard refuses has an id and a log line too
    guard.init_app(app, settings)
    trail.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(ogc_bp)
    app.register_blueprint(web_bp)

    @app.after_request
    def _headers(response: Response) -> Response:
        return apply_common_headers(response, development=settings.development)

    register_error_handlers(app)
    register_commands(app)
    return app


def runtime(app: Flask | None = None) -> Runtime:
    """The :class:`Runtime` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    return cast(Runtime, target.extensions["parkwacht"])

"""The Flask application factory: wires settings, the run-time state, the blueprints and error handling.

This is the edge: the core under it imports no Flask, and the web and API layers call the core's reads.
"""
from __future__ import annotations

from typing import Any, cast

from flask import Flask, current_app

from .config import PROJECT_ROOT, Settings, load_settings
from .runtime import Runtime

__all__ = ["create_app", "runtime", "MAX_BODY_BYTES"]

#: Largest request body accepted anywhere (larger: 413). Bulk loads go through the file import.
MAX_BODY_BYTES = 32 * 1024 * 1024


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The Flask application for ``settings`` (default: from ``PARKWACHT_*`` environment variables)."""
    from .api import bp as api_bp
    from .cli import register_commands
    from .errors import register_error_handlers
    from .web import bp as web_bp

    settings = settings.with_overrides(**overrides) if settings else load_settings(**overrides)
    app = Flask(
        "service",
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=settings.instance_dir,
        instance_relative_config=False,
    )
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.extensions["parkwacht"] = Runtime(settings)
    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    register_error_handlers(app)
    register_commands(app)
    return app


def runtime(app: Flask | None = None) -> Runtime:
    """The :class:`Runtime` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    return cast(Runtime, target.extensions["parkwacht"])

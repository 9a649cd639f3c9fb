"""Parkwacht: geospatial risk mapping of Dutch holiday parks.

``create_app`` wires configuration, the store, the blueprints and the CLI; the core (``ingest``,
``spatial``, ``scoring``, ``geo``, ``maps``) never imports Flask.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from .config import PROJECT_ROOT, Settings, load_settings
from .runtime import Runtime

__all__ = ["create_app", "runtime"]


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The Flask application for ``settings`` (default: from ``PARKWACHT_*`` environment variables)."""
    settings = settings.with_overrides(**overrides) if settings else load_settings(**overrides)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=settings.instance_dir,
        instance_relative_config=False,
    )
    app.config.update(SECRET_KEY=settings.secret_key, JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=32 * 1024 * 1024)
    app.extensions["parkwacht"] = Runtime(settings)

    from .api import bp as api_bp
    from .cli import register_commands
    from .web import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(web_bp)
    register_commands(app)
    return app


def runtime(app: Flask | None = None) -> Runtime:
    """The :class:`Runtime` of ``app`` (default: the current app)."""
    if app is None:
        from flask import current_app

        app = current_app  # type: ignore[assignment]
    return app.extensions["parkwacht"]

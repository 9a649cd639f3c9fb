"""``parkwacht serve``: the production server (gunicorn workers), not Flask's development server.

Workers share state only through the store: each builds its own catalogue and map cache keyed by the
published run, so a run published by the batch or another worker is served by every worker at its next
request (the version check is a few indexed queries). Gunicorn is embedded, so ``serve`` takes the same
settings and logging as every other command.
"""
from __future__ import annotations

import os
from typing import Any

import click

from .. import logs

__all__ = ["serve_cmd", "ParkwachtServer"]


class ParkwachtServer:
    """Gunicorn's application, built lazily so every worker creates its own app (no state before the fork)."""

    def __init__(self, options: dict[str, Any], proxies: int = 0) -> None:
        from gunicorn.app.base import BaseApplication

        outer = self

        class _App(BaseApplication):
            def load_config(self) -> None:
                for key, value in outer.options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                from ..app import create_app

                logs.configure()  # in the worker: the format chosen on the command line
                app = create_app()
                if outer.proxies:  # client address, scheme and host as the reverse proxy saw them
                    from werkzeug.middleware.proxy_fix import ProxyFix

                    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=outer.proxies, x_proto=outer.proxies,  # type: ignore[method-assign]
                                            x_host=outer.proxies, x_port=outer.proxies)
                return app

        self.options = options
        self.proxies = proxies
        self.app = _App()

    def run(self) -> None:
        self.app.run()


def _check_bind(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("use HOST:PORT, e.g. 127.0.0.1:8000", param_hint="--bind")
    return value


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="Address and port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Worker processes (about 2 per core; each holds its own catalogue and caches).")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True,
              help="Threads per worker (gthread): slow clients and exports do not block a worker.")
@click.option("--timeout", type=click.IntRange(min=10), default=120, show_default=True,
              help="Seconds before a silent worker is restarted (exports of large selections take a while).")
@click.option("--log-format", "log_format", type=click.Choice(logs.LOG_FORMATS), default=None,
              help="text or json (one object per line); default PARKWACHT_LOG_FORMAT or text.")
@click.option("--proxies", type=click.IntRange(min=0), default=0, show_default=True,
              help="Reverse proxies in front that set X-Forwarded-For/-Proto/-Host (ProxyFix trusts that many).")
def serve_cmd(bind: str, workers: int, threads: int, timeout: int, log_format: str | None, proxies: int) -> None:
    """Serve Parkwacht with gunicorn (behind a reverse proxy for TLS; see the README)."""
    fmt = logs.configure(log_format)
    options = {
        "bind": _check_bind(bind), "workers": workers, "threads": threads, "worker_class": "gthread",
        "timeout": timeout, "graceful_timeout": 30, "preload_app": False,
        # Requests are logged by the app (with request id, route and duration), not by gunicorn again.
        "accesslog": None, "errorlog": "-", "loglevel": "info",
        "logconfig_dict": _json_logconfig() if fmt == "json" else {},
        "proc_name": "parkwacht", "control_socket_disable": True,  # no control socket under $HOME
        # X-Forwarded-* are believed only from the reverse proxy (README: ProxyFix and TLS).
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }
    ParkwachtServer(options, proxies).run()


def _json_logconfig() -> dict[str, Any]:
    """Gunicorn's own lines (workers booting, restarts) as JSON objects, like the app's."""
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False}},
        "root": {"level": "INFO", "handlers": []},
    }

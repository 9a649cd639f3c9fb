"""Structured logs: one JSON object per line (``--log-format json``), with request id, route, status, duration.

Servers, the batch and log shippers read the same fields, so a slow request or a slow stage is found with a
query rather than a regular expression. The format is chosen once per process by ``PARKWACHT_LOG_FORMAT``
(``text`` or ``json``), which ``parkwacht serve`` and ``parkwacht score --log-format`` set.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the core may import this module without loading Flask
    from flask import Flask, Response

__all__ = ["configure", "init_app", "JsonFormatter", "log_event", "LOG_FORMATS", "REQUEST_ID_HEADER"]

LOG_FORMATS = ("text", "json")
REQUEST_ID_HEADER = "X-Request-ID"
#: An incoming request id is kept only when it is short and plain (it ends up in every log line).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Attributes every LogRecord has; anything else on a record is a field the caller passed in ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
access_log = logging.getLogger("parkwacht.access")


def _request_id() -> str | None:
    """The current request's id, when there is a request (without importing Flask into the core)."""
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return None
    return getattr(flask.g, "request_id", None)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request id and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        rid = _request_id()
        if rid is not None:
            entry["request_id"] = rid
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(fmt: str | None = None, *, stream: Any = None, level: int = logging.INFO) -> str:
    """Send this process's logs to ``stream`` (stderr) as text or JSON lines; returns the format used."""
    fmt = fmt or os.environ.get("PARKWACHT_LOG_FORMAT") or "text"
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(LOG_FORMATS)}")
    os.environ["PARKWACHT_LOG_FORMAT"] = fmt  # workers and child processes log the same way
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json"
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("parkwacht")
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "parkwacht"] + [handler]
    root.setLevel(level)
    return fmt


def log_event(logger: logging.Logger, message: str, **fields: Any) -> None:
    """Log ``message`` at INFO with ``fields`` as structured fields (JSON keys, or ``k=v`` in text)."""
    if logging.getLogger().handlers and os.environ.get("PARKWACHT_LOG_FORMAT") != "json":
        message = message + " " + " ".join(f"{k}={v}" for k, v in fields.items())
    logger.info(message, extra=fields)


def init_app(app: Flask) -> None:
    """Give every request an id (kept from ``X-Request-ID`` when plain) and log it once when answered."""
    from flask import g, request

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _answered(response: Response) -> Response:
        rid = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = rid
        started = getattr(g, "request_started", None)
        duration = round((time.perf_counter() - started) * 1000, 2) if started is not None else None
        rule = request.url_rule.rule if request.url_rule is not None else None
        log_event(access_log, "request", method=request.method, route=rule, path=request.path,
                  status=response.status_code, duration_ms=duration)
        return response

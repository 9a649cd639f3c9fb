"""Health checks for load balancers and systemd: ``/healthz`` (the process answers), ``/readyz`` (it can serve).

Public by design and free of data: they say ``ok`` or why not, nothing about parks or users. Ready means the
store answers, its schema is at the migrations' head, and the score runs can be read (a published run, or
none yet on a fresh store: both serve).
"""
from __future__ import annotations

import functools
import logging

from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy.exc import DBAPIError, OperationalError

from .access import PUBLIC, requires
from .store import Store

bp = Blueprint("health", __name__)

__all__ = ["bp", "readiness", "migrations_head", "store_unavailable", "RETRY_AFTER_S"]

log = logging.getLogger(__name__)
#: What a 503 asks clients to wait before they try again.
RETRY_AFTER_S = 5


@functools.cache
def migrations_head() -> str | None:
    """The newest revision of the migrations shipped with this code (read once per process)."""
    from alembic.script import ScriptDirectory

    from .store.database import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def readiness(store: Store) -> str | None:
    """Why the store cannot serve yet, or None when it can."""
    try:
        revision = store.current_revision()
        if revision is None:
            return "the store is not migrated (parkwacht db upgrade)"
        if revision != migrations_head():
            return "the store's schema is not at the migrations' head (parkwacht db upgrade)"
        store.published_run_id()  # a published run or none yet: both serve; an unreadable table does not
    except Exception:  # the store is down: not ready, and no internals in the answer
        return "the store cannot be reached"
    return None


@bp.get("/healthz")
@requires(PUBLIC)
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@requires(PUBLIC)
def readyz() -> tuple[Response, int]:
    from .app import runtime

    reason = readiness(runtime().store)
    if reason is not None:
        return jsonify({"status": "unavailable", "reason": reason}), 503
    return jsonify({"status": "ok"}), 200


def _store_is_down(exc: Exception) -> bool:
    """A lost or refused connection, as opposed to an error in a query (which stays a logged 500)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


@bp.app_errorhandler(DBAPIError)
def store_unavailable(exc: DBAPIError) -> Response | tuple[str, int, dict[str, str]]:
    """The store went away: a 503 the client may retry (problem+json for the API, a friendly page otherwise).

    The pool replaces dead connections on the next checkout, so service resumes by itself when it is back.
    """
    from flask_babel import gettext as _

    from .api.problems import problem_response
    from .errors import wants_problem_json

    if not _store_is_down(exc):
        raise exc  # a query that failed on a live store: the app-wide handler logs it and answers 500
    log.warning("store unavailable: %s", type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if wants_problem_json():
        resp = problem_response(503, "Service Unavailable", "the store cannot be reached; try again shortly")
        resp.headers.update(headers)
        return resp
    page = render_template("error.html", title=_("Even niet beschikbaar"),
                           message=_("Parkwacht kan de gegevens nu niet bereiken. Probeer het over een paar "
                                     "minuten opnieuw."))
    return page, 503, headers

"""Errors handled once, app-wide: problem+json under ``/api``, the HTML error page everywhere else.

Views raise typed errors (:mod:`service.api.problems`, :class:`service.reads.NotFound`, werkzeug's HTTP
exceptions); this module alone turns them into responses. Titles are always the HTTP reason phrase, so a
client sees one spelling per status. An unexpected error is logged with its traceback and answered with a
plain 500 that carries no internals.
"""
from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.http import HTTP_STATUS_CODES

from .api.problems import ApiError, problem_response
from .reads import NotFound

__all__ = ["register_error_handlers", "wants_problem_json"]


def wants_problem_json() -> bool:
    """Everything under ``/api`` and ``/ogc`` answers errors as ``application/problem+json`` (RFC 9457)."""
    return request.path in ("/api", "/ogc") or request.path.startswith(("/api/", "/ogc/"))


def _title(status: int) -> str:
    return HTTP_STATUS_CODES.get(status, "Error")


def _page(status: int, description: str | None) -> tuple[str, int]:
    """The HTML error page, in the officer's language, for ``status``."""
    titles = {
        400: _("Verzoek niet begrepen"),
        404: _("Niet gevonden"),
        405: _("Deze handeling kan hier niet"),
        413: _("Te groot"),
        500: _("Er ging iets mis"),
    }
    messages = {
        404: _("Deze pagina of dit park bestaat niet."),
        500: _("De pagina kon niet worden gemaakt. De fout is vastgelegd; probeer het later opnieuw."),
    }
    title = titles.get(status, _title(status))
    message = messages.get(status) or description or title
    return render_template("error.html", title=title, message=message), status


def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
    status = exc.code or 500
    if wants_problem_json():
        resp = problem_response(status, _title(status), exc.description or _title(status))
        if status == 405 and exc.response is None:
            allowed = getattr(exc, "valid_methods", None)
            if allowed:
                resp.headers["Allow"] = ", ".join(allowed)
        return resp
    return _page(status, exc.description)


def _api_error(exc: ApiError) -> Response | tuple[str, int]:
    if wants_problem_json():
        return problem_response(exc.status, _title(exc.status), exc.detail, exc.extra)
    return _page(exc.status, exc.detail)


def _not_found(exc: NotFound) -> Response | tuple[str, int]:
    return _http_error(HTTPNotFound(description=str(exc.args[0]) if exc.args else None))


def _unexpected(exc: Exception) -> Response | tuple[str, int]:
    from flask import current_app

    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _http_error(InternalServerError(description="the server could not answer this request; it was logged"))


def register_error_handlers(app: Flask) -> None:
    """Install the app-wide handlers (most specific first, as Flask resolves them by class)."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(NotFound, _not_found)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

"""Typed API errors and their RFC 9457 ``application/problem+json`` rendering, in one place."""
from __future__ import annotations

from typing import Any

from flask import Response, json

__all__ = ["ApiError", "BadRequest", "NotFound", "Unprocessable", "problem_response"]


class ApiError(Exception):
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(ApiError):
    status = 400
    title = "Bad request"


class NotFound(ApiError):
    status = 404
    title = "Not found"


class Unprocessable(ApiError):
    status = 422
    title = "Nothing could be stored"


def problem_response(status: int, title: str, detail: str, extra: dict[str, Any] | None = None) -> Response:
    """A problem document; ``extra`` members never override the standard ones."""
    body = {**(extra or {}), "type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")

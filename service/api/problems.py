"""Typed API errors and their RFC 9457 ``application/problem+json`` rendering.

Views raise these; :mod:`service.errors` turns them (and every other error under ``/api``) into problem
documents in one place. The title is always the HTTP reason phrase of the status.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Response

__all__ = ["ApiError", "BadRequest", "NotFound", "NotAcceptable", "Conflict", "UnsupportedMediaType",
           "Unprocessable", "problem_response"]


class ApiError(Exception):
    """An answer other than success, with a detail a client can act on and optional extra members."""

    status = 500

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class NotAcceptable(ApiError):
    status = 406


class Conflict(ApiError):
    status = 409


class UnsupportedMediaType(ApiError):
    status = 415


class Unprocessable(ApiError):
    status = 422


def problem_response(status: int, title: str, detail: str, extra: dict[str, Any] | None = None) -> Response:
    """A problem document; ``extra`` members never override the standard ones."""
    body = {**(extra or {}), "type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    mimetype="application/problem+json")

"""The audit trail at the edge: who the request acts as, and the looks and changes of a request recorded.

Views whose every call is a look worth recording (a park page, a park's API detail, an export) declare it
with ``@audited("park.view", "park:{park_id}")``; one ``after_request`` hook writes the row with the status.
Other events (logins, visits, posts) call :func:`audit_event` where they happen.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request

from .. import audit

__all__ = ["actor", "audit_event", "audited", "init_app"]

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> audit.Actor:
    """The audit actor of this request: the signed-in user (or nobody) and the client address."""
    from .guard import client_address, current_principal

    p = current_principal()
    if p is None:
        return audit.Actor(None, None, client=client_address())
    return audit.Actor(p.name, p.role, user_id=p.user_id, client=client_address())


def audit_event(action: str, target: str | None = None, **detail: Any) -> None:
    """Record ``action`` on ``target`` for this request's user, now, in its own transaction."""
    from ..app import runtime

    audit.record(runtime().store, actor(), action, target, **detail)


def audited(action: str, target: str | None = None) -> Callable[[F], F]:
    """Declare that every call of a view is recorded (``target`` may name URL arguments: ``park:{park_id}``)."""
    def declare(view: F) -> F:
        view.audit_action = action  # type: ignore[attr-defined]  # read back by the after_request hook
        view.audit_target = target  # type: ignore[attr-defined]
        return view

    return declare


def _record(response: Response) -> Response:
    """Write the audit row of an audited view that was allowed to run."""
    view = current_app.view_functions.get(request.endpoint or "")
    action = getattr(view, "audit_action", None)
    if action is None or not g.get("authorized"):
        return response
    template = getattr(view, "audit_target", None)
    try:
        target = template.format(**(request.view_args or {})) if template else request.path
    except (KeyError, IndexError, ValueError):
        target = request.path
    detail: dict[str, Any] = {"status": response.status_code, "method": request.method}
    if request.query_string:
        detail["query"] = request.query_string.decode("utf-8", "replace")[:500]
    audit_event(action, target, **detail)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_record)

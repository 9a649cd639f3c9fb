"""Which role each route needs, declared in one place: a decorator on the view.

``@requires("analyst")`` on a view records the role; ``@requires(PUBLIC)`` marks the few routes anyone may
reach (health checks, the login page); ``@requires(SIGNED_IN)`` those any signed-in user may reach whatever
their role (logout, the model card). :mod:`service.auth.guard` enforces the declarations. A test walks every
registered route and fails on one without a declaration, so a new route cannot ship without saying who may
use it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from .vocab import ROLES

__all__ = ["PUBLIC", "SIGNED_IN", "requires", "required_role", "undeclared_routes"]

#: The pseudo-role of routes that need no login.
PUBLIC = "public"
#: The pseudo-role of routes every signed-in user may reach, whatever their role.
SIGNED_IN = "signed_in"

F = TypeVar("F", bound=Callable[..., Any])


def requires(role: str) -> Callable[[F], F]:
    """Declare that a view needs ``role`` (one of :data:`service.vocab.ROLES`, :data:`PUBLIC` or :data:`SIGNED_IN`)."""
    if role not in (PUBLIC, SIGNED_IN) and role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}, {PUBLIC!r} or {SIGNED_IN!r}")

    def declare(view: F) -> F:
        view.required_role = role  # type: ignore[attr-defined]  # read back by required_role()
        return view

    return declare


def required_role(view: Callable[..., Any]) -> str | None:
    """The role a view declared, or None when it declared none."""
    return getattr(view, "required_role", None)


def undeclared_routes(app: Flask) -> list[str]:
    """Routes of ``app`` whose view declares no role (Flask's own static route is public by nature)."""
    return sorted(f"{rule.rule} ({rule.endpoint})" for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static" and required_role(app.view_functions[rule.endpoint]) is None)

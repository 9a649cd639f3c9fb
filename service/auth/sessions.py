"""Web sessions: a signed cookie naming the user and their session version, with an idle and an absolute limit.

The cookie is ``HttpOnly``, ``SameSite=Lax`` and, outside development, ``Secure``. A session ends after
``session_idle_minutes`` without a request, ``session_max_hours`` after the login, and at once when the
user's session version is raised (logout, a new password, disabling): a copied cookie stops working too.
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

from flask import Flask, session

from ..config import Settings
from ..store import Store
from .users import Principal, User, user_by_id

__all__ = ["configure_cookies", "start_session", "session_principal", "end_session", "session_values", "KEYS"]

#: The session keys that carry the login (everything else in the session is page state: language, CSRF).
KEYS = ("uid", "ver", "started", "seen")
#: ``seen`` is refreshed at most this often, so not every response has to set a new cookie.
_SEEN_STEP_S = 60


def configure_cookies(app: Flask, settings: Settings) -> None:
    """Cookie flags and lifetime of the session cookie."""
    app.config.update(
        SESSION_COOKIE_NAME="parkwacht_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.development,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_max_hours),
    )


def session_values(user: User, now: float | None = None) -> dict[str, Any]:
    """What a fresh login puts in the session (the tests use it to sign a client in without a password)."""
    now = time.time() if now is None else now
    return {"uid": user.id, "ver": user.session_version, "started": int(now), "seen": int(now)}


def start_session(user: User) -> None:
    """A new session for ``user``: everything from before the login is dropped (no session fixation)."""
    lang = session.get("lang")
    session.clear()
    session.permanent = True
    session.update(session_values(user))
    if lang:
        session["lang"] = lang


def end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def session_principal(store: Store, settings: Settings) -> tuple[Principal | None, str | None]:
    """The signed-in user of this session and, when a session just ended, why (``idle``, ``expired``, ``ended``)."""
    uid = session.get("uid")
    if not isinstance(uid, int):
        return None, None
    now = time.time()
    seen, started = session.get("seen", 0), session.get("started", 0)
    reason = None
    if not isinstance(seen, int | float) or now - seen > settings.session_idle_minutes * 60:
        reason = "idle"
    elif not isinstance(started, int | float) or now - started > settings.session_max_hours * 3600:
        reason = "expired"
    user = user_by_id(store, uid) if reason is None else None
    if reason is None and (user is None or not user.active or user.session_version != session.get("ver")):
        reason = "ended"
    if reason is not None or user is None:
        end_session()
        return None, reason
    if now - seen >= _SEEN_STEP_S:
        session["seen"] = int(now)
    return Principal(user_id=user.id, name=user.name, role=user.role, via="session", sources=()), None

"""Users of Parkwacht: one role each, an optional password for the web, changes audited in the same transaction.

Core: no Flask. The ``parkwacht users`` commands and the login view call these functions; every change
writes its audit row inside the transaction that makes it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import audit
from ..store import Store, connection, schema
from ..vocab import ROLES
from . import passwords

__all__ = [
    "User",
    "Principal",
    "UserError",
    "add_user",
    "get_user",
    "user_by_id",
    "list_users",
    "set_password",
    "set_active",
    "authenticate",
    "end_sessions",
    "NAME_PATTERN",
]

#: User names: lower-case letters, digits and ``. _ @ -`` (an e-mail address fits), 2 to 100 characters.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")


class UserError(ValueError):
    """A user change that cannot be made; the message says why."""


@dataclass(frozen=True)
class User:
    """A user as the store holds it (never with a token; the password hash stays in here)."""

    id: int
    name: str
    role: str
    active: bool
    session_version: int
    password_hash: str | None = None
    last_login_at: Any = None
    created_at: Any = None

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user, how they signed in, and which signal sources they may write.

    ``sources`` is None for admins (an admin import may write any source) and the token's list otherwise;
    a web session writes no source of its own (visits are written under the visit source by the page).
    """

    user_id: int
    name: str
    role: str
    via: str  # session | token
    sources: tuple[str, ...] | None = ()
    token_id: int | None = None

    def may_write(self, source: str) -> bool:
        return self.sources is None or source in self.sources


def _user(row: Any) -> User:
    m = row._mapping
    return User(id=m["id"], name=m["name"], role=m["role"], active=bool(m["active"]),
                session_version=int(m["session_version"]), password_hash=m["password_hash"],
                last_login_at=m["last_login_at"], created_at=m["created_at"])


def _check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise UserError(f"{name!r} is not a user name: use 2-100 lower-case letters, digits or . _ @ -")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    return role


def get_user(source: Store | Connection, name: str) -> User | None:
    u = schema.users
    with connection(source) as conn:
        row = conn.execute(sa.select(u).where(u.c.name == name)).first()
    return _user(row) if row is not None else None


def user_by_id(source: Store | Connection, user_id: int) -> User | None:
    u = schema.users
    with connection(source) as conn:
        row = conn.execute(sa.select(u).where(u.c.id == user_id)).first()
    return _user(row) if row is not None else None


def _require(conn: Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    return user


def add_user(store: Store, name: str, role: str, *, password: str | None = None,
             actor: audit.Actor | None = None) -> User:
    """A new user with ``role`` (and a password for the web login, if given)."""
    _check_name(name)
    _check_role(role)
    if password is not None:
        try:
            passwords.check_strength(password)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    hashed = passwords.hash_password(password) if password is not None else None
    u = schema.users
    with store.begin() as conn:
        if get_user(conn, name) is not None:
            raise UserError(f"a user named {name!r} exists already")
        conn.execute(u.insert().values(name=name, role=role, password_hash=hashed))
        audit.record(conn, actor, "user.add", f"user:{name}", role=role, password=hashed is not None)
        return _require(conn, name)


def list_users(store: Store) -> list[dict[str, Any]]:
    """Every user with the number of usable tokens (never a token, never a hash)."""
    u, t = schema.users, schema.api_tokens
    now = dt.datetime.now(dt.UTC)
    usable = sa.and_(t.c.user_id == u.c.id, t.c.revoked_at.is_(None),
                     sa.or_(t.c.expires_at.is_(None), t.c.expires_at > now))
    tokens = sa.select(sa.func.count()).where(usable).scalar_subquery()
    query = sa.select(u.c.id, u.c.name, u.c.role, u.c.active, (u.c.password_hash.is_not(None)).label("password"),
                      u.c.created_at, u.c.last_login_at, tokens.label("tokens")).order_by(u.c.name)
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _bump(conn: Connection, user: User, **values: Any) -> None:
    """Change a user and end their web sessions (a raised session version invalidates every cookie)."""
    u = schema.users
    conn.execute(u.update().where(u.c.id == user.id).values(
        session_version=u.c.session_version + 1, updated_at=sa.func.current_timestamp(), **values))


def set_password(store: Store, name: str, password: str, *, actor: audit.Actor | None = None) -> None:
    """A new password; the user's open web sessions end."""
    try:
        passwords.check_strength(password)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    with store.begin() as conn:
        user = _require(conn, name)
        _bump(conn, user, password_hash=passwords.hash_password(password))
        audit.record(conn, actor, "user.password", f"user:{name}")


def set_active(store: Store, name: str, active: bool, *, actor: audit.Actor | None = None) -> None:
    """Disable (no login, no token works, sessions end) or enable a user again."""
    with store.begin() as conn:
        user = _require(conn, name)
        _bump(conn, user, active=active)
        audit.record(conn, actor, "user.enable" if active else "user.disable", f"user:{name}")


def end_sessions(store: Store, user_id: int) -> None:
    """End every web session of a user (logout: a copied cookie stops working too)."""
    u = schema.users
    with store.begin() as conn:
        conn.execute(u.update().where(u.c.id == user_id).values(session_version=u.c.session_version + 1))


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The active user whose password this is, or None (as slow for an unknown name as for a wrong password)."""
    user = get_user(store, name) if NAME_PATTERN.match(name or "") else None
    if not passwords.verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    values: dict[str, Any] = {"last_login_at": dt.datetime.now(dt.UTC)}
    if user.password_hash and passwords.needs_rehash(user.password_hash):
        values["password_hash"] = passwords.hash_password(password)
    with store.begin() as conn:
        conn.execute(schema.users.update().where(schema.users.c.id == user.id).values(**values))
    return user

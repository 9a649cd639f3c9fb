"""Bearer tokens for the API: shown once, stored as SHA-256 hashes, revocable, with an optional expiry.

A token is ``pwk_`` and 43 URL-safe characters (256 random bits), so a fast hash is as safe as a slow one
and lets a request find its token with one indexed lookup. A token carries the signal sources it may write.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from .. import audit
from ..store import Store, schema
from ..vocab import VISIT_SOURCE
from .users import Principal, UserError, get_user

__all__ = ["TOKEN_PREFIX", "issue_token", "revoke_tokens", "resolve_token", "token_hash", "list_tokens"]

TOKEN_PREFIX = "pwk_"
_TOKEN = re.compile(r"^pwk_[A-Za-z0-9_-]{43}$")
_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
#: ``last_used_at`` is written at most this often per token (not a write per request).
_TOUCH_EVERY = dt.timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _aware(value: Any) -> dt.datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back naive)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _check_sources(sources: Sequence[str]) -> list[str]:
    out = []
    for s in sources:
        if not _SOURCE.match(s):
            raise UserError(f"{s!r} is not a source name: letters, digits and . _ - (at most 100)")
        if s == VISIT_SOURCE:
            raise UserError(f"source {VISIT_SOURCE!r} holds officers' visits and is written only by the park page")
        if s not in out:
            out.append(s)
    return out


def issue_token(store: Store, name: str, *, sources: Sequence[str] = (), expires_days: int | None = None,
                actor: audit.Actor | None = None) -> str:
    """A new token for user ``name``, returned once (only its hash is kept)."""
    wanted = _check_sources(sources)
    if expires_days is not None and expires_days < 1:
        raise UserError("a token must be valid for at least one day")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days) if expires_days else None
    with store.begin() as conn:
        user = get_user(conn, name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        conn.execute(schema.api_tokens.insert().values(user_id=user.id, token_hash=token_hash(token),
                                                       prefix=token[:12], sources=wanted, expires_at=expires))
        audit.record(conn, actor, "token.issue", f"user:{name}", prefix=token[:12], sources=wanted,
                     expires_at=expires.isoformat() if expires else None)
    return token


def revoke_tokens(store: Store, name: str, *, prefix: str | None = None, actor: audit.Actor | None = None) -> int:
    """Revoke every usable token of ``name`` (or the one starting with ``prefix``); returns how many."""
    t = schema.api_tokens
    with store.begin() as conn:
        user = get_user(conn, name)
        if user is None:
            raise UserError(f"no user named {name!r}")
        where = sa.and_(t.c.user_id == user.id, t.c.revoked_at.is_(None))
        if prefix:
            where = sa.and_(where, t.c.prefix.startswith(prefix, autoescape=True))
        n = conn.execute(t.update().where(where).values(revoked_at=dt.datetime.now(dt.UTC))).rowcount
        audit.record(conn, actor, "token.revoke", f"user:{name}", revoked=n, prefix=prefix)
    return int(n or 0)


def list_tokens(store: Store, name: str) -> list[dict[str, Any]]:
    """A user's tokens by prefix, sources and dates (never the token itself)."""
    t = schema.api_tokens
    user = get_user(store, name)
    if user is None:
        raise UserError(f"no user named {name!r}")
    with store.connect() as conn:
        rows = conn.execute(sa.select(t.c.prefix, t.c.sources, t.c.created_at, t.c.expires_at, t.c.revoked_at,
                                      t.c.last_used_at).where(t.c.user_id == user.id).order_by(t.c.id)).all()
    return [dict(r._mapping) for r in rows]


def resolve_token(store: Store, token: str, now: dt.datetime | None = None) -> Principal | None:
    """The principal a bearer token stands for, or None (unknown, revoked, expired, or its user disabled)."""
    if not _TOKEN.match(token or ""):
        return None
    t, u = schema.api_tokens, schema.users
    now = now or dt.datetime.now(dt.UTC)
    query = (sa.select(t.c.id, t.c.sources, t.c.expires_at, t.c.revoked_at, t.c.last_used_at, u.c.id.label("uid"),
                       u.c.name, u.c.role, u.c.active)
             .join(u, u.c.id == t.c.user_id).where(t.c.token_hash == token_hash(token)))
    with store.connect() as conn:
        row = conn.execute(query).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    expires = _aware(row.expires_at)
    if expires is not None and expires <= now:
        return None
    last = _aware(row.last_used_at)
    if last is None or now - last > _TOUCH_EVERY:
        with store.begin() as conn:
            conn.execute(t.update().where(t.c.id == row.id).values(last_used_at=now))
    sources = None if row.role == "admin" else tuple(row.sources or ())
    return Principal(user_id=row.uid, name=row.name, role=row.role, via="token", sources=sources, token_id=row.id)

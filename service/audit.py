"""The audit trail: who looked at or changed what, when and from where; append-only by construction.

This module only inserts and reads: no function here (or anywhere) updates or deletes an audit row, and the
store refuses it too (triggers from migration 0004 on SQLite and PostgreSQL). Rows are written through
:func:`record`, usually inside the transaction of the change they describe, so a change and its audit row
are committed together or not at all.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .store import Store, connection, schema
from .tabular import csv_lines

__all__ = [
    "Actor",
    "ACTIONS",
    "cli_actor",
    "record",
    "entries",
    "export_lines",
    "EXPORT_FIELDS",
]

#: The actions Parkwacht records (free text in the table, so a new route can add one; these are the known).
ACTIONS: tuple[str, ...] = (
    "login.success", "login.failure", "logout", "token.rejected",
    "park.view", "park.api_view", "export", "import", "signals.post", "rejected.view", "visit.record",
    "score.run", "score.rescore", "backtest.record",
    "user.add", "user.password", "user.disable", "user.enable", "token.issue", "token.revoke",
    "audit.view", "audit.export", "purge",
)
EXPORT_FIELDS = ("id", "at", "user_name", "user_id", "role", "action", "target", "client", "detail")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user of the web or API (with the client address), or a person at the command line."""

    name: str | None
    role: str | None
    user_id: int | None = None
    client: str | None = None


def cli_actor() -> Actor:
    """The person at the command line: shell access to the store is admin access."""
    try:
        who = getpass.getuser()
    except Exception:  # no login name (a container without passwd entry)
        who = "unknown"
    return Actor(name=f"cli:{who}", role="admin", client="cli")


def _clip(value: str | None, n: int) -> str | None:
    return None if value is None else str(value)[:n]


def record(target_store: Store | Connection, actor: Actor | None, action: str, target: str | None = None,
           **detail: Any) -> None:
    """Append one audit row (inside the caller's transaction when given a connection)."""
    a = actor or Actor(None, None)
    values = {"user_name": _clip(a.name, 100), "user_id": a.user_id, "role": _clip(a.role, 16),
              "action": action[:40], "target": _clip(target, 200), "client": _clip(a.client, 64),
              "detail": json.loads(json.dumps(detail, default=str)) if detail else None,
              "at": dt.datetime.now(dt.UTC)}
    if isinstance(target_store, Connection):
        target_store.execute(schema.audit_log.insert().values(**values))
    else:
        with target_store.begin() as conn:
            conn.execute(schema.audit_log.insert().values(**values))


def _filtered(since: dt.datetime | dt.date | None = None, until: dt.datetime | dt.date | None = None,
              user: str | None = None, action: str | None = None, target: str | None = None) -> sa.Select:
    a = schema.audit_log
    q = sa.select(a)
    if since is not None:
        q = q.where(a.c.at >= _moment(since))
    if until is not None:
        q = q.where(a.c.at < _moment(until, end_of_day=True))
    if user:
        q = q.where(a.c.user_name == user)
    if action:
        q = q.where(a.c.action.startswith(action, autoescape=True))
    if target:
        q = q.where(a.c.target == target)
    return q


def _moment(value: dt.datetime | dt.date, end_of_day: bool = False) -> dt.datetime:
    """A filter bound as an aware datetime (a date means its midnight, or the next one for an end)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    day = value + dt.timedelta(days=1) if end_of_day else value
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _row(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    if isinstance(out.get("at"), dt.datetime):
        out["at"] = out["at"].isoformat()
    return out


def entries(source: Store | Connection, *, limit: int = 100, offset: int = 0,
            **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    """Audit rows matching ``filters`` (since, until, user, action prefix, target), newest first, with the total."""
    q = _filtered(**filters)
    a = schema.audit_log
    with connection(source) as conn:
        total = int(conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one())
        rows = conn.execute(q.order_by(a.c.id.desc()).limit(limit).offset(offset)).all()
    return total, [_row(r) for r in rows]


def _iter_rows(store: Store, **filters: Any) -> Iterator[dict[str, Any]]:
    """Every matching row, oldest first, read in pages (an export may be long)."""
    a = schema.audit_log
    last = 0
    while True:
        with store.connect() as conn:
            rows = conn.execute(_filtered(**filters).where(a.c.id > last).order_by(a.c.id).limit(1000)).all()
        if not rows:
            return
        for r in rows:
            yield _row(r)
        last = rows[-1].id


def export_lines(store: Store, fmt: str = "csv", **filters: Any) -> Iterator[str]:
    """The matching rows as spreadsheet-safe CSV lines or as JSON lines (one object per line)."""
    rows = _iter_rows(store, **filters)
    if fmt == "json":
        return (json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}; use csv or json")
    table = ([r[f] if f != "detail" else json.dumps(r[f], ensure_ascii=False, default=str) if r[f] else ""
              for f in EXPORT_FIELDS] for r in rows)
    return csv_lines(EXPORT_FIELDS, table, numeric=(0, 3))

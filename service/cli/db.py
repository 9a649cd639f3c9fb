"""``parkwacht db``: the store's schema (Alembic migrations)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..app import runtime

__all__ = ["db_cli"]

db_cli = AppGroup("db", help="Manage the store's schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the store's tables to the latest schema."""
    rt = runtime()
    rt.store.upgrade()
    click.echo(f"store at revision {rt.store.current_revision()} ({rt.store.dialect})")


@db_cli.command("current")
def db_current() -> None:
    """Show the schema revision of the store."""
    click.echo(runtime().store.current_revision() or "empty (run: parkwacht db upgrade)")

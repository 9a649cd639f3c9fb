"""``parkwacht audit export``: the audit trail as CSV or JSON lines, for an auditor (the export is audited too)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from .. import audit
from ..app import runtime
from .common import parse_date

__all__ = ["audit_cli"]


@click.group("audit")
def audit_cli() -> None:
    """The audit trail (append-only: nothing here changes it)."""


@audit_cli.command("export")
@with_appcontext
@click.option("--since", required=True, help="From this date (YYYY-MM-DD, inclusive).")
@click.option("--until", help="Up to this date (YYYY-MM-DD, inclusive).")
@click.option("--user", help="Only this user name.")
@click.option("--action", help="Only actions starting with this (e.g. login, park.view).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="CSV (spreadsheet-safe) or JSON lines.")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default: stdout).")
def export_cmd(since: str, until: str | None, user: str | None, action: str | None, fmt: str,
               output: str | None) -> None:
    """Export the audit rows from --since (oldest first)."""
    store = runtime().store
    filters = {"since": parse_date(since, "--since"), "until": parse_date(until, "--until") if until else None,
               "user": user, "action": action}
    lines = 0
    with click.open_file(output or "-", "w", encoding="utf-8") as out:
        for line in audit.export_lines(store, fmt, **filters):
            out.write(line)
            lines += 1
    audit.record(store, audit.cli_actor(), "audit.export", output or "stdout", format=fmt, lines=lines,
                 filters={k: str(v) for k, v in filters.items() if v is not None})
    if output:
        click.echo(f"wrote {lines} line(s) to {output}", err=True)

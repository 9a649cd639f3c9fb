"""``parkwacht purge``: remove signals and rejected rows older than the retention period (counted, audited)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..app import runtime
from ..audit import cli_actor
from ..retention import purge
from ..scoring import ModelError, load_model
from .common import print_json

__all__ = ["purge_cmd"]


@click.command("purge")
@with_appcontext
@click.option("--older-than", "years", type=click.IntRange(min=1),
              help="Years to keep (default: PARKWACHT_RETENTION_YEARS).")
@click.option("--dry-run", is_flag=True, help="Count what would go; remove nothing.")
@click.option("--force", is_flag=True, help="Also when the period is shorter than the model's longest window.")
@click.option("--json", "as_json", is_flag=True)
def purge_cmd(years: int | None, dry_run: bool, force: bool, as_json: bool) -> None:
    """Remove signals dated, and rejected rows imported, more than YEARS ago (one transaction)."""
    rt = runtime()
    keep = years or rt.settings.retention_years
    try:
        longest = max((f.window_days or 0 for f in load_model(rt.settings.model_path).factors), default=0)
    except ModelError:
        longest = 0
    if keep * 365 < longest and not force:
        raise click.ClickException(f"the model looks back {longest} days; keeping only {keep} year(s) would change "
                                   "scores, not just remove old data (pass --force to do it anyway)")
    result = purge(rt.store, older_than_years=keep, dry_run=dry_run, actor=cli_actor())
    if as_json:
        print_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {result['signals']:,} signal(s) dated before {result['cutoff']}, "
               f"{result['import_changes']:,} change record(s) of them and {result['rejected_rows']:,} rejected "
               f"row(s) of older imports")

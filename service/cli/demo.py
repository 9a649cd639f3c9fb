"""``parkwacht demo``: load the fictional demo region through the ordinary import."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..app import runtime
from ..demo import load_demo, store_is_empty
from .common import print_json as _print_json
from .imports import report

__all__ = ["demo_cmd"]


@click.command("demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Only load when the store holds no parks yet.")
@click.option("--seed", type=int, help="Seed of the generator (default: PARKWACHT_DEMO_SEED).")
@click.option("--json", "as_json", is_flag=True)
def demo_cmd(if_empty: bool, seed: int | None, as_json: bool) -> None:
    """Load the fictional demo region (parks and three years of signals)."""
    rt = runtime()
    if if_empty and not store_is_empty(rt.store):
        click.echo("store already holds parks; demo not loaded")
        return
    parks, signals = load_demo(rt.store, rt.settings, seed=seed)
    if as_json:
        _print_json({"parks": parks.as_dict(), "signals": signals.as_dict()})
    else:
        report(parks, False)
        report(signals, False)

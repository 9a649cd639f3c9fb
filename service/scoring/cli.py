"""The scoring commands of ``parkwacht``: ``score``, ``backtest``, ``history`` and ``rescore``.

These are thin click adapters over the core (the only Flask imports of the scoring package are here:
``with_appcontext`` and :func:`service.runtime`). The owner registers them with :func:`register`.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from .backtest import backtest, format_backtest
from .history import list_runs, park_history, published_run
from .incremental import rescore_parks
from .locks import RunLocked
from .model import ModelError
from .runs import Progress, score_run

__all__ = ["score_cmd", "backtest_cmd", "history_cmd", "rescore_cmd", "runs_cmd", "register"]


def _print_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, default=str, indent=2))


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD", param_hint=name) from exc


def _runtime():
    from service import runtime

    return runtime()


def _index(rt: Any):
    get = getattr(rt, "park_index", None)
    return get() if callable(get) else None


@click.command("score")
@with_appcontext
@click.option("--as-of", "as_of", help="Score as of this date (YYYY-MM-DD); default: the newest signal's date.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Model file (default: PARKWACHT_MODEL_PATH).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
def score_cmd(as_of: str | None, model_path: str | None, as_json: bool) -> None:
    """Score every park and publish the run atomically (the previous run stays published if this one fails)."""
    rt = _runtime()
    # A bar on a terminal; plain lines on stderr otherwise; with --json only the log (stdout stays pure JSON).
    tty = sys.stderr.isatty() and not as_json
    echo = None if tty or as_json else (lambda line: click.echo(f"score: {line}", err=True))
    progress = Progress(bar=tty, echo=echo)
    try:
        run = score_run(rt.store, rt.settings, as_of=_date(as_of, "--as-of"), model_path=model_path,
                        index=_index(rt), progress=progress)
    except (ModelError, RunLocked) as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        raise click.ClickException(f"score run failed and was recorded as failed; the previous scores stay "
                                   f"published: {type(exc).__name__}: {exc}") from exc
    if as_json:
        _print_json(run)
        return
    c = run["input_counts"]
    click.echo(f"run {run['run_id']} published: {c['parks']} parks, {c['signals']:,} signals as of {run['as_of']}, "
               f"model {run['model_version']} ({run['model_hash'][:12]}) in {run['timings']['total']:.2f} s")
    click.echo("classes: " + ", ".join(f"{k} {v}" for k, v in c["classes"].items())
               + "; hotspots: " + ", ".join(f"{k} {v}" for k, v in c["hotspots"].items() if k != "none"))
    if run["previous_run_id"]:
        click.echo(f"run {run['previous_run_id']} is superseded")


@click.command("backtest")
@with_appcontext
@click.option("--as-of", "as_of", required=True, help="Score as of this date (YYYY-MM-DD).")
@click.option("--horizon", "horizon", type=click.IntRange(min=1), required=True,
              help="Days after --as-of in which later inspection findings count.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Model file (default: PARKWACHT_MODEL_PATH).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def backtest_cmd(as_of: str, horizon: int, model_path: str | None, as_json: bool) -> None:
    """Compare the model with later inspection findings, next to two baselines (nothing is published)."""
    rt = _runtime()
    try:
        result = backtest(rt.store, rt.settings, as_of=_date(as_of, "--as-of"), horizon_days=horizon,  # type: ignore[arg-type]
                          model_path=model_path, index=_index(rt))
    except (ModelError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _print_json(result)
    else:
        click.echo(format_backtest(result))


@click.command("history")
@with_appcontext
@click.argument("park_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def history_cmd(park_id: int, as_json: bool) -> None:
    """A park's score in every published run."""
    rows = park_history(_runtime().store, park_id)
    if as_json:
        _print_json({"park_id": park_id, "history": rows})
        return
    if not rows:
        click.echo(f"park {park_id} has no published scores")
    for r in rows:
        change = "" if r["change"] is None else f" ({r['change']:+.2f})"
        inc = f", {r['incremental_updates']} incremental update(s)" if r["incremental_updates"] else ""
        click.echo(f"run {r['run_id']:>4} as of {r['as_of']} [{r['status']}] model {r['model_version']}: "
                   f"{r['score']:6.2f}{change} {r['risk_class']}, hotspot {r['hotspot']}{inc}")


@click.command("rescore")
@with_appcontext
@click.argument("park_ids", type=int, nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
def rescore_cmd(park_ids: tuple[int, ...], as_json: bool) -> None:
    """Re-score PARK_IDS (and affected neighbours) inside the published run, without a full run."""
    rt = _runtime()
    result = rescore_parks(rt.store, rt.settings, park_ids, index=_index(rt), reason="command line")
    if as_json:
        _print_json(result)
        return
    if result["status"] != "updated":
        click.echo(result["message"])
        return
    click.echo(f"run {result['run_id']}: re-scored {len(result['rescored'])} park(s) in {result['seconds']:.3f} s; "
               f"changed: " + (", ".join(f"{p} {o} -> {n}" for p, (o, n) in result["changed"].items()) or "none"))
    if result.get("message"):
        click.echo(result["message"])


@click.command("runs")
@with_appcontext
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def runs_cmd(limit: int, as_json: bool) -> None:
    """Recent score runs with their status (exactly one is published)."""
    store = _runtime().store
    runs = list_runs(store, limit)
    if as_json:
        _print_json({"published": published_run(store), "runs": runs})
        return
    for r in runs:
        total = (r["timings"] or {}).get("total")
        click.echo(f"{r['id']:>5} {r['status']:<10} as of {r['as_of']} model {r['model_version']} "
                   f"({r['model_hash'][:12]})" + (f" {total:.2f} s" if total else "")
                   + (f"  error: {r['error']}" if r["error"] else ""))


def register(app: Any) -> None:
    """Add the scoring commands to a Flask app's CLI (call from ``service.cli.register_commands``)."""
    for cmd in (score_cmd, backtest_cmd, history_cmd, rescore_cmd, runs_cmd):
        app.cli.add_command(cmd)

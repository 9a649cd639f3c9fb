"""The scoring commands of ``parkwacht``: ``score``, ``runs``, ``backtest``, ``history`` and ``rescore``."""
from __future__ import annotations

import logging
import os
import sys

import click
from flask.cli import with_appcontext

from .. import logs
from ..app import runtime
from ..scoring import (
    ModelError,
    Progress,
    RunLocked,
    backtest,
    format_backtest,
    list_runs,
    park_history,
    published_run,
    rescore_parks,
    score_run,
)
from ..scoring.distributed import ENGINES, DaskEngine
from ..scoring.runs import RunRefused
from .common import parse_date
from .common import print_json as _print_json

__all__ = ["SCORING_COMMANDS", "StageLog"]

batch_log = logging.getLogger("parkwacht.batch")


class StageLog(Progress):
    """The run's stages as structured log events (``stage``, ``seconds``, ``detail``), like the server's requests."""

    def __init__(self) -> None:
        super().__init__(bar=False, echo=lambda _line: None)

    def done(self, stage: str, detail: str = "") -> None:
        super().done(stage, detail)
        logs.log_event(batch_log, "stage", stage=stage, seconds=self.timings[stage], detail=detail)


@click.command("score")
@with_appcontext
@click.option("--as-of", "as_of", help="Score as of this date (YYYY-MM-DD); default: today (PARKWACHT_TODAY pins it).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False),
              help="Model file (default: PARKWACHT_MODEL_PATH).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as one JSON object.")
@click.option("--force", is_flag=True,
              help="Publish even when no signal counts as of the date (every park would be 'laag').")
@click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
              help="local: in this process; dask: on a dask.distributed cluster (parks partitioned spatially).")
@click.option("--scheduler", help="Address of a dask scheduler (tcp://host:8786); default: a LocalCluster.")
@click.option("--dask-workers", "dask_workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Workers of the LocalCluster (without --scheduler).")
@click.option("--log-format", "log_format", type=click.Choice(logs.LOG_FORMATS), default=None,
              help="Log each stage as a text line or a JSON object (default: PARKWACHT_LOG_FORMAT).")
def score_cmd(as_of: str | None, model_path: str | None, as_json: bool, force: bool, engine: str,
              scheduler: str | None, dask_workers: int, log_format: str | None) -> None:
    """Score every park and publish the run atomically (the previous run stays published if this one fails).

    A date before the oldest signal, or a run that would read no signals, is refused unless --force.
    """
    rt = runtime()
    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    structured = bool(log_format or os.environ.get("PARKWACHT_LOG_FORMAT"))
    if structured:
        logs.configure(log_format)
        logging.getLogger("distributed").setLevel(logging.WARNING)  # the cluster's own chatter: warnings only
    # A bar on a terminal; plain lines on stderr otherwise; with --json only the log (stdout stays pure JSON).
    tty = sys.stderr.isatty() and not as_json and not structured
    echo = None if tty or as_json else (lambda line: click.echo(f"score: {line}", err=True))
    progress = StageLog() if structured else Progress(bar=tty, echo=echo)
    compute_engine = (DaskEngine(scheduler=scheduler, workers=dask_workers, store=rt.store) if engine == "dask"
                      else None)
    try:
        run = score_run(rt.store, rt.settings, as_of=parse_date(as_of, "--as-of") if as_of else None,
                        model_path=model_path, require_signals=not force,
                        index=rt.park_index(), progress=progress, engine=compute_engine)
    except (ModelError, RunLocked, RunRefused) as exc:
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
@click.option("--record", is_flag=True, help="Keep the figures for the model card (/model).")
def backtest_cmd(as_of: str, horizon: int, model_path: str | None, as_json: bool, record: bool) -> None:
    """Compare the model with later inspection findings, next to two baselines (no scores are published)."""
    rt = runtime()
    try:
        result = backtest(rt.store, rt.settings, as_of=parse_date(as_of, "--as-of"), horizon_days=horizon,
                          model_path=model_path, index=rt.park_index())
    except (ModelError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if record:
        from ..audit import cli_actor
        from ..modelcard import record_backtest

        result["backtest_id"] = record_backtest(rt.store, result, cli_actor())
    if as_json:
        _print_json(result)
    else:
        click.echo(format_backtest(result))
        if record:
            click.echo(f"recorded as backtest {result['backtest_id']}: the model card shows it")


@click.command("history")
@with_appcontext
@click.argument("park_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def history_cmd(park_id: int, as_json: bool) -> None:
    """A park's score in every published run."""
    rows = park_history(runtime().store, park_id)
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
    rt = runtime()
    result = rescore_parks(rt.store, rt.settings, park_ids, index=rt.park_index(), reason="command line")
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
    store = runtime().store
    runs = list_runs(store, limit)
    if as_json:
        _print_json({"published": published_run(store), "runs": runs})
        return
    for r in runs:
        total = (r["timings"] or {}).get("total")
        click.echo(f"{r['id']:>5} {r['status']:<10} as of {r['as_of']} model {r['model_version']} "
                   f"({r['model_hash'][:12]})" + (f" {total:.2f} s" if total else "")
                   + (f"  error: {r['error']}" if r["error"] else ""))


SCORING_COMMANDS = (score_cmd, runs_cmd, backtest_cmd, history_cmd, rescore_cmd)

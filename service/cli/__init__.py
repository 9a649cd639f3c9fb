"""The ``parkwacht`` command: a Flask CLI group, so ``flask --app wsgi ...`` works as well.

Every command lives in this package, one module per group; each is a thin click adapter over the core.
Commands that change the data (imports, score runs, the demo) are audited here, in one place, with the person
at the command line as the actor; the users, audit, purge and backtest commands audit inside the core.
"""
from __future__ import annotations

import functools
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from ..app import create_app
from .audit import audit_cli
from .db import db_cli
from .demo import demo_cmd
from .imports import import_cli
from .purge import purge_cmd
from .scoring import SCORING_COMMANDS
from .serve import serve_cmd
from .users import users_cli

__all__ = ["main", "register_commands", "AUDITED_COMMANDS"]

#: Command path -> audit action.
AUDITED_COMMANDS = {("import", "parks"): "import", ("import", "signals"): "import", ("score",): "score.run",
                    ("rescore",): "score.rescore", ("demo",): "import"}
_SKIP_PARAMS = {"as_json", "json"}


def _record(name: str, action: str, params: dict[str, Any], outcome: str) -> None:
    """Write the audit row of a command (its own transaction, after the command's)."""
    from .. import audit
    from ..app import runtime

    try:
        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        audit.record(runtime(app).store, audit.cli_actor(), action, name, outcome=outcome,
                     **{k: v for k, v in params.items() if k not in _SKIP_PARAMS and v not in (None, (), False)})
    except Exception as exc:  # a store that cannot be reached has already failed the command itself
        click.echo(f"audit: could not record {name!r}: {type(exc).__name__}", err=True)


def _audit_command(cmd: click.Command, path: tuple[str, ...], action: str) -> None:
    """Wrap ``cmd``'s callback once so that every run leaves an audit row with its options and outcome."""
    callback = cmd.callback
    if callback is None or getattr(callback, "parkwacht_audited", False):
        return

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        outcome = "failed"
        try:
            result = callback(*args, **kwargs)
            outcome = "done"
            return result
        finally:
            _record(" ".join(path), action, kwargs, outcome)

    run.parkwacht_audited = True  # type: ignore[attr-defined]
    cmd.callback = run


def _audit_commands() -> None:
    groups: dict[str, click.Command] = {c.name or "": c for c in (import_cli, demo_cmd, *SCORING_COMMANDS)}
    for path, action in AUDITED_COMMANDS.items():
        cmd = groups[path[0]]
        for part in path[1:]:
            sub = cmd.commands.get(part) if isinstance(cmd, click.Group) else None
            if sub is None:
                raise LookupError(f"no command {' '.join(path)!r} to audit")
            cmd = sub
        _audit_command(cmd, path, action)


_audit_commands()


def register_commands(app: Flask) -> None:
    """Add every ``parkwacht`` command to ``app``'s CLI."""
    for cmd in (db_cli, import_cli, demo_cmd, *SCORING_COMMANDS, users_cli, audit_cli, purge_cmd, serve_cmd):
        app.cli.add_command(cmd)


main = FlaskGroup(name="parkwacht", create_app=create_app, add_default_commands=True,
                  help="Parkwacht: risk mapping of Dutch holiday parks.")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

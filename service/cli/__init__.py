"""The ``parkwacht`` command: a Flask CLI group, so ``flask --app wsgi ...`` works as well.

Every command lives in this package, one module per group; each is a thin click adapter over the core.
"""
from __future__ import annotations

import sys

from flask import Flask
from flask.cli import FlaskGroup

from ..app import create_app
from .db import db_cli
from .demo import demo_cmd
from .imports import import_cli
from .scoring import SCORING_COMMANDS

__all__ = ["main", "register_commands"]


def register_commands(app: Flask) -> None:
    """Add every ``parkwacht`` command to ``app``'s CLI."""
    for cmd in (db_cli, import_cli, demo_cmd, *SCORING_COMMANDS):
        app.cli.add_command(cmd)


main = FlaskGroup(name="parkwacht", create_app=create_app, add_default_commands=True,
                  help="Parkwacht: risk mapping of Dutch holiday parks.")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

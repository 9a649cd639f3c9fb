"""Helpers shared by the ``parkwacht`` commands: JSON output and ``--map`` parsing."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

__all__ = ["print_json", "mapping", "parse_date"]


def print_json(payload: Any) -> None:
    """One JSON document on stdout (dates and other values as text)."""
    click.echo(json.dumps(payload, ensure_ascii=False, default=str, indent=2))


def mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--map FIELD=COLUMN`` options as a dict."""
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r}: use FIELD=COLUMN, e.g. name=naam", param_hint="--map")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def parse_date(value: str, name: str) -> dt.date:
    """A ``YYYY-MM-DD`` option value as a date, or a usage error naming the option."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD", param_hint=name) from exc

"""``parkwacht users``: add users, list them (never a token), issue and revoke tokens, set passwords.

A token or a generated password is printed once, on stdout, and never again: only hashes are stored.
Everything here is audited with the person at the command line as the actor.
"""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..app import runtime
from ..audit import cli_actor
from ..auth import passwords, tokens
from ..auth.users import UserError, add_user, get_user, list_users, set_active, set_password
from ..vocab import ROLES
from .common import print_json

__all__ = ["users_cli"]


@click.group("users")
def users_cli() -> None:
    """Users, their roles, passwords and API tokens."""


def _password(from_stdin: bool, generate: bool) -> str | None:
    if from_stdin and generate:
        raise click.UsageError("use --password-stdin or --generate-password, not both")
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise click.UsageError("no password on standard input")
        return text
    return passwords.random_password() if generate else None


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@users_cli.command("add")
@with_appcontext
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the web password from stdin's first line.")
@click.option("--generate-password", "generate", is_flag=True, help="Make a random web password and print it once.")
@click.option("--source", "sources", multiple=True, help="A signal source the token may write (repeatable).")
@click.option("--expires-days", type=click.IntRange(min=1), help="The token stops working after this many days.")
@click.option("--no-token", is_flag=True, help="No API token (a web-only user).")
@click.option("--if-absent", is_flag=True, help="Do nothing (and say so) when the user exists.")
def add_cmd(name: str, role: str, from_stdin: bool, generate: bool, sources: tuple[str, ...],
            expires_days: int | None, no_token: bool, if_absent: bool) -> None:
    """Add user NAME with ROLE; prints a new API token (and a generated password) once."""
    store = runtime().store
    if if_absent and get_user(store, name) is not None:
        click.echo(f"user {name} exists already; nothing changed (new password: parkwacht users password {name} "
                   f"--generate-password; new token: parkwacht users token {name})")
        return
    password = _password(from_stdin, generate)
    actor = cli_actor()
    try:
        add_user(store, name, role, password=password, actor=actor)
        token = None if no_token else tokens.issue_token(store, name, sources=sources, expires_days=expires_days,
                                                          actor=actor)
    except UserError as exc:
        raise _fail(exc) from exc
    click.echo(f"user {name} added with role {role}")
    if generate and password:
        click.echo(f"password: {password}")
    if token:
        click.echo(f"token:    {token}")
    if generate or token:
        click.echo("(shown once: only hashes are stored)")


@users_cli.command("list")
@with_appcontext
@click.option("--json", "as_json", is_flag=True)
def list_cmd(as_json: bool) -> None:
    """Every user with role, status, last login and number of usable tokens (never the tokens)."""
    rows = list_users(runtime().store)
    if as_json:
        print_json({"users": rows})
        return
    for u in rows:
        click.echo(f"{u['name']:<30} {u['role']:<8} {'active' if u['active'] else 'disabled':<9} "
                   f"password {'yes' if u['password'] else 'no ':<3}  tokens {u['tokens']}  "
                   f"last login {u['last_login_at'] or '-'}")


@users_cli.command("token")
@with_appcontext
@click.argument("name")
@click.option("--source", "sources", multiple=True, help="A signal source the token may write (repeatable).")
@click.option("--expires-days", type=click.IntRange(min=1), help="The token stops working after this many days.")
def token_cmd(name: str, sources: tuple[str, ...], expires_days: int | None) -> None:
    """Issue a new API token for NAME, printed once."""
    try:
        token = tokens.issue_token(runtime().store, name, sources=sources, expires_days=expires_days,
                                   actor=cli_actor())
    except UserError as exc:
        raise _fail(exc) from exc
    click.echo(f"token: {token}")
    click.echo("(shown once: only its hash is stored)")


@users_cli.command("tokens")
@with_appcontext
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
def tokens_cmd(name: str, as_json: bool) -> None:
    """NAME's tokens by prefix, sources and dates (never the token itself)."""
    try:
        rows = tokens.list_tokens(runtime().store, name)
    except UserError as exc:
        raise _fail(exc) from exc
    if as_json:
        print_json({"user": name, "tokens": rows})
        return
    for t in rows:
        state = "revoked" if t["revoked_at"] else "usable"
        click.echo(f"{t['prefix']}…  {state:<8} sources {','.join(t['sources'] or []) or '-'}  "
                   f"expires {t['expires_at'] or 'never'}  last used {t['last_used_at'] or '-'}")


@users_cli.command("revoke")
@with_appcontext
@click.argument("name")
@click.option("--prefix", help="Revoke only the token starting with this (see `parkwacht users tokens NAME`).")
def revoke_cmd(name: str, prefix: str | None) -> None:
    """Revoke NAME's API tokens (all of them, or the one with --prefix)."""
    try:
        n = tokens.revoke_tokens(runtime().store, name, prefix=prefix, actor=cli_actor())
    except UserError as exc:
        raise _fail(exc) from exc
    click.echo(f"revoked {n} token(s) of {name}")


@users_cli.command("password")
@with_appcontext
@click.argument("name")
@click.option("--password-stdin", "from_stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--generate-password", "generate", is_flag=True, help="Make a random password and print it once.")
def password_cmd(name: str, from_stdin: bool, generate: bool) -> None:
    """Set NAME's web password (their open sessions end)."""
    password = _password(from_stdin, generate)
    if password is None:
        raise click.UsageError("give --password-stdin or --generate-password")
    try:
        set_password(runtime().store, name, password, actor=cli_actor())
    except UserError as exc:
        raise _fail(exc) from exc
    click.echo(f"password of {name} changed" + (f": {password}  (shown once)" if generate else ""))


@users_cli.command("disable")
@with_appcontext
@click.argument("name")
def disable_cmd(name: str) -> None:
    """Disable NAME: no login, no token works, open sessions end."""
    try:
        set_active(runtime().store, name, False, actor=cli_actor())
    except UserError as exc:
        raise _fail(exc) from exc
    click.echo(f"user {name} disabled")


@users_cli.command("enable")
@with_appcontext
@click.argument("name")
def enable_cmd(name: str) -> None:
    """Enable NAME again (revoked tokens stay revoked)."""
    try:
        set_active(runtime().store, name, True, actor=cli_actor())
    except UserError as exc:
        raise _fail(exc) from exc
    click.echo(f"user {name} enabled")

"""`onemap user …`: add users, change passwords, roles and scopes, disable them, end their
sessions, unlock their look-ups, list them. Every change is one audit row, written in the
transaction that makes it, in the name of the operating-system account that ran the command.
"""

from __future__ import annotations

import getpass

import typer
from sqlalchemy.exc import DBAPIError

from geodata import sessions, users
from geodata.db import database_url, make_engine
from onemap.access.passwords import WeakPassword, hash_password
from onemap.domain.roles import ROLE_CAPABILITIES, ROLE_NAMES

app = typer.Typer(help="Users: add, passwd, set, disable, enable, signout, unlock, list.",
                  no_args_is_help=True)


def open_engine():
    return make_engine(database_url())


def fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def refusal(exc: DBAPIError, name: str) -> str:
    """What the database refused, in one line; plainly so when the name is taken (users and
    API tokens share names)."""
    message = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
    if "uq_app_user_username_lower" in message:
        return f"a user or token named {name!r} exists already"
    return message


def audit_change(conn, action: str, username: str, **details) -> None:
    users.audit(conn, action=action, username=f"cli:{getpass.getuser()}", object_kind="user",
                object_id=username, details=details or None)


def _hash(password: str | None) -> str:
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        return hash_password(password)
    except WeakPassword as exc:
        fail(str(exc))
        raise  # unreachable


@app.command()
def add(
    username: str,
    role: str = typer.Option(..., help="duty_officer, leader, analyst, grid_worker or admin."),
    scope: str = typer.Option(..., help="Code of the district, street, community or grid "
                              "the user sees."),
    name: str = typer.Option(None, help="Display name [the username]."),
    password: str = typer.Option(None, help="Password (asked for when not given)."),
) -> None:
    """Add a user with one role and one scope."""
    if role not in ROLE_CAPABILITIES:
        fail(f"unknown role {role!r}: choose one of {', '.join(ROLE_CAPABILITIES)}")
    password_hash = _hash(password)
    engine = open_engine()
    try:
        with engine.begin() as conn:
            users.add(conn, username=username, display_name=name or username,
                      password_hash=password_hash, role=role, scope_code=scope)
            audit_change(conn, "user_add", username, role=role, scope=scope)
    except DBAPIError as exc:
        fail(refusal(exc, username))
    finally:
        engine.dispose()
    typer.echo(f"added {username} ({ROLE_NAMES[role][0]} {role}) scoped to {scope}")


def _change(username: str, change, done: str, action: str, **details) -> None:
    """Apply `change(conn, username)` and its audit row in one transaction; fail when there is
    no such user (and write nothing)."""
    engine = open_engine()
    try:
        with engine.begin() as conn:
            found = change(conn, username)
            if found:
                audit_change(conn, action, username, **details)
    except DBAPIError as exc:
        fail(str(exc.orig).splitlines()[0] if exc.orig else str(exc))
    finally:
        engine.dispose()
    if not found:
        fail(f"no user named {username!r}")
    typer.echo(done)


@app.command()
def passwd(username: str,
           password: str = typer.Option(None, help="New password (asked for when not given).")
           ) -> None:
    """Set a user's password."""
    password_hash = _hash(password)
    _change(username, lambda conn, name: users.set_password(conn, name, password_hash),
            f"password of {username} changed; their sessions ended", "user_passwd")


@app.command("set")
def set_role_scope(
    username: str,
    role: str = typer.Option(None, help="New role."),
    scope: str = typer.Option(None, help="New scope: a district, street, community or grid code."),
) -> None:
    """Change a user's role and/or scope; their sessions end."""
    if role is None and scope is None:
        fail("give --role and/or --scope")
    if role is not None and role not in ROLE_CAPABILITIES:
        fail(f"unknown role {role!r}: choose one of {', '.join(ROLE_CAPABILITIES)}")
    _change(username, lambda conn, name: users.set_role_scope(conn, name, role, scope),
            f"{username} changed; their sessions ended", "user_set",
            **{k: v for k, v in (("role", role), ("scope", scope)) if v})


def _set_active(username: str, active: bool) -> None:
    _change(username, lambda conn, name: users.set_active(conn, name, active),
            f"{username} {'enabled' if active else 'disabled; their sessions ended'}",
            "user_enable" if active else "user_disable")


@app.command()
def disable(username: str) -> None:
    """Disable a user: their sessions end at their next request."""
    _set_active(username, False)


@app.command()
def enable(username: str) -> None:
    """Enable a disabled user again (their old sessions stay ended)."""
    _set_active(username, True)


@app.command()
def signout(username: str) -> None:
    """Sign a user out everywhere: every session they have ends at its next request."""
    ended: list[int] = []

    def end_all(conn, name):
        user = users.by_username(conn, name)
        if user:
            ended.append(sessions.end_all(conn, user.id, "signed out by an administrator"))
        return user is not None

    _change(username, end_all, f"{username} signed out everywhere", "user_signout")
    typer.echo(f"{ended[0] if ended else 0} session(s) ended")


@app.command()
def unlock(username: str) -> None:
    """Let a user whose person look-ups were locked (too many misses) look people up again."""
    _change(username, lambda conn, name: users.unlock_lookups(conn, name),
            f"person look-ups of {username} unlocked", "lookup_unlock")


@app.command("list")
def list_users() -> None:
    """List users with role, scope and last sign-in."""
    engine = open_engine()
    with engine.connect() as conn:
        rows = users.all_users(conn)
    engine.dispose()
    for r in rows:
        last = r["last_login_at"].strftime("%Y-%m-%d %H:%M") if r["last_login_at"] else "never"
        typer.echo(f"{r['username']:<16} {r['role_code']:<13} {r['scope_code']:<16} "
                   f"{(r['scope_name'] or ''):<12} {'active' if r['active'] else 'DISABLED':<9} "
                   f"last sign-in {last}")

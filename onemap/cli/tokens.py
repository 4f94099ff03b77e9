"""`onemap token …`: API tokens for machine clients (the 12345 hotline, the IoT platform, a
mini-program). Each token belongs to a user of its own, named for the system, with one role and
one scope like any user; the token opens /api/ only (Authorization: Bearer …), is kept as its
SHA-256, and every change is an audit row in the name of the operating-system account.
"""

from __future__ import annotations

from datetime import timedelta

import typer
from sqlalchemy.exc import DBAPIError

from geodata import sessions, users
from onemap.domain.roles import ROLE_CAPABILITIES, ROLE_NAMES

from .users import audit_change, fail, open_engine, refusal

app = typer.Typer(help="API tokens for machine clients: add, list, revoke.",
                  no_args_is_help=True)

# never a password anyone can type: argon2 refuses to verify it, so the form cannot sign in
NO_PASSWORD = "!token"


@app.command()
def add(
    name: str = typer.Argument(..., help="The system that holds it, e.g. hotline-12345; or an "
                               "existing user's name for their personal token (QGIS, GDAL)."),
    role: str = typer.Option(None, help="duty_officer, leader, analyst, grid_worker or admin "
                             "(a new system user; leave out for a personal token)."),
    scope: str = typer.Option(None, help="Code of the district, street, community or grid it "
                              "acts in (a new system user; leave out for a personal token)."),
    expires: int = typer.Option(365, min=1, help="Days until it expires."),
) -> None:
    """Add a token (printed once: only its hash is kept): for a new system user of ROLE in
    SCOPE, or, without them, a personal token of the existing user NAME, with their role and
    scope, for desktop clients (HTTP Basic: NAME and the token)."""
    if (role is None) != (scope is None):
        fail("give both --role and --scope for a system, or neither for a personal token")
    if role is not None and role not in ROLE_CAPABILITIES:
        fail(f"unknown role {role!r}: choose one of {', '.join(ROLE_CAPABILITIES)}")
    engine = open_engine()
    try:
        with engine.begin() as conn:
            if role is None:
                user = users.by_username(conn, name)
                if user is None or not user.active:
                    fail(f"no active user {name!r}: a system's token needs --role and --scope")
            else:
                users.add(conn, username=name, display_name=name, password_hash=NO_PASSWORD,
                          role=role, scope_code=scope)
                user = users.by_username(conn, name)
            token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES[user.role],
                                        lifetime=timedelta(days=expires))
            audit_change(conn, "token_add", name, role=user.role, scope=user.scope_code,
                         days=expires, personal=role is None)
    except DBAPIError as exc:
        fail(refusal(exc, name))
    finally:
        engine.dispose()
    kind = "personal token of" if role is None else "token"
    typer.echo(f"{kind} {name} ({ROLE_NAMES[user.role][0]} {user.role}) scoped to "
               f"{user.scope_code}, for {expires} days; send it as 'Authorization: Bearer "
               f"<token>'" + (f", or as the password of user {name} (HTTP Basic) from QGIS"
                              if role is None else "") + ":")
    typer.echo(token)


@app.command("list")
def list_tokens() -> None:
    """Every token: role, scope, created, last used, expiry, and whether it was revoked."""
    engine = open_engine()
    try:
        with engine.connect() as conn:
            rows = sessions.tokens(conn)
    finally:
        engine.dispose()
    for row in rows:
        state = f"revoked {row['ended_at']:%Y-%m-%d}" if row["ended_at"] else "live"
        typer.echo(f"{row['username']:<24} {row['role_code']:<13} {row['scope_code']:<16} "
                   f"created {row['created_at']:%Y-%m-%d}  last used "
                   f"{row['last_seen_at']:%Y-%m-%d %H:%M}  expires {row['expires_at']:%Y-%m-%d}"
                   f"  {state}")


@app.command()
def revoke(name: str) -> None:
    """Revoke a system's tokens: its next call is refused (401)."""
    engine = open_engine()
    try:
        with engine.begin() as conn:
            user = users.by_username(conn, name)
            ended = sessions.end_tokens(conn, user.id) if user else None
            if ended is not None:
                audit_change(conn, "token_revoke", name, tokens=ended)
    finally:
        engine.dispose()
    if ended is None:  # a person's sessions are `onemap user signout`'s business
        fail(f"no token named {name!r}")
    typer.echo(f"revoked {ended} token{'s' if ended != 1 else ''} of {name}")

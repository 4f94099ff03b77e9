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
    name: str = typer.Argument(..., help="The system that holds it, e.g. hotline-12345."),
    role: str = typer.Option(..., help="duty_officer, leader, analyst, grid_worker or admin."),
    scope: str = typer.Option(..., help="Code of the district, street, community or grid it "
                              "acts in."),
    expires: int = typer.Option(365, min=1, help="Days until it expires."),
) -> None:
    """Add a token (printed once: only its hash is kept)."""
    if role not in ROLE_CAPABILITIES:
        fail(f"unknown role {role!r}: choose one of {', '.join(ROLE_CAPABILITIES)}")
    engine = open_engine()
    try:
        with engine.begin() as conn:
            users.add(conn, username=name, display_name=name, password_hash=NO_PASSWORD,
                      role=role, scope_code=scope)
            user = users.by_username(conn, name)
            token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES[role],
                                        lifetime=timedelta(days=expires))
            audit_change(conn, "token_add", name, role=role, scope=scope, days=expires)
    except DBAPIError as exc:
        fail(refusal(exc, name))
    finally:
        engine.dispose()
    typer.echo(f"token {name} ({ROLE_NAMES[role][0]} {role}) scoped to {scope}, "
               f"for {expires} days; send it as 'Authorization: Bearer <token>':")
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

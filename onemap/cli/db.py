"""`onemap db …`: the embedded cluster's lifecycle and the schema's migrations."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import text

from geodata import migrate
from geodata.db import database_url, embedded_cluster, make_engine
from geodata.embedded import EmbeddedError
from geodata.integrity import check_hierarchy
from onemap.settings import get_settings

app = typer.Typer(help="The database: start, stop, migrate, reset, check, replica.",
                  no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _url() -> str:
    try:
        return database_url()
    except EmbeddedError as exc:
        _fail(str(exc))
        raise  # unreachable; keeps type checkers calm


@app.command()
def start() -> None:
    """Start the embedded PostgreSQL (initialising it the first time)."""
    settings = get_settings()
    if not settings.embedded:
        typer.echo("ONEMAP_DATABASE_URL is set: OneMap uses that server and starts nothing.")
        return
    cluster = embedded_cluster(settings)
    try:
        cluster.start()
    except EmbeddedError as exc:
        _fail(str(exc))
    typer.echo(f"running: {cluster.data_dir} (socket in {cluster.socket_dir}, port {cluster.port})")


@app.command()
def stop() -> None:
    """Stop the embedded PostgreSQL cleanly."""
    settings = get_settings()
    if not settings.embedded:
        typer.echo("ONEMAP_DATABASE_URL is set: there is no embedded server to stop.")
        return
    try:
        was_running = embedded_cluster(settings).stop()
    except EmbeddedError as exc:
        _fail(str(exc))
    typer.echo("stopped" if was_running else "not running")


@app.command()
def replica(
    folder: Path = typer.Argument(..., metavar="DIR",
                                  help="Folder of the replica (data, socket, log)."),
    port: int = typer.Option(None, "--port", help="Its port (names its socket); default: the "
                             "primary's + 1."),
) -> None:
    """Make a streaming replica of the embedded cluster in DIR (pg_basebackup -R) and start
    it, or start the one already there; prints the ONEMAP_READ_DATABASE_URL that sends the
    wall's and the cockpit's reads to it."""
    settings = get_settings()
    if not settings.embedded:
        _fail("ONEMAP_DATABASE_URL is set: make the replica with that server's own tools, then "
              "set ONEMAP_READ_DATABASE_URL to it.")
    try:
        made = embedded_cluster(settings).make_replica(
            folder, port=port if port is not None else settings.pg_port + 1)
    except EmbeddedError as exc:
        _fail(str(exc))
    typer.echo(f"replica running: {made.data_dir} (socket in {made.socket_dir}, "
               f"port {made.port}); stop it with ONEMAP_PG_DIR={made.root} "
               f"ONEMAP_PG_PORT={made.port} onemap db stop")
    typer.echo(f"ONEMAP_READ_DATABASE_URL={made.read_url()}")


@app.command()
def status() -> None:
    """Say which database OneMap uses, whether it answers, and the schema's revision."""
    settings = get_settings()
    if settings.embedded:
        state = embedded_cluster(settings).status()
        typer.echo(f"embedded cluster: {state.data_dir}")
        typer.echo(f"  initialised: {'yes' if state.initialised else 'no'}")
        typer.echo(f"  running: {'yes, pid ' + str(state.pid) if state.running else 'no'}")
        if not state.running:
            raise typer.Exit(3)
    else:
        typer.echo("external server (ONEMAP_DATABASE_URL)")
    url = database_url(start=False)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT postgis_lib_version()")).scalar()
            typer.echo(f"  PostGIS: {version}")
    except Exception as exc:  # any driver error means "not answering"; say why
        _fail(f"  not answering: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    finally:
        engine.dispose()
    current, head = migrate.current_revision(url), migrate.head_revision()
    typer.echo(f"  schema: {current or 'none'} (code expects {head})")


@app.command()
def url(
    sqlalchemy: bool = typer.Option(False, "--sqlalchemy", help="Print the SQLAlchemy form."),
) -> None:
    """Print the database URL (starts the embedded cluster if needed); `psql "$(onemap db url)"`."""
    settings = get_settings()
    address = _url()
    if not sqlalchemy:
        address = (
            embedded_cluster(settings).libpq_url()
            if settings.embedded
            else address.replace("postgresql+psycopg://", "postgresql://", 1)
        )
    typer.echo(address)


@app.command("migrate")
def migrate_command() -> None:
    """Create or upgrade OneMap's schema to the newest revision."""
    address = _url()
    migrate.upgrade(address)
    typer.echo(f"schema at revision {migrate.current_revision(address)}")


@app.command()
def reset(
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Drop OneMap's schema with ALL its data and rebuild it from the migrations."""
    address = _url()
    if not yes:
        typer.confirm("This deletes every OneMap table and row. Go on?", abort=True)
    migrate.reset(address)
    typer.echo(f"schema rebuilt at revision {migrate.current_revision(address)}")


@app.command()
def check() -> None:
    """Check the hierarchy: areas inside their parents, siblings apart, features in their grid."""
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            problems = check_hierarchy(conn)
    finally:
        engine.dispose()
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        _fail(f"{len(problems)} problem(s) found")
    typer.echo("hierarchy consistent")

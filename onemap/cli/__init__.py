"""The `onemap` command."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from onemap.settings import get_settings

from . import appraisal, db, importing, serve, simulate, tokens, users, worker
from .export import export
from . import backup as backup_commands
from . import demo as demo_command

app = typer.Typer(
    help="OneMap (一张图): a command-centre dashboard for urban grid management.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(importing.app, name="import")
app.add_typer(users.app, name="user")
app.add_typer(tokens.app, name="token")
app.add_typer(appraisal.app, name="appraisal")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("simulate")(simulate.simulate)
app.command("demo")(demo_command.demo)
app.command("export")(export)
app.command("backup")(backup_commands.backup)
app.command("restore")(backup_commands.restore)


def main() -> None:
    """Entry point of the console script: settings are checked before any command runs."""
    try:
        get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = "ONEMAP_" + "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            typer.secho(f"configuration error in {field}: {message}", fg="red", err=True)
        sys.exit(2)
    app()

"""`onemap backup FILE` and `onemap restore FILE`: the schema `onemap` to a pg_dump file and
back (geodata/backup.py), each an audit row in the name of the operating-system account."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from geodata import backup as backups
from geodata.db import database_url, embedded_cluster
from geodata.embedded import EmbeddedError
from geodata.migrate import head_revision
from onemap.settings import get_settings

from .users import fail


def _url() -> str:
    try:
        return database_url()
    except EmbeddedError as exc:
        fail(str(exc))
        raise  # unreachable


def _size(size: int) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return ""  # unreachable


def _summary(done: backups.Done) -> str:
    return (f"{done.rows:,} rows in {done.tables} tables, {_size(done.size)}, "
            f"{done.seconds:.1f} s")


def backup(
    file: Path = typer.Argument(..., help="The file to write (pg_dump's custom format)."),
    replace: bool = typer.Option(False, "--replace", help="Replace FILE if it exists (the "
                                 "old file stays whole until the new one is complete)."),
) -> None:
    """Back up OneMap's schema and rows (custom-format pg_dump, readable by its owner only)."""
    settings = get_settings()
    try:
        done = backups.backup(_url(), file, bin_dir=settings.pg_bin,
                              actor=f"cli:{getpass.getuser()}", replace=replace)
    except backups.BackupError as exc:
        fail(str(exc))
        raise  # unreachable
    typer.echo(f"backed up {done.database} (schema revision {done.revision}) to {file}: "
               f"{_summary(done)}")


def restore(
    file: Path = typer.Argument(..., help="A file `onemap backup` wrote."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask before replacing a database "
                             "that holds OneMap's schema."),
) -> None:
    """Replace OneMap's schema and rows with a backup's, in one transaction. Refused when the
    database's schema is newer than the file's. Stop the app, worker and simulator first."""
    settings = get_settings()
    url = _url()
    try:
        archive = backups.read_archive(file, settings.pg_bin)
        current = backups.target_revision(url)
        backups.check_restorable(archive, current, backups.describe(url))
    except backups.BackupError as exc:
        fail(str(exc))
        raise  # unreachable
    if not yes and (current is not None or backups.schema_tables(url)):
        typer.confirm(f"This replaces every OneMap table and row in {backups.describe(url)} "
                      f"(schema revision {current or 'unknown'}) with those in {file} "
                      f"(revision {archive.revision}). Go on?", abort=True)
    try:
        done = backups.restore(url, file, bin_dir=settings.pg_bin,
                               actor=f"cli:{getpass.getuser()}", archive=archive,
                               cluster=embedded_cluster(settings) if settings.embedded else None)
    except backups.BackupError as exc:
        fail(str(exc))
        raise  # unreachable
    typer.echo(f"restored {file} (schema revision {done.revision}) into {done.database}: "
               f"{_summary(done)}")
    head = head_revision()
    if done.revision != head:
        typer.echo(f"the schema is at revision {done.revision}; this OneMap expects {head}: "
                   "run `onemap db migrate`")

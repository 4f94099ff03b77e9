"""`onemap import KIND FILE`: load a district's own files, one transaction per file, with a
row-level error report; `onemap import --template KIND` writes a blank template."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from etl.importers import KINDS, ImportRefused, ImportResult, import_file, write_template
from etl.importers.report import format_error, write_report
from geodata.db import database_url, make_engine
from geodata.embedded import EmbeddedError

SHOWN_ERRORS = 10

app = typer.Typer(
    help="Import a district's own files: boundaries, buildings, households, persons, cameras, "
    "sensors, places, enterprises, staff (see docs/importing.md for the order).",
    invoke_without_command=True,
)

FileArg = typer.Argument(
    ..., exists=True, dir_okay=False, readable=True,
    help="GeoJSON, Shapefile (.shp or zipped), GeoPackage, CSV (UTF-8 or GBK) or XLSX.",
)
CrsOpt = typer.Option(
    None, "--crs",
    help="CRS of the coordinates: wgs84, gcj02 (AMap, Tencent), bd09 (Baidu), cgcs2000 or "
    "EPSG:<code>. Required for CSV/XLSX coordinates; overrides the file's own CRS.",
)
LayerOpt = typer.Option(None, "--layer", help="Layer of a GeoPackage holding several.")
EncodingOpt = typer.Option(
    None, "--encoding", help="Text encoding, e.g. gbk (default: UTF-8, else GB18030).")
SheetOpt = typer.Option(None, "--sheet", help="XLSX sheet, by name or number (default: the first).")
SkipOpt = typer.Option(
    False, "--skip-invalid", help="Import the valid rows and report the others (exit 0).")
ReportOpt = typer.Option(
    None, "--report", help="Error report CSV (default: <file stem>.errors.csv beside the file).")


class _RichProgress:
    """The importer's progress protocol on a rich progress bar (stderr, gone when done)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = None

    def stage(self, description: str, total: int | None = None) -> None:
        if self._task is not None:  # the previous stage is done: show it full
            done = self._progress.tasks[-1].total or 1
            self._progress.update(self._task, total=done, completed=done)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)


def default_report_path(file: Path) -> Path:
    """<stem>.errors.csv beside the file, or in the current folder when that one is read-only."""
    name = f"{file.stem}.errors.csv"
    folder = file.resolve().parent
    return folder / name if os.access(folder, os.W_OK) else Path.cwd() / name


def _fail(message: str, code: int = 2) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _summary(result: ImportResult) -> str:
    c = result.counts
    text = (f"{result.kind}: {result.rows_read} row(s) read; {c.inserted} inserted, "
            f"{c.updated} updated, {c.unchanged} unchanged")
    extra = ", ".join(f"{key} {value}" for key, value in c.extra.items())
    return f"{text} ({extra})" if extra else text


def run_import(kind: str, file: Path, *, crs: str | None, layer: str | None,
               encoding: str | None, sheet: str | None, skip_invalid: bool,
               report: Path | None, level: str | None = None) -> None:
    """Import one file in one transaction and report; exits 1 when invalid rows stopped it."""
    try:
        engine = make_engine(database_url())
    except EmbeddedError as exc:
        _fail(str(exc))
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar, \
                engine.connect() as conn:
            with conn.begin() as transaction:
                result = import_file(
                    conn, kind, file, crs=crs, layer=layer, encoding=encoding, sheet=sheet,
                    level=level, skip_invalid=skip_invalid, progress=_RichProgress(bar),
                )
                if not result.written:
                    transaction.rollback()
    except ImportRefused as exc:
        _fail(f"{file.name} refused: {exc}")
    finally:
        engine.dispose()
    for note in result.notes:
        typer.echo(f"note: {note}")
    if result.errors:
        path = write_report(report or default_report_path(file), result.errors)
        for error in result.errors[:SHOWN_ERRORS]:
            typer.echo(format_error(error), err=True)
        more = len(result.errors) - SHOWN_ERRORS
        if more > 0:
            typer.echo(f"… and {more} more", err=True)
        bad_rows = len({e.row for e in result.errors})
        typer.echo(f"{len(result.errors)} error(s) in {bad_rows} row(s); report: {path}",
                   err=True)
    if result.written:
        typer.echo(_summary(result))
        return
    typer.secho("nothing imported: fix the rows in the report, or use --skip-invalid to import "
                "the valid ones", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _command(kind: str):
    """The subcommand for one kind (all kinds share the options; boundaries adds --level)."""

    def command(
        file: Path = FileArg,
        crs: str | None = CrsOpt,
        layer: str | None = LayerOpt,
        encoding: str | None = EncodingOpt,
        sheet: str | None = SheetOpt,
        skip_invalid: bool = SkipOpt,
        report: Path | None = ReportOpt,
    ) -> None:
        run_import(kind, file, crs=crs, layer=layer, encoding=encoding, sheet=sheet,
                   skip_invalid=skip_invalid, report=report)

    command.__doc__ = f"Import {kind} (template: onemap import --template {kind})."
    return command


@app.command("boundaries")
def boundaries(
    file: Path = FileArg,
    level: str | None = typer.Option(
        None, "--level", help="district, street, community or grid: every code must be of it "
        "(default: each code's length says)."),
    crs: str | None = CrsOpt,
    layer: str | None = LayerOpt,
    encoding: str | None = EncodingOpt,
    sheet: str | None = SheetOpt,
    skip_invalid: bool = SkipOpt,
    report: Path | None = ReportOpt,
) -> None:
    """Import district/street/community/grid boundaries (parents first, or in one file)."""
    run_import("boundaries", file, crs=crs, layer=layer, encoding=encoding, sheet=sheet,
               skip_invalid=skip_invalid, report=report, level=level)


for _kind in KINDS:
    if _kind != "boundaries":
        app.command(_kind)(_command(_kind))


@app.callback()
def main(
    ctx: typer.Context,
    template: str | None = typer.Option(
        None, "--template", metavar="KIND", help=f"Write a blank template: {', '.join(KINDS)}."),
    output: Path | None = typer.Option(
        None, "--output", help="Where --template writes (default: <kind>-template.csv)."),
) -> None:
    """Import a district's files; `--template KIND` writes a blank CSV template instead."""
    if template is not None:
        if template not in KINDS:
            _fail(f"unknown kind {template!r}; kinds: {', '.join(KINDS)}")
        path = write_template(template, output or Path(f"{template}-template.csv"))
        typer.echo(f"template written: {path}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)

"""`onemap demo`: build a realistic demo district and load it in one transaction."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import text

from etl.demo.boundary import read_boundary
from etl.demo.load import NotEmpty, check_empty, existing_boundaries
from etl.demo.pipeline import build_and_load
from etl.demo.scales import SCALES
from etl.importers.crs import CrsError
from etl.importers.readers import ReadError
from geodata.db import database_url, make_engine

ZONE = ZoneInfo("Asia/Shanghai")


def demo(
    scale: str = typer.Option("demo", help="demo (~100 k people) or district (Shenhe-sized, ~800 k)."),
    boundary: Path = typer.Option(None, help="District outline (any vector format); default: "
                                  "geodata/boundaries/shenhe.geojson."),
    crs: str = typer.Option(None, help="CRS of the boundary's coordinates: wgs84, gcj02, bd09 "
                            "or EPSG:<code> (when the file has none or claims the wrong one)."),
    seed: int = typer.Option(2017, help="Random seed: the same seed builds the same district."),
    code: str = typer.Option(None, help="6-digit district code if the file gives none [210103]."),
    name: str = typer.Option(None, help="District name if the file gives none [沈河区]."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing (and succeed) when the "
                                  "database already holds a district's buildings: for `make run`."),
) -> None:
    """Build a whole demo district (boundaries to events) and load it in one transaction."""
    if scale not in SCALES:
        raise typer.BadParameter(f"choose one of {', '.join(SCALES)}", param_hint="--scale")
    engine = make_engine(database_url())
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            if if_empty and conn.execute(text("SELECT EXISTS (SELECT 1 FROM onemap.building)")).scalar():
                typer.echo("the database already holds a district: nothing to do")
                return
            check_empty(conn)
            given = existing_boundaries(conn)
        if "district" in given:
            if boundary is not None:
                raise NotEmpty("a district boundary is already loaded; drop --boundary to "
                               "fill it, or reset the database first")
            row = given["district"].iloc[0]
            outline, code, name = row.geometry, row["code"], row["name"]
        else:
            read = read_boundary(boundary, crs)
            outline = read.geometry
            code = code or read.code or "210103"
            name = name or read.name or "沈河区"
        if not (len(code) == 6 and code.isdigit()):
            raise typer.BadParameter(f"{code!r} is not a 6-digit district code", param_hint="--code")
        now = datetime.now(ZONE).replace(microsecond=0)
        with _progress() as bar:
            task = bar.add_task("generating", total=8)

            def step(what: str) -> None:
                bar.update(task, description=f"generating: {what}", advance=1)

            loading = {}

            def loaded(table: str, done: int, total: int) -> None:
                if table not in loading:
                    loading[table] = bar.add_task(f"loading {table}", total=max(total, 1))
                bar.update(loading[table], completed=done)

            built = build_and_load(engine, outline, code=code, name=name, scale=SCALES[scale],
                                   seed=seed, now=now, given=given, generating=step,
                                   loading=loaded)
            bar.update(task, completed=8, description="generated")
        written, accounts, problems = built.written, built.accounts, built.problems
    except (NotEmpty, ReadError, CrsError, ValueError) as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    for table, rows in written.items():
        typer.echo(f"{table:>22} {rows:>10,}")
    if problems:
        for problem in problems[:20]:
            typer.echo(str(problem), err=True)
        typer.secho(f"{len(problems)} hierarchy problem(s) after loading", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"{name} ({code}) built at scale {scale} with seed {seed} in "
               f"{time.perf_counter() - started:.0f} s; hierarchy consistent")
    if accounts:
        typer.echo("demo users (shown once; change them with `onemap user passwd`):")
        for username, role, scope, password in accounts:
            typer.echo(f"  {username:<11} {role:<13} scope {scope:<16} password {password}")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), transient=False)

"""`onemap appraisal …`: the appraisal's weight schemes and frozen months (绩效考评).

A change of weights is a new scheme version; freezing a month scores it by the newest scheme
and keeps the result for good (the appraisal page shows frozen months by default). Each change
is an audit row in the name of the operating-system account.
"""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, timezone

import typer

from geodata import appraisal as stored
from geodata import users
from onemap.domain import appraisal

from .users import fail, open_engine

app = typer.Typer(help="The appraisal: weight schemes and frozen months.", no_args_is_help=True)


def _month(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        fail(f"month {value!r}: write it as YYYY-MM, e.g. 2026-11")
        raise  # unreachable


def _district(conn) -> str:
    code = conn.exec_driver_sql("SELECT min(code) FROM onemap.district").scalar()
    if code is None:
        fail("no district loaded: nothing to appraise")
    return code


@app.command()
def schemes() -> None:
    """List the weight schemes, newest first."""
    with open_engine().connect() as conn:
        for scheme in stored.schemes(conn):
            weights = ", ".join(f"{k} {w:g}" for k, w in scheme.weights.items())
            typer.echo(f"v{scheme.version}: {weights}  {scheme.note}")


@app.command()
def weights(
    pairs: list[str] = typer.Argument(..., help="component=weight, e.g. "
                                      "on_time_closure_rate=0.5 closure_rate=0.3 …"),
    note: str = typer.Option("", help="Why the weights change (kept with the scheme)."),
) -> None:
    """Add a scheme with these weights (they must add up to 1); earlier months keep theirs."""
    asked = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            asked[key.strip()] = float(value)
        except ValueError:
            fail(f"{pair!r}: write component=weight, e.g. closure_rate=0.3")
    try:
        with open_engine().begin() as conn:
            scheme = stored.add_scheme(conn, asked, note, f"cli:{getpass.getuser()}")
            users.audit(conn, action="appraisal_scheme", username=f"cli:{getpass.getuser()}",
                        object_kind="appraisal_scheme", object_id=str(scheme.version),
                        details={"weights": scheme.weights, "note": note})
    except appraisal.BadWeights as exc:
        fail(str(exc))
    typer.echo(f"scheme v{scheme.version} added: months frozen from now on use it")


@app.command()
def freeze(
    month: str = typer.Argument(..., help="The month, YYYY-MM."),
) -> None:
    """Score the month by the newest scheme and keep it, never to change."""
    first = _month(month)
    try:
        with open_engine().begin() as conn:
            written = stored.freeze(conn, first, _district(conn), datetime.now(timezone.utc),
                                    f"cli:{getpass.getuser()}")
            users.audit(conn, action="appraisal_freeze", username=f"cli:{getpass.getuser()}",
                        object_kind="appraisal_month", object_id=f"{first:%Y-%m}",
                        details=written)
    except stored.AlreadyFrozen as exc:
        fail(str(exc))
    typer.echo(f"{first:%Y-%m} frozen: " + json.dumps(written, ensure_ascii=False))

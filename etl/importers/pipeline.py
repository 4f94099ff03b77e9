"""One import from file to database: read → match headers → geometry and CRS → row checks →
stage → database checks → upsert, inside the caller's transaction.

With any invalid row and no skip_invalid, nothing is written (the write step does not run, or
is rolled back to its savepoint if the database refused rows while writing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from geodata.building_stats import AFFECTS_STATS, refresh_building_stats
from geodata.pinyin import fill_name_pinyin
from onemap.domain.vocab import ADMIN_LEVELS

from .crs import parse_crs
from .errors import ImportRefused
from .geometry import locate
from .kinds import LOADERS
from .kinds.common import Context
from .load import Counts, copy_rows, create_stage, drop_invalid, drop_stage, stage_frame
from .progress import NoProgress, Progress
from .readers import Table, read_table
from .templates import Template, english_names, get_template, match_headers
from .validate import ErrorLog, RowError, parse_frame


@dataclass
class ImportResult:
    """What an import found and did."""

    kind: str
    path: Path
    rows_read: int
    errors: list[RowError]
    counts: Counts = field(default_factory=Counts)
    written: bool = False  # the rows went in (the caller still has to commit)
    notes: list[str] = field(default_factory=list)


def import_file(
    conn: Connection,
    kind: str,
    path: Path | str,
    *,
    crs: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    level: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one file of `kind` in `conn`'s transaction; ImportRefused when it cannot start."""
    progress = progress or NoProgress()
    path = Path(path)
    template = get_template(kind)
    declared = parse_crs(crs) if crs else None
    if level is not None:
        level = _level(level)

    progress.stage(f"reading {path.name}")
    table = read_table(path, layer=layer, encoding=encoding, sheet=sheet)
    frame, labels, notes = _columns(table, template, path.name)
    log = ErrorLog(template, labels)
    ctx = Context(template, log, pd.Series(table.rows, index=frame.index), set(frame.columns),
                  progress, raw=frame, level=level, notes=notes)

    progress.stage("validating", total=len(frame))
    located = locate(table, frame, template, log, ctx.present, declared, path.name)
    if located is not None:
        ctx.geometry_field = located.field
        if located.note:
            ctx.notes.append(located.note)
        if located.source_crs and located.source_crs.kind in ("gcj02", "bd09"):
            ctx.notes.append(f"coordinates converted from {located.source_crs.label} to WGS84")
    parsed = parse_frame(frame, table.rows, template, log, ctx.present)
    loader = LOADERS[kind]
    staged = loader.prepare(ctx, parsed, located.geoms if located is not None else None)
    # rows with errors are staged too, so the database checks can add their own reasons (the
    # report then lists every problem of a row at once); they are dropped before writing
    staged.insert(0, "row", ctx.rows.to_numpy())
    staged["valid"] = ~ctx.rows.isin(log.bad_rows).to_numpy()
    progress.advance(len(frame))

    result = ImportResult(kind, path, len(frame), [], notes=ctx.notes)
    progress.stage("loading", total=len(staged))
    # the staging table lives in this transaction: an exception's rollback takes it away too
    create_stage(conn, loader.stage)
    copy_rows(conn, stage_frame(staged), progress)
    loader.check(ctx, conn)
    drop_invalid(conn)
    if not log.errors or skip_invalid:
        savepoint = conn.begin_nested()
        result.counts = loader.write(ctx, conn)
        if log.errors and not skip_invalid:
            savepoint.rollback()  # the database refused rows while writing
        else:
            savepoint.commit()
            result.written = True
            if kind in AFFECTS_STATS:
                refresh_building_stats(conn)
            if kind == "persons":
                fill_name_pinyin(conn)  # the search box's pinyin for new names
    drop_stage(conn)
    result.errors = log.sorted()
    return result


def _columns(table: Table, template: Template, what: str) -> tuple[pd.DataFrame, dict, list]:
    """The frame renamed to English column names, the headers as the file wrote them, notes."""
    match = match_headers(list(table.frame.columns), template)
    if match.clashes:
        header, other, name = match.clashes[0]
        raise ImportRefused(f"{what}: columns {other!r} and {header!r} both mean {name}")
    missing = match.missing(template)
    if missing:
        names = ", ".join(f"{c.zh} ({c.name})" for c in missing)
        raise ImportRefused(
            f"{what} lacks required column(s): {names}; "
            f"`onemap import --template {template.kind}` writes a blank template"
        )
    frame = table.frame[list(match.columns)].rename(columns=match.columns)
    notes = []
    if match.unknown:
        notes.append("ignored column(s): " + ", ".join(match.unknown))
    if table.tabular and len(frame) and _is_english_header(frame.iloc[0], template):
        # the template's second header row (English names): not data
        keep = frame.index[1:]
        frame = frame.loc[keep]
        table.rows = table.rows[1:]
        if table.geometry is not None:
            table.geometry = table.geometry.loc[keep]
    frame = frame.reset_index(drop=True)
    if table.geometry is not None:
        table.geometry = table.geometry.reset_index(drop=True)
    labels = {name: header for header, name in match.columns.items()}
    return frame, labels, notes


def _is_english_header(first: pd.Series, template: Template) -> bool:
    """Whether a row holds nothing but the columns' English names."""
    english = english_names(template)
    cells = {name: value for name, value in first.items() if value is not None}
    return len(cells) >= 2 and all(
        str(value).lower() in english[name] for name, value in cells.items()
    )


def _level(value: str) -> str:
    """A --level value: district/street/community/grid or 区/街道/社区/网格."""
    for code, (zh, en) in ADMIN_LEVELS.items():
        if value.strip().lower() in (code, zh, en):
            return code
    raise ImportRefused(f"unknown level {value!r}: district, street, community or grid "
                        "(区, 街道, 社区, 网格)")

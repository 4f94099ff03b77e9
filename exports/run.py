"""One export of one layer: the page, the CLI and the API all call `export_layer`.

It reads the layer in the requester's scope (row-level security, their session), keeps
personal fields out for roles that may not look people up and masks them for those that may
(the person API's masks: nobody's export unmasks), puts times in Asia/Shanghai and the
coordinates in the chosen system, writes the file beside its final name and moves it there
only when whole, and writes one audit row (layer, filters, format, coordinate system, rows) in
the same transaction as the read. A failure leaves no file and no audit row of an export that
did not happen; when the folder's disk is full or read-only, the error (FolderUnwritable) names
the folder and says which.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geodata import users
from layers.rows import Filters, read_rows
from geodata.scope import Scope, scoped
from layers.base import Source
from layers.registry import SOURCES
from onemap.domain import masking
from onemap.domain.roles import Capability, can

from .crs import OutputCrs, output_crs
from .formats import FORMATS, Columns, cut_short

CHINA = "Asia/Shanghai"
MASKS = {"name": masking.mask_name, "phone": masking.mask_phone,
         "id_number": masking.mask_id, "passport": masking.mask_passport}


class ExportRefused(PermissionError):
    """The requester's role may not export this layer."""


class BadExport(ValueError):
    """An unknown layer, format or header choice; the message lists the choices."""


class FolderUnwritable(OSError):
    """The folder an export writes to is full or read-only; the message names it and says
    which, in both languages (what the requester reads and what an administrator must fix)."""


# less than this left on the disk after a write failed without an errno (GDAL's, SQLite's
# "database or disk is full"): it failed for want of space
NEARLY_FULL = 1 << 20


def _errnos(error: BaseException) -> set:
    found, current = set(), error
    for _ in range(10):
        if current is None:
            break
        found.add(getattr(current, "errno", None))
        current = current.__cause__ or current.__context__
    return found


def unwritable(folder: Path, error: BaseException) -> FolderUnwritable | None:
    """FolderUnwritable when `error`, raised writing into `folder`, came of its disk being
    full or read-only; None for any other failure."""
    if not (isinstance(error, OSError) or type(error).__module__.startswith("pyogrio")):
        return None  # a refusal, a database error: not the disk's doing
    codes = _errnos(error)
    existing = Path(folder)
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        disk = os.statvfs(existing)
    except OSError:
        return None
    if errno.EROFS in codes or disk.f_flag & os.ST_RDONLY:
        return FolderUnwritable(errno.EROFS, f"导出目录只读 · the export folder {folder} is "
                                "read-only: make it writable, then export again")
    free = (disk.f_bfree if os.geteuid() == 0 else disk.f_bavail) * disk.f_frsize
    if codes & {errno.ENOSPC, errno.EDQUOT} or free < NEARLY_FULL:
        return FolderUnwritable(errno.ENOSPC, f"导出目录已满 · the export folder {folder} is "
                                "full (no space left on its disk): free space there, then "
                                "export again")
    return None


@dataclass(frozen=True)
class ExportRequest:
    """What to export: a layer of layers/registry.SOURCES, a format of exports/formats.FORMATS,
    a coordinate system (exports/crs.output_crs), filters, and the column names: `zh` the
    Chinese titles, `en` the ASCII field names."""

    layer: str
    format: str
    crs: str = "wgs84"
    filters: Filters = field(default_factory=Filters)
    headers: str = "zh"

    def source(self) -> Source:
        try:
            return SOURCES[self.layer]
        except KeyError:
            raise BadExport(f"unknown layer {self.layer!r}: choose one of "
                            f"{', '.join(SOURCES)}") from None


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    bytes: int
    crs: OutputCrs
    personal: str  # masked | omitted | none


def may_export(role: str, source: Source) -> bool:
    """Whether `role` may take `source` out at all."""
    return can(role, Capability.EXPORT) and (
        source.capability is None or can(role, Capability(source.capability)))


def file_name(source: Source, request: ExportRequest, crs: OutputCrs) -> str:
    """e.g. events_GCJ-02.gpkg: the coordinate system in the name, GCJ-02 and BD-09 above all
    (no EPSG code says it inside the file)."""
    return f"{source.name}_{crs.tag}.{FORMATS[request.format].extension}"


def _check(request: ExportRequest) -> Source:
    source = request.source()
    if request.format not in FORMATS:
        raise BadExport(f"unknown format {request.format!r}: choose one of {', '.join(FORMATS)}")
    if request.headers not in ("zh", "en"):
        raise BadExport("headers must be zh (Chinese titles) or en (ASCII field names)")
    return source


def prepare_rows(frame, source: Source, role: str) -> tuple[pd.DataFrame, list[str], str]:
    """Personal fields masked or dropped, times in China's zone; the fields kept."""
    personal = [f for f in source.fields if f.personal]
    if personal and not can(role, Capability.LOOKUP_PERSON):
        frame = frame.drop(columns=[f.name for f in personal])
        kept, treatment = [f.name for f in source.fields if not f.personal], "omitted"
    else:
        for f in personal:
            frame[f.name] = frame[f.name].map(MASKS[f.mask], na_action="ignore")
        kept, treatment = [f.name for f in source.fields], "masked" if personal else "none"
    for f in source.fields:
        if f.kind == "time" and f.name in frame:
            frame[f.name] = pd.to_datetime(frame[f.name], utc=True).dt.tz_convert(CHINA)
    return frame, kept, treatment


def export_layer(scope: Scope, role: str, request: ExportRequest, out: Path, *,
                 ip: str | None = None, user_agent: str | None = None,
                 via: str = "page") -> ExportResult:
    """Write `request`'s layer to `out` (a file, or a folder to name it in: file_name) as
    `scope`'s session sees it, audited as that session.
    ExportRefused when the role may not; BadExport, BadFilter (layers.rows),
    UnknownCrs or FormatRefused (with what to choose instead) for a request that cannot be;
    FolderUnwritable when the folder's disk is full or read-only."""
    source = _check(request)
    if not may_export(role, source):
        with scoped(scope) as conn:
            users.audit_session(conn, action="refused", object_kind="layer",
                                object_id=source.name, ip=ip, user_agent=user_agent,
                                details={"via": via, "format": request.format})
        raise ExportRefused(f"role {role} may not export {source.name}")
    filters = request.filters
    if source.boundary and not filters.unit and scope.code:
        # boundaries carry no scope policy: the requester's own unit, and those above it
        filters = Filters(**{**filters.__dict__, "unit": scope.code})
    out = Path(out)
    with scoped(scope) as conn:
        frame = read_rows(conn, source, filters)
        # the middle of the data's extent picks a Gauss-Krüger zone (gk): cheap at any size
        west, _s, east, _n = frame.total_bounds
        longitude = None if frame.empty else float((west + east) / 2)
        crs = output_crs(request.crs, longitude)
        frame, kept, treatment = prepare_rows(frame, source, role)
        frame = crs.apply(frame)
        if out.is_dir():
            out = out / file_name(source, request, crs)
        # hidden, and with the format's own extension (GDAL picks some behaviour by it)
        partial = out.with_name(f".{out.stem}.partial{out.suffix}")
        names = Columns(tuple((name, name if request.headers == "en"
                               else source.field(name).title_zh) for name in kept))
        try:
            FORMATS[request.format].write(frame, source, crs, partial, names)
            if cut_short(request.format, partial):
                raise OSError(errno.EIO, f"{out.name} was cut short while being written")
            users.audit_session(
                conn, action="export", object_kind="layer", object_id=source.name, ip=ip,
                user_agent=user_agent,
                details={"via": via, "format": request.format, "crs": crs.crs.name,
                         "rows": len(frame), "filters": filters.describe(),
                         "personal": treatment, "file": out.name})
        except BaseException as exc:
            trouble = unwritable(partial.parent, exc)  # before the partial file frees space
            with contextlib.suppress(OSError):  # a read-only disk refuses even a missing file
                partial.unlink(missing_ok=True)
            if trouble is not None:
                raise trouble from exc
            raise
    os.replace(partial, out)  # committed: the file appears whole or not at all
    return ExportResult(out, len(frame), out.stat().st_size, crs, treatment)

"""`onemap export LAYER …`: a layer to a file, as a named user sees it.

The same code path as the export page (exports/run.py): the user's scope through a session
of their own opened for this one export (row-level security), their role's masking, one
audit row naming them, `via` cli. The session ends when the export does.
"""

from __future__ import annotations

import getpass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from shapely import wkt
from shapely.errors import ShapelyError

from exports.crs import UnknownCrs
from exports.formats import FORMATS, FormatRefused
from exports.run import CHINA, BadExport, ExportRefused, ExportRequest, FolderUnwritable, \
    export_layer
from geodata import sessions, users
from layers.rows import BadFilter, Filters
from geodata.scope import Scope
from layers.registry import SOURCES
from onemap.domain.roles import ROLE_CAPABILITIES

from .users import fail, open_engine

# long enough for the largest export, short enough that a killed command leaves no lasting key
SESSION_HOURS = 2


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        fail(f"--bbox {text!r}: give W,S,E,N in WGS84 degrees, e.g. 123.40,41.78,123.47,41.82")
    if not (west < east and south < north):
        fail(f"--bbox {text!r}: west must be below east and south below north")
    return west, south, east, north


def _polygon(text: str | None) -> str | None:
    if text is None:
        return None
    source = Path(text)
    value = source.read_text(encoding="utf-8") if source.is_file() else text
    try:
        shape = wkt.loads(value)
    except ShapelyError:
        fail("--polygon: give a polygon as WKT in WGS84, or a file holding one")
    if shape.geom_type not in ("Polygon", "MultiPolygon") or not shape.is_valid:
        fail(f"--polygon: a valid Polygon or MultiPolygon is needed, got a {shape.geom_type}"
             + ("" if shape.is_valid else " that is not valid"))
    return shape.wkt


def _time(text: str | None, option: str) -> datetime | None:
    """An ISO date or time; without an offset it is China's time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r}: give a date or time, e.g. 2026-11-01 or 2026-11-01T08:30")
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(CHINA))


def _equals(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--where {pair!r}: give FIELD=VALUE, e.g. --where state=closed")
        found[name.strip()] = value.strip()
    return found


def export(
    layer: str = typer.Argument(..., help=f"One of: {', '.join(SOURCES)}."),
    format: str = typer.Option(..., "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    out: Path = typer.Option(Path("."), help="The file to write, or a folder to write "
                             "LAYER_CRS.EXT in (e.g. events_GCJ-02.gpkg)."),
    as_user: str = typer.Option(..., "--as", help="The user whose scope and masking apply "
                                "(and whom the audit log names)."),
    unit: str = typer.Option(None, help="Only this district, street, community or grid code."),
    bbox: str = typer.Option(None, help="Only inside W,S,E,N (WGS84 degrees)."),
    polygon: str = typer.Option(None, help="Only inside this polygon: WKT (WGS84) or a file."),
    since: str = typer.Option(None, help="From this date or time (China's, unless an offset "
                              "is given), on the layer's time field."),
    until: str = typer.Option(None, help="Before this date or time."),
    where: list[str] = typer.Option([], help="FIELD=VALUE, repeatable (not personal fields)."),
    crs: str = typer.Option("wgs84", help="wgs84, cgcs2000, gcj02, bd09, gk (the data's "
                            "Gauss-Krüger zone) or EPSG:4534…4554."),
    headers: str = typer.Option("zh", help="Column names: zh (Chinese titles) or en (ASCII)."),
) -> None:
    """Export a layer to a file (GeoPackage, zipped Shapefile, GeoJSON, CSV, XLSX, KML,
    FlatGeobuf) in the user's scope, masked for their role, audited."""
    request = ExportRequest(layer, format, crs, Filters(
        unit=unit, bbox=_bbox(bbox), polygon=_polygon(polygon),
        since=_time(since, "--since"), until=_time(until, "--until"), equals=_equals(where)),
        headers)
    engine = open_engine()
    try:
        with engine.begin() as conn:
            user = users.by_username(conn, as_user)
            if user is None or not user.active:
                fail(f"--as {as_user!r}: no active user of that name")
            token = sessions.open_token(conn, user, lifetime=timedelta(hours=SESSION_HOURS),
                                        capabilities=ROLE_CAPABILITIES.get(user.role, ()))
        try:
            result = export_layer(Scope(user.scope_code, session=token), user.role, request,
                                  out, user_agent=f"onemap export ({getpass.getuser()})",
                                  via="cli")
        finally:
            with engine.begin() as conn:
                sessions.end(conn, token, "export finished")
    except (BadExport, BadFilter, UnknownCrs, FormatRefused, FolderUnwritable) as exc:
        fail(str(exc))
    except ExportRefused:
        fail(f"{as_user} ({user.role}) may not export {layer}: exporting needs the export "
             "right" + (" and the right to look people up" if SOURCES[layer].capability else ""))
    finally:
        engine.dispose()
    rows = f"{result.rows:,} row{'' if result.rows == 1 else 's'}"
    typer.echo(f"{rows} of {layer} -> {result.path} ({result.bytes:,} bytes, "
               f"{result.crs.crs.name}; personal fields {result.personal})")


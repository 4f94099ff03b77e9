"""What the export page's form sends, read without trusting it: the layers the role may export,
a unit within the scope, the drawn area, the dates, the attribute conditions, the format and
coordinate system. Each problem is a BadForm whose message (Chinese, then English) says what
to change; nothing here queues anything (callbacks/export.py does)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.ops import unary_union

from exports.crs import UnknownCrs, output_crs
from exports.formats import FORMATS
from exports.run import may_export
from layers.base import Source
from layers.registry import SOURCES
from layers.rows import Filters
from onemap.domain.coordinates import gcj02_to_wgs84, transform_geometry

CHINA = ZoneInfo("Asia/Shanghai")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_VALUE_CHARS = 200
MAX_CONDITIONS = 10
MAX_DRAWN_VERTICES = 2000


class BadForm(ValueError):
    """A choice the export cannot take; the message says which and what to do."""


@dataclass(frozen=True)
class Asked:
    """One submission: a job per layer with the same filters and output."""

    layers: list[str]
    filters: Filters
    format: str
    crs: str
    headers: str


def layers_of(value, role: str) -> list[str]:
    """The chosen layers, each one the role may export, in the registry's order."""
    chosen = set(value) if isinstance(value, list) else set()
    if not chosen:
        raise BadForm("请至少选择一个图层 · choose at least one layer")
    unknown = [name for name in chosen if name not in SOURCES
               or not may_export(role, SOURCES[name])]
    if unknown:
        raise BadForm("所选图层不可导出 · a chosen layer cannot be exported by your role")
    return [name for name in SOURCES if name in chosen]


def unit_of(value, scope_code: str) -> str | None:
    """The unit filter: None for the whole scope, else a code inside it."""
    if value in (None, "", scope_code):
        return None
    if not isinstance(value, str) or not value.isdigit() or not value.startswith(scope_code):
        raise BadForm("所选单位不在您的辖区内 · the unit is outside your scope")
    return value


def drawn_area(geojson, shifted: bool) -> str | None:
    """The drawn polygons and rectangles as one WKT (WGS84); None when nothing is drawn.
    `shifted`: the map shows a GCJ-02 basemap, so what was drawn is in GCJ-02."""
    features = (geojson or {}).get("features") if isinstance(geojson, dict) else None
    if not features:
        return None
    try:
        shapes = [shape(feature["geometry"]) for feature in features]
    except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
        raise BadForm("绘制的区域无法读取，请清除后重画 · the drawn area cannot be read: "
                      "clear it and draw again") from None
    polygons = [s for s in shapes if s.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        return None
    area = shapely.make_valid(unary_union(polygons))
    if area.geom_type == "GeometryCollection":
        area = unary_union([g for g in area.geoms if g.geom_type in ("Polygon",
                                                                      "MultiPolygon")])
    if area.is_empty or shapely.get_num_coordinates(area) > MAX_DRAWN_VERTICES:
        raise BadForm("绘制的区域无效或过于复杂 · the drawn area is empty or too complex")
    if shifted:
        area = transform_geometry(area, gcj02_to_wgs84)
    return area.wkt


def _day(value, label: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadForm(f"{label}日期无效 · {label}: a date YYYY-MM-DD is expected") from None


def time_range(since, until) -> tuple[datetime | None, datetime | None]:
    """From the first day's start to the end of the last day (China's time; `until` of the
    filter is exclusive, the page's 'to' is the last day included)."""
    first, last = _day(since, "开始 from"), _day(until, "结束 to")
    if first and last and last < first:
        raise BadForm("结束日期早于开始日期 · the last day is before the first")
    start = datetime.combine(first, time(), CHINA) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), CHINA) if last else None
    return start, end


def conditions_of(value) -> dict[str, str]:
    """The attribute conditions the page keeps as [[field, value], …]."""
    found: dict[str, str] = {}
    for pair in value if isinstance(value, list) else []:
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(part, str) for part in pair)):
            raise BadForm("属性条件无法读取 · an attribute condition cannot be read")
        found[pair[0]] = pair[1][:MAX_VALUE_CHARS]
    if len(found) > MAX_CONDITIONS:
        raise BadForm(f"属性条件最多 {MAX_CONDITIONS} 个 · at most {MAX_CONDITIONS} conditions")
    return found


def filterable_fields(sources: list[Source]) -> list[tuple[str, str]]:
    """(field, title) of the non-personal fields every one of `sources` has; none when an
    aggregate (the heat grid) is among them: it is filtered by area and time only."""
    if not sources or any(source.aggregate is not None for source in sources):
        return []
    first, *others = sources
    names = [f for f in first.fields if not f.personal
             and all(any(g.name == f.name and not g.personal for g in o.fields)
                     for o in others)]
    return [(f.name, f"{f.title_zh} {f.name}") for f in names]


def check_layers(layers: list[str], filters: Filters) -> None:
    """Each layer can take the filters: a time field for a time range, the condition fields."""
    sources = [SOURCES[name] for name in layers]
    if filters.since or filters.until:
        untimed = [s.title_zh for s in sources if s.time_field is None]
        if untimed:
            raise BadForm(f"{'、'.join(untimed)}没有时间字段，请取消时间范围或不选它们 · "
                          "these layers have no time to filter on: clear the dates or "
                          "leave them out")
    if filters.equals:
        allowed = {name for name, _title in filterable_fields(sources)}
        missing = [name for name in filters.equals if name not in allowed]
        if missing:
            raise BadForm(f"所选图层不都有字段 {'、'.join(missing)} · not every chosen layer "
                          "has these fields (or they are personal)")


def output_of(format_value, crs_value, headers) -> tuple[str, str, str]:
    if format_value not in FORMATS:
        raise BadForm("请选择文件格式 · choose a file format")
    if headers not in ("zh", "en"):
        raise BadForm("请选择表头 · choose the column names")
    if not isinstance(crs_value, str):
        raise BadForm("请选择坐标系 · choose a coordinate system")
    if crs_value != "gk":  # gk's zone comes from the data, when the job runs
        try:
            crs = output_crs(crs_value)
        except UnknownCrs as exc:
            raise BadForm(str(exc)) from None
        if format_value == "kml" and crs.epsg != 4326:
            raise BadForm("KML 只用 WGS84 坐标 · KML is WGS84 only: choose WGS84, or "
                          "GeoPackage for other coordinate systems")
    elif format_value == "kml":
        raise BadForm("KML 只用 WGS84 坐标 · KML is WGS84 only")
    return format_value, crs_value, headers


def read_form(*, role: str, scope_code: str, layers, unit, drawn, since, until, conditions,
              format_value, crs_value, headers, shifted: bool) -> Asked:
    """The whole submission checked; BadForm at the first problem."""
    chosen = layers_of(layers, role)
    start, end = time_range(since, until)
    filters = Filters(unit=unit_of(unit, scope_code), polygon=drawn_area(drawn, shifted),
                      since=start, until=end, equals=conditions_of(conditions))
    check_layers(chosen, filters)
    return Asked(chosen, filters, *output_of(format_value, crs_value, headers))

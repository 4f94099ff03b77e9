"""Where a row's geometry comes from (the file's own, 经度/纬度 columns or a WKT column), its
conversion to WGS84, and the shape checks that need no database (type, emptiness, coordinates).

Validity (self-intersections) is checked in the database, where ST_MakeValid repairs what it can.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon

from .crs import SourceCrs, choose, from_file, to_wgs84_geometries
from .errors import ImportRefused
from .readers import Table
from .templates import Template
from .validate import ErrorLog, parse_column


class GeometryError(ImportRefused):
    """The file has no usable geometry source (not a row-level problem)."""


@dataclass
class Located:
    """WGS84 geometries per frame row (None where missing) and the field errors are filed under."""

    geoms: gpd.GeoSeries
    field: str
    source_crs: SourceCrs | None
    note: str | None = None


def _from_columns(table: Table, frame: pd.DataFrame, template: Template, log: ErrorLog,
                  present: set[str]) -> tuple[np.ndarray, str]:
    """Geometries from 经度/纬度 (where both are given) or the WKT column; errors logged."""
    n = len(frame)
    geoms = np.full(n, None, dtype=object)
    field = "wkt"
    if "lon" in present and "lat" in present:
        lon = parse_column(frame["lon"], template.column("lon"))
        lat = parse_column(frame["lat"], template.column("lat"))
        log.add_where(table.rows, lon.bad, "lon", frame["lon"], lon.reasons)
        log.add_where(table.rows, lat.bad, "lat", frame["lat"], lat.reasons)
        one_only = (frame["lon"].isna() != frame["lat"].isna())
        log.add_where(table.rows, one_only, "lon", frame["lon"].fillna("") + "," +
                      frame["lat"].fillna(""), "经度 and 纬度 go together")
        both = (lon.values.notna() & lat.values.notna()).to_numpy()
        geoms[both] = shapely.points(lon.values[both].astype(float).to_numpy(),
                                     lat.values[both].astype(float).to_numpy())
        field = "lon"
    if "wkt" in present:
        text = frame["wkt"]
        todo = text.notna().to_numpy() & pd.isna(geoms)
        parsed = shapely.from_wkt(text[todo].to_numpy(), on_invalid="ignore")
        unreadable = pd.Series(False, index=frame.index)
        unreadable[todo] = pd.isna(parsed)
        geoms[todo] = parsed
        log.add_where(table.rows, unreadable, "wkt", text.str.slice(0, 60), "not valid WKT")
        if field != "lon":
            field = "wkt"
    return geoms, field


def locate(table: Table, frame: pd.DataFrame, template: Template, log: ErrorLog,
           present: set[str], declared: SourceCrs | None, what: str) -> Located | None:
    """The rows' geometries in WGS84, or None for kinds without one; GeometryError/CrsError when
    the file offers none or its CRS is unknown."""
    if template.geometry is None:
        return None
    has_file_geometry = table.geometry is not None and table.geometry.notna().any()
    has_columns = ("lon" in present and "lat" in present) or "wkt" in present
    note = None
    if has_file_geometry:
        in_file = from_file(table.crs) if declared is None else _quiet_from_file(table)
        source = choose(declared, in_file, what)
        if declared is not None and in_file is not None and in_file != declared:
            note = f"the file says {in_file.label}; using --crs {declared.label} as declared"
        raw = table.geometry.to_numpy()
        field = "geometry"
        log.labels.setdefault("geometry", "geometry")
    elif has_columns:
        raw, field = _from_columns(table, frame, template, log, present)
        if not pd.notna(raw).any() and template.geometry == "optional_point":
            return None
        source = choose(declared, None, what)
    elif template.geometry == "optional_point":
        return None
    else:
        needs = "几何 (WKT)" if template.geometry == "area" else "经度 and 纬度 (or 几何 as WKT)"
        raise GeometryError(f"{what} has no geometry: a spatial file, or columns {needs}")
    if field == "lon":
        log.labels["lon"] = f"{log.label('lon')}/{log.label('lat')}"
    geoms = gpd.GeoSeries(raw, index=frame.index)
    geoms = to_wgs84_geometries(geoms, source)
    geoms = _normalise(geoms, template, table.rows, log, field)
    return Located(geoms, field, source, note)


def _quiet_from_file(table: Table) -> SourceCrs | None:
    """The file's CRS for a note only: one without an EPSG code does not matter when declared."""
    try:
        return from_file(table.crs)
    except ImportRefused:
        return None


def _normalise(geoms: gpd.GeoSeries, template: Template, rows: np.ndarray, log: ErrorLog,
               field: str) -> gpd.GeoSeries:
    """2D, one type per kind (polygons become multipolygons), finite coordinates; else errors."""
    values = shapely.force_2d(geoms.to_numpy())
    if template.geometry != "optional_point":
        # rows whose coordinates were already refused need no second error
        missing = pd.isna(values) & ~np.isin(rows, list(log.bad_rows))
        log.add_where(rows, pd.Series(missing, index=geoms.index), field,
                      pd.Series([""] * len(values), index=geoms.index), "geometry required")
    out = np.full(len(values), None, dtype=object)
    kinds = shapely.get_type_id(values)
    for i, geom in enumerate(values):
        if geom is None:
            continue
        reason = None
        if geom.is_empty:
            reason = "empty geometry"
        elif not np.isfinite(shapely.get_coordinates(geom)).all():
            reason = "coordinates are not finite numbers"
        elif template.geometry == "area":
            if kinds[i] == 3:  # Polygon
                geom = MultiPolygon([geom])
            elif kinds[i] != 6:
                reason = f"expected a polygon, got a {geom.geom_type}"
        else:
            if kinds[i] == 4 and len(geom.geoms) == 1:  # MultiPoint of one
                geom = geom.geoms[0]
            elif kinds[i] != 0:
                reason = f"expected a point, got a {geom.geom_type}"
        if reason:
            log.add(rows[i], field, _short(geom), reason)
        else:
            out[i] = geom
    return gpd.GeoSeries(out, index=geoms.index, crs=4326)


def _short(geom) -> str:
    """A geometry short enough for a report cell."""
    text = shapely.to_wkt(geom, rounding_precision=6)
    return text if len(text) <= 60 else text[:57] + "..."

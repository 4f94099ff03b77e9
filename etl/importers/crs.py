"""Coordinate reference systems on the way in: what the user declares, what the file says, and
the conversion to WGS84 (EPSG:4326), which is what the database stores.

GCJ-02 (AMap, Tencent) and BD-09 (Baidu) are not EPSG systems: pyproj cannot convert them, so
they go through onemap.domain.coordinates; every EPSG code goes through pyproj.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
from pyproj import CRS
from pyproj.exceptions import CRSError

from onemap.domain.coordinates import to_wgs84, transform_geometry

from .errors import ImportRefused

WGS84 = 4326
HOW_TO_DECLARE = "--crs wgs84|gcj02|bd09|EPSG:<code>"

_NAMED = {
    "wgs84": ("wgs84", WGS84), "wgs-84": ("wgs84", WGS84), "wgs 84": ("wgs84", WGS84),
    "cgcs2000": ("epsg", 4490), "cgcs-2000": ("epsg", 4490), "tianditu": ("epsg", 4490),
    "gcj02": ("gcj02", None), "gcj-02": ("gcj02", None), "amap": ("gcj02", None),
    "gaode": ("gcj02", None), "tencent": ("gcj02", None),
    "bd09": ("bd09", None), "bd-09": ("bd09", None), "baidu": ("bd09", None),
}


class CrsError(ImportRefused):
    """A CRS that cannot be used: undeclared where it must be, or unknown."""


@dataclass(frozen=True)
class SourceCrs:
    """The CRS the coordinates are in: an EPSG code, or one of China's shifted datums."""

    kind: str  # "epsg", "wgs84", "gcj02" or "bd09"
    epsg: int | None = None

    @property
    def label(self) -> str:
        """How messages name it."""
        if self.kind == "epsg":
            return f"EPSG:{self.epsg}"
        return {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09"}[self.kind]


def parse_crs(value: str) -> SourceCrs:
    """A declared --crs value: wgs84, gcj02, bd09, cgcs2000, EPSG:<code> or a bare code."""
    text = value.strip().lower()
    if text in _NAMED:
        kind, epsg = _NAMED[text]
        return SourceCrs(kind, epsg)
    found = re.fullmatch(r"(?:epsg:)?(\d{4,6})", text)
    if not found:
        raise CrsError(f"unknown CRS {value!r}: use {HOW_TO_DECLARE} (or cgcs2000)")
    code = int(found[1])
    try:
        CRS.from_epsg(code)
    except CRSError:
        raise CrsError(f"EPSG:{code} is not a known EPSG code") from None
    return SourceCrs("wgs84", WGS84) if code == WGS84 else SourceCrs("epsg", code)


def from_file(crs: CRS | None) -> SourceCrs | None:
    """The file's own CRS (.prj, GeoPackage, GeoJSON) as a SourceCrs, or None."""
    if crs is None:
        return None
    code = crs.to_epsg(min_confidence=70)
    if code == WGS84:
        return SourceCrs("wgs84", WGS84)
    if code is not None:
        return SourceCrs("epsg", code)
    raise CrsError(
        f"the file's CRS ({crs.name}) has no EPSG code; declare one with {HOW_TO_DECLARE}"
    )


def choose(declared: SourceCrs | None, in_file: SourceCrs | None, what: str) -> SourceCrs:
    """The declared CRS wins (GeoJSON claims WGS84 even for GCJ-02 data); else the file's."""
    if declared is not None:
        return declared
    if in_file is not None:
        return in_file
    raise CrsError(
        f"{what} has no coordinate reference system: declare it with {HOW_TO_DECLARE} "
        "(AMap and Tencent exports are gcj02, Baidu exports bd09, GPS and most GIS data wgs84)"
    )


def to_wgs84_geometries(geoms: gpd.GeoSeries, source: SourceCrs) -> gpd.GeoSeries:
    """The geometries converted from `source` to WGS84 (EPSG:4326)."""
    if source.kind in ("gcj02", "bd09"):
        moved = transform_geometry(geoms.to_numpy(), to_wgs84(source.kind))
        return gpd.GeoSeries(moved, index=geoms.index, crs=WGS84)
    epsg = source.epsg or WGS84
    series = gpd.GeoSeries(geoms.to_numpy(), index=geoms.index, crs=epsg)
    return series if epsg == WGS84 else series.to_crs(WGS84)

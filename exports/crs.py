"""The coordinate systems an export can be written in.

WGS84 (EPSG:4326) and CGCS2000 (EPSG:4490, China's datum; within centimetres of WGS84, so
PROJ's transform between them is the identity) for GIS; GCJ-02 and BD-09 for overlays on AMap,
Tencent and Baidu maps, which have no EPSG code: their files say so in the name
(…_GCJ-02.gpkg) and carry a CRS of that name built on WGS84's ellipsoid, so a GIS does not
take them for WGS84; and the CGCS2000 3° Gauss-Krüger zones (EPSG:4534-4554, central meridians
75°E-135°E, no zone number in the easting) for measuring in metres, the zone chosen from the
data's longitude unless named (or EPSG:4513-4533, the same zones with the zone number
before the easting).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
from pyproj import CRS

from onemap.domain.coordinates import transform_geometry, wgs84_to_bd09, wgs84_to_gcj02

# EPSG:4534 is the zone of central meridian 75°E, each next code 3° further east; 4513-4533
# are the same zones with the zone number before the easting (zone 25 = 75°E), also accepted
GK_FIRST_CODE, GK_FIRST_MERIDIAN, GK_LAST_CODE = 4534, 75, 4554
GK_ZONED_FIRST, GK_ZONED_LAST = 4513, 4533

_SHIFTED_WKT = """GEOGCRS["{name}",
  DATUM["World Geodetic System 1984 (shifted: {name}, no EPSG code)",
    ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],
  PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],
  CS[ellipsoidal,2],
    AXIS["geodetic longitude (Lon)",east,ORDER[1],ANGLEUNIT["degree",0.0174532925199433]],
    AXIS["geodetic latitude (Lat)",north,ORDER[2],ANGLEUNIT["degree",0.0174532925199433]],
  REMARK["{remark}"]]"""

_SHIFTED = {
    "gcj02": ("GCJ-02", wgs84_to_gcj02,
              "China's GCJ-02 (Mars coordinates) as AMap and Tencent maps use: WGS 84 shifted "
              "by a published obfuscation of a few hundred metres. Not WGS 84."),
    "bd09": ("BD-09", wgs84_to_bd09,
             "Baidu's BD-09: GCJ-02 shifted once more. Not WGS 84."),
}


class UnknownCrs(ValueError):
    """A coordinate system this export does not write; the message lists those it does."""


@dataclass(frozen=True)
class OutputCrs:
    """Where an export's coordinates are: `key` as the user named it, `tag` for the file name,
    `crs` as the file records it."""

    key: str
    tag: str
    crs: CRS
    shifted: str | None = None  # gcj02 | bd09: coordinates moved by formula, not by PROJ

    @property
    def epsg(self) -> int | None:
        return None if self.shifted else self.crs.to_epsg()

    def apply(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """`frame` (WGS84) in this coordinate system."""
        if self.shifted:
            moved = frame.copy()
            func = _SHIFTED[self.shifted][1]
            moved[frame.geometry.name] = gpd.GeoSeries(
                transform_geometry(frame.geometry.values, func), index=frame.index)
            return moved.set_crs(self.crs, allow_override=True)
        return frame.to_crs(self.crs)


def gauss_kruger_code(longitude: float) -> int:
    """The EPSG code of the CGCS2000 3° Gauss-Krüger zone whose central meridian is nearest to
    `longitude`; UnknownCrs outside 73.5°E-136.5°E (no zone of that series there)."""
    meridian = 3 * round(longitude / 3)
    code = GK_FIRST_CODE + (meridian - GK_FIRST_MERIDIAN) // 3
    if not GK_FIRST_CODE <= code <= GK_LAST_CODE:
        raise UnknownCrs(f"no CGCS2000 3° Gauss-Krüger zone at longitude {longitude:.3f}")
    return code


NAMED = {"wgs84": 4326, "epsg:4326": 4326, "cgcs2000": 4490, "epsg:4490": 4490}
CHOICES = ("wgs84", "cgcs2000", "gcj02", "bd09", "gk", "EPSG:4534 … EPSG:4554",
           "EPSG:4513 … EPSG:4533")


def output_crs(name: str, longitude: float | None = None) -> OutputCrs:
    """The coordinate system `name` says: wgs84 | cgcs2000 | gcj02 | bd09 | EPSG:4326 |
    EPSG:4490 | EPSG:4534…4554 | gk (the Gauss-Krüger zone of `longitude`, the data's)."""
    key = name.strip().lower()
    if key in NAMED:
        code = NAMED[key]
        return OutputCrs(key, "WGS84" if code == 4326 else "CGCS2000", CRS.from_epsg(code))
    if key in _SHIFTED:
        label, _func, remark = _SHIFTED[key]
        return OutputCrs(key, label, CRS.from_wkt(_SHIFTED_WKT.format(name=label,
                                                                       remark=remark)),
                         shifted=key)
    if key == "gk":
        if longitude is None:
            raise UnknownCrs("gk needs the data's longitude: the layer is empty")
        key = f"epsg:{gauss_kruger_code(longitude)}"
    if key.startswith("epsg:") and key[5:].isdigit():
        code = int(key[5:])
        if GK_FIRST_CODE <= code <= GK_LAST_CODE or GK_ZONED_FIRST <= code <= GK_ZONED_LAST:
            return OutputCrs(key, f"EPSG{code}", CRS.from_epsg(code))
    raise UnknownCrs(f"unknown coordinate system {name!r}: choose one of {', '.join(CHOICES)}")


# OGC API – Features, Part 2: coordinate systems by URI. CRS84 is WGS84 in longitude-latitude
# order; every EPSG system is in its own axis order (EPSG:4326 and 4490 latitude first, the
# Gauss-Krüger zones northing first).
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
OGC_EPSG_CODES = (4326, 4490, *range(GK_FIRST_CODE, GK_LAST_CODE + 1),
                  *range(GK_ZONED_FIRST, GK_ZONED_LAST + 1))


def ogc_crs_uris() -> list[str]:
    """The coordinate systems the OGC API offers, CRS84 (its default) first."""
    return [CRS84, *(f"{EPSG_URI}{code}" for code in OGC_EPSG_CODES)]


def epsg_of_uri(uri: str) -> int:
    """The EPSG code of an OGC CRS URI (CRS84 is 4326 in longitude-latitude order: see
    north_first); UnknownCrs for one the API does not offer."""
    uri = uri.strip().strip("[]")  # a CURIE [EPSG:4490] too
    if uri in (CRS84, "OGC:CRS84"):
        return 4326
    for prefix in (EPSG_URI, "EPSG:"):
        if uri.startswith(prefix) and uri[len(prefix):].isdigit():
            code = int(uri[len(prefix):])
            if code in OGC_EPSG_CODES:
                return code
    raise UnknownCrs(f"unsupported crs {uri!r}: one of {', '.join(ogc_crs_uris()[:3])}, "
                     "… (the collection's `crs` list)")


def north_first(uri: str) -> bool:
    """Whether coordinates in `uri` come latitude or northing first (the EPSG definition's
    axis order; CRS84 is longitude first by definition)."""
    if uri.strip() in (CRS84, "OGC:CRS84"):
        return False
    axis = CRS.from_epsg(epsg_of_uri(uri)).axis_info[0]
    return axis.direction.lower() == "north"

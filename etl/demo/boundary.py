"""The polygon a demo district is built in: a file of the user's, or the one we ship."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import shapely

from etl.importers.crs import choose, from_file, parse_crs, to_wgs84_geometries
from etl.importers.readers import read_table

DEFAULT_BOUNDARY = Path(__file__).resolve().parents[2] / "geodata" / "boundaries" / "shenhe.geojson"


@dataclass(frozen=True)
class Boundary:
    """A district outline in WGS84, with the code and name the file gives (if any)."""

    geometry: shapely.Polygon | shapely.MultiPolygon
    code: str | None
    name: str | None


def read_boundary(path: Path | None = None, crs: str | None = None) -> Boundary:
    """Read and dissolve a boundary file into one outline, converted to WGS84.

    `crs` declares the coordinates' system (wgs84, gcj02, bd09, EPSG:n) when the file has
    none or claims the wrong one (GeoJSON always claims WGS84, even for AMap data).
    """
    table = read_table(path or DEFAULT_BOUNDARY)
    if table.geometry is None or table.geometry.isna().all():
        raise ValueError(f"{path} holds no geometry")
    source = choose(parse_crs(crs) if crs else None, from_file(table.crs), f"{Path(path or DEFAULT_BOUNDARY).name}")
    outline = shapely.make_valid(to_wgs84_geometries(table.geometry, source).union_all())
    polygons = [g for g in getattr(outline, "geoms", [outline])
                if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise ValueError(f"{path} holds no polygon")
    outline = shapely.union_all(polygons)
    first = table.frame.iloc[0] if len(table.frame) else {}
    code = next((first.get(k) for k in ("code", "行政区划代码", "区划代码") if first.get(k)), None)
    name = next((first.get(k) for k in ("name", "名称", "行政区划名称") if first.get(k)), None)
    return Boundary(outline, code, name)

"""The file formats an export writes, through pyogrio (GDAL) and, for Excel, openpyxl.

Each writer takes the layer's rows ready to go (personal fields masked, times in
Asia/Shanghai, coordinates in the chosen system, columns named as the user asked) and writes
one file at `path`. What users of each format run into is handled here:

- Shapefile: field names of at most 10 bytes (a Chinese title cut mid-character breaks
  readers), so short ASCII names, and a sidecar `<layer>_fields.csv` in the zip that gives
  each its Chinese and English title; a `.cpg` saying UTF-8; no time type, so ISO text.
- CSV: a byte-order mark so Excel on a zh-CN Windows opens it as UTF-8; geometry as WKT.
- XLSX: at most 1,048,575 rows a sheet under the header (more go on to further sheets), a
  sheet that names the fields and the coordinate system; geometry as WKT.
- KML: WGS84 by its standard, so no other coordinate system.
- Times in Asia/Shanghai with their offset (…T09:30:00+08:00), as times where the format has
  them and as ISO text where it has not.

GDAL does not report every failed write: on a full disk its KML writer leaves a file cut short
without an error. `cut_short` finds a text format's file that does not end as it must.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.base import Source

from .crs import OutputCrs

# Excel's last row is 1,048,576; the header takes one
XLSX_ROWS_PER_SHEET = 1_048_575
# Excel keeps at most this many characters in a cell
XLSX_CELL_LIMIT = 32_767
SHAPEFILE_NAME_BYTES = 10


# how a whole file of a text format GDAL writes ends (whitespace aside)
ENDINGS = {"kml": b"</kml>", "geojson": b"}"}


class FormatRefused(ValueError):
    """The format cannot hold this export as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Columns:
    """The columns a file gets: (field, its name in the file), in the source's order."""

    pairs: tuple[tuple[str, str], ...]

    def rename(self) -> dict[str, str]:
        return dict(self.pairs)


def shapefile_names(fields: list[str]) -> dict[str, str]:
    """Each ASCII field name cut to 10 bytes, a number at its end where two would clash."""
    names: dict[str, str] = {}
    for name in fields:
        short = name[:SHAPEFILE_NAME_BYTES]
        n = 1
        while short in names.values():
            suffix = str(n)
            short = name[:SHAPEFILE_NAME_BYTES - len(suffix)] + suffix
            n += 1
        names[name] = short
    return names


def as_text_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Time columns as ISO 8601 text with the offset: 2026-12-04T09:30:00+08:00.

    Vectorised (numpy's formatting and one offset string per distinct offset): strftime's
    %z runs in Python for every value, 30 s for the district's 300,000 cases' seven times."""
    out = frame.copy()
    for column in out.columns:
        if not isinstance(out[column].dtype, pd.DatetimeTZDtype):
            continue
        times = out[column]
        local = times.dt.tz_localize(None)
        offset = (local - times.dt.tz_convert("UTC").dt.tz_localize(None)) / pd.Timedelta(
            minutes=1)
        wall = pd.Series(np.datetime_as_string(local.to_numpy("datetime64[s]"), unit="s"),
                         index=out.index)
        zone = offset.map({m: _offset_text(m) for m in offset.dropna().unique()})
        out[column] = (wall + zone).where(times.notna(), None)
    return out


def _offset_text(minutes: float) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(int(minutes)), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def _wkt(frame: gpd.GeoDataFrame, crs: OutputCrs) -> pd.Series:
    """The geometry as WKT, to the centimetre (7 decimals of a degree, 2 of a metre)."""
    precision = 7 if crs.crs.is_geographic else 2
    return pd.Series(shapely.to_wkt(frame.geometry.values, rounding_precision=precision,
                                    trim=True), index=frame.index)


def write_gpkg(frame, source, crs, path, columns):
    pyogrio.write_dataframe(frame.rename(columns=columns.rename()), path, driver="GPKG",
                            layer=source.name,
                            layer_options={"IDENTIFIER": source.title,
                                           "DESCRIPTION": _description(source, crs)})


def write_fgb(frame, source, crs, path, columns):
    pyogrio.write_dataframe(frame.rename(columns=columns.rename()), path, driver="FlatGeobuf",
                            layer=source.name,
                            layer_options={"TITLE": source.title,
                                           "DESCRIPTION": _description(source, crs)})


def write_geojson(frame, source, crs, path, columns):
    pyogrio.write_dataframe(frame.rename(columns=columns.rename()), path, driver="GeoJSON",
                            layer=source.name, layer_options={"DESCRIPTION": _description(
                                source, crs), "RFC7946": "NO"})


def write_kml(frame, source, crs, path, columns):
    if crs.epsg != 4326:
        raise FormatRefused("KML 只用 WGS84 坐标 · KML is WGS84 by its standard: "
                            "choose --crs wgs84, or GeoPackage for other coordinate systems")
    named = as_text_times(frame).rename(columns=columns.rename())
    names = columns.rename()
    label = next((names[field] for field in ("name", "title", "code") if field in names), None)
    pyogrio.write_dataframe(named, path, driver="KML", layer=source.name,
                            dataset_options={"NameField": label} if label else None)


def write_csv(frame, source, crs, path, columns):
    table = as_text_times(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    table["WKT"] = _wkt(frame, crs)
    table.rename(columns=columns.rename()).to_csv(path, index=False, encoding="utf-8-sig")


def write_xlsx(frame, source, crs, path, columns):
    table = as_text_times(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    table["WKT"] = _wkt(frame, crs)
    too_long = table["WKT"].str.len() > XLSX_CELL_LIMIT
    if too_long.any():
        first = frame.iloc[int(too_long.to_numpy().nonzero()[0][0])][source.id_field]
        raise FormatRefused(
            f"{int(too_long.sum())} 个图形超出 Excel 单元格上限 · {int(too_long.sum())} "
            f"geometries (the first: {source.id_field} {first}) are longer than an Excel "
            f"cell holds ({XLSX_CELL_LIMIT:,} characters): choose GeoPackage or CSV")
    table = table.rename(columns=columns.rename())
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        sheets = max(1, -(-len(table) // XLSX_ROWS_PER_SHEET))
        for i in range(sheets):
            part = table.iloc[i * XLSX_ROWS_PER_SHEET:(i + 1) * XLSX_ROWS_PER_SHEET]
            name = source.name if i == 0 else f"{source.name}_{i + 1}"
            part.to_excel(book, sheet_name=name[:31], index=False)
        _field_sheet(source, crs, columns).to_excel(book, sheet_name="字段说明 fields",
                                                   index=False)


def write_shapefile(frame, source, crs, path, columns):
    short = shapefile_names([field for field, _ in columns.pairs])
    named = as_text_times(frame).rename(columns=short)
    with TemporaryDirectory() as folder:
        base = Path(folder) / source.name
        pyogrio.write_dataframe(named, base.with_suffix(".shp"), driver="ESRI Shapefile",
                                encoding="UTF-8")
        sidecar = _field_sheet(source, crs, columns).drop(columns="name")
        sidecar.insert(0, "shapefile", [short[field] for field, _ in columns.pairs] + [""])
        sidecar.to_csv(Path(folder) / f"{source.name}_fields.csv", index=False,
                       encoding="utf-8-sig")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for member in sorted(Path(folder).iterdir()):
                archive.write(member, member.name)


def cut_short(key: str, path: Path) -> bool:
    """Whether a file just written in format `key` lacks its format's ending (a write that
    failed without saying so); False for formats whose writers report every failure."""
    ending = ENDINGS.get(key)
    if ending is None:
        return False
    with open(path, "rb") as handle:
        handle.seek(max(0, Path(path).stat().st_size - 256))
        return not handle.read().rstrip().endswith(ending)


def _description(source: Source, crs: OutputCrs) -> str:
    return (f"OneMap {source.title}; 坐标系 coordinate system: {crs.crs.name}"
            + ("" if crs.epsg else " (无EPSG编码 no EPSG code)"))


def _field_sheet(source: Source, crs: OutputCrs, columns: Columns) -> pd.DataFrame:
    """Each column of the file with its field name and titles, and a last row for the
    geometry's coordinate system."""
    rows = [{"name": name, "field": field, "中文": source.field(field).title_zh,
             "English": source.field(field).title_en} for field, name in columns.pairs]
    rows.append({"name": "WKT / geometry", "field": "geometry", "中文": "坐标系 " + crs.crs.name,
                 "English": "coordinate system " + crs.crs.name
                 + ("" if crs.epsg else " (no EPSG code)")})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Format:
    key: str
    title: str
    extension: str
    media_type: str
    write: Callable


FORMATS = {f.key: f for f in (
    Format("gpkg", "GeoPackage", "gpkg", "application/geopackage+sqlite3", write_gpkg),
    Format("shp", "Shapefile (zip)", "zip", "application/zip", write_shapefile),
    Format("geojson", "GeoJSON", "geojson", "application/geo+json", write_geojson),
    Format("csv", "CSV (WKT)", "csv", "text/csv; charset=utf-8", write_csv),
    Format("xlsx", "Excel (XLSX)", "xlsx",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_xlsx),
    Format("kml", "KML", "kml", "application/vnd.google-earth.kml+xml", write_kml),
    Format("fgb", "FlatGeobuf", "fgb", "application/octet-stream", write_fgb),
)}

"""Open any supported file into a frame of text cells, with user-visible row numbers and its CRS.

Spatial formats go through pyogrio (GeoJSON, Shapefile, zipped Shapefile, GeoPackage, …), CSV
through pandas, XLSX through pandas + openpyxl. Cells come back as stripped strings or None so
that every kind parses them the same way, whatever the format typed them as.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from .errors import ImportRefused

_SNIFF_CHUNK = 1 << 20


class ReadError(ImportRefused):
    """The file cannot be read at all (not a row-level problem)."""


@dataclass
class Table:
    """A file's rows as text cells, the geometry it carries (if any) and where it came from."""

    frame: pd.DataFrame  # object columns: str or None
    rows: np.ndarray  # the row number the user sees, per frame row
    geometry: gpd.GeoSeries | None = None  # file geometry, aligned with frame
    crs: CRS | None = None  # the file's own CRS (.prj, GPKG, GeoJSON)
    tabular: bool = False  # CSV/XLSX: rows count the header as row 1
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def detect_encoding(path: Path) -> str:
    """utf-8-sig when the whole file decodes as UTF-8, else gb18030 (a superset of GBK)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_SNIFF_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _cell_text(value: object) -> str | None:
    """One typed cell (from a spatial format) as stripped text; None when blank."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if isinstance(value, float):
        # spatial formats type numbers; 5.0 must read back as "5", not "5.0"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, datetime):  # pandas Timestamps included
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip() or None


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as object dtype holding stripped strings or None."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_string_dtype(col.dtype) and col.dtype != object:
            # CSV and XLSX columns are all text: strip them in one vectorised pass
            text = col.str.strip()
            out[name] = text.astype(object).where(text.notna() & (text != ""), None)
        else:
            text = col.astype(object).map(_cell_text).astype(object)
            # pandas 3 infers a string dtype from map(), whose missing value is NaN
            out[name] = text.where(text.notna(), None)
    return pd.DataFrame(out, index=frame.index, dtype=object)


def _drop_blank_rows(table: Table) -> Table:
    """Blank lines in CSV/XLSX are not rows anyone meant; keep their numbers for the others."""
    keep = table.frame.notna().any(axis=1).to_numpy()
    if table.geometry is not None:
        keep |= table.geometry.notna().to_numpy()
    if keep.all():
        return table
    table.frame = table.frame[keep].reset_index(drop=True)
    table.rows = table.rows[keep]
    if table.geometry is not None:
        table.geometry = table.geometry[keep].reset_index(drop=True)
    return table


def read_csv(path: Path, encoding: str | None = None) -> Table:
    """A CSV file; UTF-8 (with or without BOM) or GBK/GB18030, detected unless given."""
    enc = encoding or detect_encoding(path)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding=enc
        )
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path.name} is not {enc} ({exc.reason}); try --encoding") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReadError(f"{path.name}: {str(exc).strip()}") from None
    # the header is row 1, so the first data row is row 2 (as Excel numbers them)
    table = Table(as_text(frame), np.arange(2, len(frame) + 2), tabular=True, encoding=enc)
    return _drop_blank_rows(table)


def read_xlsx(path: Path, sheet: str | None = None) -> Table:
    """An Excel workbook's sheet (the first unless named or numbered with --sheet)."""
    which: str | int = 0
    if sheet is not None:
        which = int(sheet) - 1 if sheet.isdigit() else sheet
    try:
        frame = pd.read_excel(path, sheet_name=which, dtype=str, keep_default_na=False)
    except (ValueError, KeyError) as exc:
        raise ReadError(f"{path.name}: {exc}") from None
    table = Table(as_text(frame), np.arange(2, len(frame) + 2), tabular=True)
    return _drop_blank_rows(table)


def _spatial_encoding(path: Path, layer: str | None, encoding: str | None) -> str | None:
    """The attribute encoding to ask pyogrio for: given, declared by the file, or sniffed."""
    if encoding:
        return encoding
    info = pyogrio.read_info(path, layer=layer)
    # A shapefile without .cpg is read as ISO-8859-1, which turns GBK names into mojibake.
    if info.get("driver") == "ESRI Shapefile" and info.get("encoding") == "ISO-8859-1":
        try:
            pyogrio.read_dataframe(path, layer=layer, encoding="utf-8", read_geometry=False)
            return "utf-8"
        except UnicodeDecodeError:
            return "gb18030"
    return None


def read_spatial(path: Path, layer: str | None = None, encoding: str | None = None) -> Table:
    """A GeoJSON, (zipped) Shapefile, GeoPackage or any other format pyogrio reads."""
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise ReadError(f"cannot open {path.name}: {exc}") from None
    names = [str(name) for name, _ in layers]
    if layer is None and len(names) > 1:
        raise ReadError(
            f"{path.name} holds {len(names)} layers ({', '.join(names)}): choose one with --layer"
        )
    if layer is not None and layer not in names:
        raise ReadError(f"{path.name} has no layer {layer!r}; layers: {', '.join(names)}")
    try:
        enc = _spatial_encoding(path, layer, encoding)
        data = gpd.read_file(path, layer=layer, encoding=enc, engine="pyogrio")
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path.name} is not {enc} ({exc.reason}); try --encoding") from None
    except Exception as exc:
        raise ReadError(f"cannot read {path.name}: {exc}") from None
    geometry = None
    crs = None
    if isinstance(data, gpd.GeoDataFrame) and data.geometry.name in data.columns:
        geometry = data.geometry.reset_index(drop=True)
        crs = data.crs
        data = pd.DataFrame(data.drop(columns=data.geometry.name))
    frame = as_text(data.reset_index(drop=True))
    # features are numbered from 1 in the order the file holds them
    return Table(frame, np.arange(1, len(frame) + 1), geometry, crs, encoding=enc)


def read_table(
    path: Path | str,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open a file of any supported format; ReadError says why one cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"{path} is not a file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return read_csv(path, encoding)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, sheet)
    if suffix == ".xls":
        raise ReadError(f"{path.name}: the old .xls format is not read; save it as .xlsx or CSV")
    return read_spatial(path, layer, encoding)

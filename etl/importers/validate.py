"""Row-level checks that need no database: types, vocabularies, ID and credit-code checksums,
required cells, duplicate keys. Each failure is a RowError(row, field, value, reason).

Checks run on whole columns (pandas) so 800,000 rows take seconds, not minutes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from onemap.domain import idcard, uscc

from .report import mask
from .templates import Column, Template

_TRUE = {"是", "true", "t", "yes", "y", "1", "在岗", "√"}
_FALSE = {"否", "false", "f", "no", "n", "0", "不在岗", "离岗", "×"}
_INT_RE = r"[+-]?\d+(?:\.0*)?"
_PHONE_RE = r"[0-9+ -]{5,20}"
_EXCEL_NUMBER = r"\d(\.\d+)?E\+\d+"
# labels in real exports drop the 地/人口/人员 the vocabularies carry: 户籍 for 户籍地, 流动 for 流动人口
_LABEL_SUFFIXES = ("地", "人口", "人员")


@dataclass(frozen=True, order=True)
class RowError:
    """One reason a row cannot be imported; the value is already masked if it is personal."""

    row: int
    field: str
    value: str
    reason: str


class ErrorLog:
    """Collects row errors; knows each field's header as the file wrote it and what to mask."""

    def __init__(self, template: Template, labels: Mapping[str, str] | None = None) -> None:
        self.template = template
        self.labels = dict(labels or {})
        self.errors: list[RowError] = []
        self._bad_rows: set[int] = set()

    def label(self, field: str) -> str:
        """The header this field has in the file (its Chinese header when the file lacks it)."""
        if field in self.labels:
            return self.labels[field]
        try:
            return self.template.column(field).zh
        except KeyError:
            return field

    def _personal(self, field: str) -> str | None:
        try:
            return self.template.column(field).personal
        except KeyError:
            return None

    def add(self, row: int, field: str, value: object, reason: str) -> None:
        """Record one error."""
        text = "" if value is None else str(value)
        self.errors.append(RowError(int(row), self.label(field), mask(text, self._personal(field)),
                                    reason))
        self._bad_rows.add(int(row))

    def add_where(self, rows: np.ndarray, bad: pd.Series, field: str, values: pd.Series,
                  reason: str | pd.Series) -> None:
        """Record an error for every row where `bad` holds."""
        mask_ = bad.to_numpy(dtype=bool)
        if not mask_.any():
            return
        reasons = reason[bad] if isinstance(reason, pd.Series) else None
        for i, (row, value) in enumerate(zip(rows[mask_], values[bad], strict=True)):
            self.add(row, field, value, reason if reasons is None else reasons.iloc[i])

    @property
    def bad_rows(self) -> set[int]:
        """Row numbers with at least one error."""
        return self._bad_rows

    def sorted(self) -> list[RowError]:
        """Errors ordered by row, in the order they were found within a row."""
        return sorted(self.errors, key=lambda e: e.row)


# -- one column at a time --------------------------------------------------------------------

@dataclass
class Parsed:
    """A parsed column: typed values (None when blank or bad) and the reason per bad cell."""

    values: pd.Series
    bad: pd.Series  # bool
    reasons: pd.Series | str


def _strip_suffixes(s: pd.Series, suffixes: tuple[str, ...]) -> pd.Series:
    for suffix in suffixes:
        s = s.str.removesuffix(suffix).str.strip()
    return s


def _nfkc(s: pd.Series) -> pd.Series:
    # full-width digits and signs (５０１, －１) are common in Chinese spreadsheets
    return s.map(lambda v: unicodedata.normalize("NFKC", v), na_action="ignore")


def _vocab_lookup(vocabulary: Mapping[str, tuple]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, labels in vocabulary.items():
        zh, en = labels[0], labels[1]
        for key in (code, zh, en):
            lookup[str(key).strip().lower()] = code
        for suffix in _LABEL_SUFFIXES:
            if zh.endswith(suffix) and len(zh) > len(suffix) + 1:
                lookup.setdefault(zh.removesuffix(suffix), code)
    return lookup


def parse_column(s: pd.Series, col: Column) -> Parsed:
    """Parse one column of text cells by the column's declared type."""
    present = s.notna()
    no = pd.Series(False, index=s.index)
    if col.type in ("text", "code", "wkt"):
        values = _strip_suffixes(s, col.suffixes) if col.suffixes else s
        if col.type == "code":
            values = values.str.replace(r"\s+", "", regex=True)
        values = values.where(values.notna() & (values != ""), None)
        if col.max_len:
            bad = values.str.len().gt(col.max_len).fillna(False).astype(bool)
            return Parsed(values.where(~bad, None), bad, f"longer than {col.max_len} characters")
        return Parsed(values, no, "")
    if col.type in ("int", "number", "lon", "lat"):
        text = _strip_suffixes(_nfkc(s), col.suffixes).str.replace(",", "", regex=False)
        numbers = pd.to_numeric(text, errors="coerce")
        if col.type == "int":
            whole = text.str.fullmatch(_INT_RE).fillna(False).astype(bool)
            numbers = numbers.where(whole)
            reason = "not a whole number"
        else:
            reason = "not a number"
        bad = present & numbers.isna()
        reasons = pd.Series(reason, index=s.index, dtype=object)
        lo = -180 if col.type == "lon" else -90 if col.type == "lat" else col.lo
        hi = 180 if col.type == "lon" else 90 if col.type == "lat" else col.hi
        if lo is not None:
            low = numbers.lt(lo).fillna(False).astype(bool)
            reasons = reasons.mask(low, f"less than {lo:g}")
            bad |= low
        if hi is not None:
            high = numbers.gt(hi).fillna(False).astype(bool)
            reasons = reasons.mask(high, f"more than {hi:g}")
            bad |= high
        good = numbers.where(~bad)
        return Parsed(as_objects(good, int if col.type == "int" else float), bad, reasons)
    if col.type == "date":
        return _parse_dates(s)
    if col.type == "bool":
        lowered = s.str.lower()
        values = pd.Series(None, index=s.index, dtype=object)
        values[lowered.isin(_TRUE).fillna(False).astype(bool)] = True
        values[lowered.isin(_FALSE).fillna(False).astype(bool)] = False
        bad = present & values.isna()
        return Parsed(values, bad, "not 是/否 (or true/false)")
    if col.type == "vocab":
        lookup = _vocab_lookup(col.vocab or {})
        values = s.str.lower().map(lookup).astype(object)
        values = values.where(values.notna(), None)
        bad = present & values.isna()
        choices = "/".join(labels[0] for labels in (col.vocab or {}).values())
        return Parsed(values, bad, f"not one of {choices} (or their English codes)")
    if col.type == "id_number":
        values = s.map(idcard.normalize, na_action="ignore")
        reasons = _reasons(values, idcard.validate)
        # Excel shows long digit strings as 2.10103E+17 and saves them so: the digits are lost
        mangled = values.str.fullmatch(_EXCEL_NUMBER).fillna(False).astype(bool)
        reasons = reasons.mask(mangled, "Excel turned the ID into a number: format the column "
                                        "as text (文本) and enter the IDs again")
        bad = reasons.notna()
        return Parsed(values.where(~bad, None).astype(object), bad, reasons)
    if col.type == "uscc":
        values = s.map(uscc.normalize, na_action="ignore")
        reasons = _reasons(values, uscc.validate)
        bad = reasons.notna()
        return Parsed(values.where(~bad, None).astype(object), bad, reasons)
    if col.type == "phone":
        values = _nfkc(s).str.strip()
        bad = present & ~values.str.fullmatch(_PHONE_RE).fillna(False).astype(bool)
        return Parsed(values.where(~bad, None).astype(object), bad,
                      "not a phone number (5-20 digits, spaces, + or -)")
    raise ValueError(f"unknown column type {col.type!r}")


def as_objects(numbers: pd.Series, kind: type) -> pd.Series:
    """Numbers as Python ints or floats in an object Series, None where missing (pandas would
    turn ints with gaps into floats, and COPY would read 2.0 into a smallint)."""
    out = np.full(len(numbers), None, dtype=object)
    present = numbers.notna().to_numpy()
    out[present] = [kind(v) for v in numbers.to_numpy()[present]]
    return pd.Series(out, index=numbers.index, dtype=object)


def _reasons(values: pd.Series, check) -> pd.Series:
    """The checker's reason per cell (None when valid or blank), each value checked once."""
    distinct = values.dropna().unique()
    answers = {v: check(v) for v in distinct}
    return values.map(answers, na_action="ignore").astype(object).where(values.notna(), None)


def _parse_dates(s: pd.Series) -> Parsed:
    """YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYYMMDD, YYYY年M月D日; a time part is ignored."""
    text = _nfkc(s).str.strip()
    text = text.str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
    text = text.str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "", regex=False)
    compact = text.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
    text = text.where(~compact, text.str[:4] + "-" + text.str[4:6] + "-" + text.str[6:8])
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = s.notna() & parsed.isna()
    today = pd.Timestamp(idcard.china_today())  # the day the register was kept in
    future = parsed.gt(today).fillna(False).astype(bool)
    reasons = pd.Series("not a date (YYYY-MM-DD)", index=s.index, dtype=object)
    reasons = reasons.mask(future, "in the future")
    bad |= future
    values = parsed.where(~bad).map(lambda t: t.date(), na_action="ignore").astype(object)
    return Parsed(values.where(values.notna(), None), bad, reasons)


def parse_frame(frame: pd.DataFrame, rows: np.ndarray, template: Template, log: ErrorLog,
                present: set[str]) -> pd.DataFrame:
    """Every template column parsed (absent ones filled with their defaults); errors logged."""
    out = {}
    for col in template.columns:
        if col.type in ("lon", "lat", "wkt"):
            continue  # geometry.py builds the geometry from these
        if col.name not in present:
            out[col.name] = pd.Series(col.default, index=frame.index, dtype=object)
            continue
        raw = frame[col.name]
        parsed = parse_column(raw, col)
        log.add_where(rows, parsed.bad, col.name, raw, parsed.reasons)
        values = parsed.values
        if col.default is not None:
            values = values.where(raw.notna() | parsed.bad, col.default)
        if col.required:
            missing = raw.isna()
            log.add_where(rows, missing, col.name, raw, "required")
        out[col.name] = values.astype(object)
    return pd.DataFrame(out, index=frame.index, dtype=object)


def flag_duplicates(frame: pd.DataFrame, rows: np.ndarray, keys: list[str], field: str,
                    log: ErrorLog, what: str | None = None,
                    value_column: str | None = None) -> None:
    """Every repeat of a natural key after its first row is an error naming that first row."""
    usable = frame[keys].notna().all(axis=1)
    if not usable.any():
        return
    subset = frame.loc[usable, keys]
    repeat = subset.duplicated(keep=False)
    if not repeat.any():
        return
    row_numbers = pd.Series(rows, index=frame.index)[usable][repeat]
    first = row_numbers.groupby([subset.loc[repeat, k] for k in keys]).transform("min")
    for idx in row_numbers.index:
        if row_numbers[idx] != first[idx]:
            value = (frame.at[idx, value_column] if value_column
                     else "-".join(str(frame.at[idx, k]) for k in keys))
            log.add(row_numbers[idx], field, value,
                    f"duplicate {what or log.label(field)} (first on row {first[idx]})")


def id_birth_and_sex(ids: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Birth date and sex ('M'/'F') encoded in valid 18-character IDs (None elsewhere)."""
    valid = ids.notna()
    text = ids.where(valid, "")
    born = pd.to_datetime(text.str[6:14], format="%Y%m%d", errors="coerce")
    born = born.map(lambda t: t.date(), na_action="ignore").astype(object).where(valid, None)
    digit = pd.to_numeric(text.str[16:17], errors="coerce")
    sex = pd.Series(np.where(digit % 2 == 1, "M", "F"), index=ids.index, dtype=object)
    return born, sex.where(valid, None)

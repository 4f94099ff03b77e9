"""The error report: a CSV (UTF-8 with BOM, so Excel opens it) of row, field, value, reason.

Reports get emailed, so personal values are masked the way the rest of OneMap shows them:
ID 210103********1234, phone 138****5678, name 张*.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .validate import RowError

HEADER = ("row", "field", "value", "reason")


def mask(value: str, personal: str | None) -> str:
    """The value as a report may show it: personal kinds are masked, others pass unchanged."""
    if not personal or not value:
        return value
    n = len(value)
    if personal == "id":
        return value[:6] + "*" * (n - 10) + value[-4:] if n >= 12 else "*" * n
    if personal == "phone":
        return value[:3] + "****" + value[-4:] if n >= 8 else "*" * n
    if personal == "name":
        return value[0] + "*" * (n - 1) if n > 1 else "*"
    # passports and the like: enough to find the row, not enough to use it
    return value[:2] + "*" * (n - 4) + value[-2:] if n > 5 else "*" * n


def format_error(error: RowError) -> str:
    """One error as the console prints it: `row N, field F: reason (value)`."""
    value = f" ({error.value})" if error.value else ""
    return f"row {error.row}, field {error.field}: {error.reason}{value}"


def write_report(path: Path, errors: Iterable[RowError]) -> Path:
    """Write every error to `path` (UTF-8 with BOM) and return the path."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for e in errors:
            writer.writerow((e.row, e.field, e.value, e.reason))
    return path


def read_report(path: Path) -> list[dict[str, str]]:
    """The rows of a report (tests and scripts)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))

"""Chinese resident identity numbers (GB 11643-1999, 18 characters).

Layout: 6-digit area code, 8-digit birth date (YYYYMMDD), 3-digit sequence
code (odd 3rd digit = male, even = female) and an ISO 7064 MOD 11-2 check
character that may be 'X' (meaning 10).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["CitizenId", "checksum_char", "make", "normalize", "parse", "validate"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
# Area codes are administrative division codes; their first digit is a region (1-8).
_AREA_RE = re.compile(r"[1-8]\d{5}")
# Sequence numbers for make(): 500 per sex, see _sequence_code().
MAX_SEQUENCE = 499
# Nobody alive was born earlier; the database's citizen_id_valid() uses the same bound.
EARLIEST_BIRTH_YEAR = 1880


def china_today() -> date:
    """The date in China, where a birth date on the card was written: a server on UTC is
    still on yesterday for the first eight hours of a Chinese day."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


@dataclass(frozen=True, slots=True)
class CitizenId:
    """The decoded fields of a valid identity number."""

    area_code: str
    birth_date: date
    sequence: str
    sex: str  # 'M' or 'F'


def normalize(s: str) -> str:
    """Strip surrounding whitespace and upper-case a trailing 'x'."""
    return s.strip().upper()


def checksum_char(first17: str) -> str:
    """Return the check character ('0'-'9' or 'X') for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("checksum needs exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _birth_date(id_number: str) -> date | None:
    """Return the embedded birth date, or None if it is not a calendar date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def validate(id_number: str, *, today: date | None = None) -> str | None:
    """Return None if the number is valid, else a short English reason."""
    # No implicit strip(): importers should call normalize() so that stray
    # whitespace is a visible decision, not silently accepted here.
    if len(id_number) != 18:
        return f"wrong length: expected 18 characters, got {len(id_number)}"
    body, last = id_number[:17], id_number[17]
    # isascii() guards against full-width and other Unicode digits, which isdigit() accepts.
    if not (body.isascii() and body.isdigit()) or last not in "0123456789Xx":
        return "non-digit character: only digits and a final X are allowed"
    if not _AREA_RE.fullmatch(id_number[:6]):
        return "area code must be 6 digits starting with 1-8"
    born = _birth_date(id_number)
    if born is None:
        return f"impossible birth date {id_number[6:14]}"
    if born.year < EARLIEST_BIRTH_YEAR:
        return f"birth year {born.year} is before {EARLIEST_BIRTH_YEAR}"
    if born > (today or china_today()):
        return f"birth date {born.isoformat()} is in the future"
    if checksum_char(body) != last.upper():
        return "bad checksum"
    return None


def parse(id_number: str, *, today: date | None = None) -> CitizenId:
    """Decode a valid identity number; raise ValueError with the reason otherwise."""
    reason = validate(id_number, today=today)
    if reason is not None:
        raise ValueError(reason)
    born = _birth_date(id_number)
    assert born is not None  # validate() already rejected impossible dates
    return CitizenId(
        area_code=id_number[:6],
        birth_date=born,
        sequence=id_number[14:17],
        sex="M" if int(id_number[16]) % 2 else "F",
    )


def _sequence_code(sex: str, sequence: int) -> str:
    """Map (sex, 0..499) to the 3-digit sequence code: 2*sequence + (1 if male else 0).

    Females get 000, 002, ..., 998 and males 001, 003, ..., 999, so the
    mapping is a bijection and the last digit's parity encodes the sex.
    """
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence must be in 0..{MAX_SEQUENCE}, got {sequence}")
    return f"{2 * sequence + (1 if sex == 'M' else 0):03d}"


def make(area_code: str, birth_date: date, sex: str, sequence: int) -> str:
    """Build a valid 18-character number; sequence 0..499 per sex (see _sequence_code)."""
    sex = sex.strip().upper()
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    if not _AREA_RE.fullmatch(area_code):
        raise ValueError("area code must be 6 digits starting with 1-8")
    # Explicit zero padding: strftime('%Y') does not pad years below 1000 on glibc.
    ymd = f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}"
    first17 = area_code + ymd + _sequence_code(sex, sequence)
    id_number = first17 + checksum_char(first17)
    # Re-validate so make() never hands out something validate() would reject
    # (e.g. a future birth date).
    reason = validate(id_number)
    if reason is not None:
        raise ValueError(reason)
    return id_number

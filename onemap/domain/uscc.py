"""Unified social credit codes (GB 32100-2015, 18 characters).

Layout: registration department (1 char), organisation type (1 char),
6-digit area code, 9-character organisation code (8 body characters plus a
GB 11714 check character) and a final GB 32100 check character.
"""

from __future__ import annotations

__all__ = ["CHARSET", "checksum_char", "make", "normalize", "org_code_check", "validate"]

# I, O, Z, S and V are left out because they are easily confused with 1, 0, 2, 5 and U.
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize(s: str) -> str:
    """Strip surrounding whitespace and upper-case."""
    return s.strip().upper()


def checksum_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"checksum needs 17 characters from {CHARSET}")
    remainder = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 31
    return CHARSET[(31 - remainder) % 31]


def _org_value(c: str) -> int:
    """GB 11714 character value: digits as themselves, letters A=10 .. Z=35."""
    # GB 11714 predates the USCC charset, so letters keep their full-alphabet
    # values (e.g. 'J' is 19, not its index 18 in CHARSET).
    if "0" <= c <= "9":
        return ord(c) - ord("0")
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    raise ValueError(f"invalid organisation code character {c!r}")


def org_code_check(first8: str) -> str:
    """Return the GB 11714 check character ('0'-'9' or 'X') for an 8-char org code body."""
    if len(first8) != 8:
        raise ValueError("organisation code body must be 8 characters")
    remainder = sum(_org_value(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return "X" if check == 10 else "0" if check == 11 else str(check)


def validate(code: str, strict_org_code: bool = False) -> str | None:
    """Return None if the code is valid, else a short English reason."""
    if len(code) != 18:
        return f"wrong length: expected 18 characters, got {len(code)}"
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return f"invalid character(s) {''.join(bad)!r}: allowed are {CHARSET}"
    if not code[2:8].isdigit():
        return "area code (characters 3-8) must be 6 digits"
    if checksum_char(code[:17]) != code[17]:
        return "bad checksum"
    # Off by default: codes issued to individual businesses (个体工商户) often
    # carry a placeholder organisation code whose check character does not hold.
    if strict_org_code and org_code_check(code[8:16]) != code[16]:
        return "bad organisation code check character"
    return None


def make(registration_dept: str, org_type: str, area_code: str, org_code_body: str) -> str:
    """Build a valid code from its parts; org_code_body is the org code's first 8 characters."""
    if len(registration_dept) != 1 or registration_dept not in _VALUE:
        raise ValueError(f"registration department must be one character from {CHARSET}")
    if len(org_type) != 1 or org_type not in _VALUE:
        raise ValueError(f"organisation type must be one character from {CHARSET}")
    if len(area_code) != 6 or not (area_code.isascii() and area_code.isdigit()):
        raise ValueError("area code must be 6 digits")
    if len(org_code_body) != 8 or any(c not in _VALUE for c in org_code_body):
        raise ValueError(f"organisation code body must be 8 characters from {CHARSET}")
    first17 = registration_dept + org_type + area_code + org_code_body
    first17 += org_code_check(org_code_body)
    return first17 + checksum_char(first17)

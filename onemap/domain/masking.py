"""Masking of personal data (PIPL: show each role the minimum it needs).

ID 210103********1234, phone 138****5678, name 张*. Unmasking one record is an explicit,
audited action; nothing here decides who may unmask (see roles.py).

A mask only holds if nothing else that leaves the server gives the hidden part back. The
eight hidden digits of a citizen ID are the birth date, so a masked person carries an age
band, never the birth date (`mask_person`); and a search must not confirm guesses at a masked
value (`search_mode`: whole names only and no ID numbers for roles that may not unmask).
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum


def mask_id(id_number: str | None) -> str | None:
    """Keep the 6-digit area code and the last 4 characters: 210103********1234."""
    if not id_number:
        return id_number
    if len(id_number) <= 10:
        return id_number[:2] + "*" * (len(id_number) - 2)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_phone(phone: str | None) -> str | None:
    """Keep the first 3 and last 4 digits of a mobile: 138****5678."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    """Keep the surname's first character: 张*, 欧阳** becomes 欧**; Latin names keep the initial."""
    if not name:
        return name
    name = name.strip()
    if " " in name:  # Latin-script foreign names: initial of each part
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split())
    return name[0] + "*" * max(1, len(name) - 1)


def mask_passport(number: str | None) -> str | None:
    """Keep the first and last 2 characters of a passport number."""
    if not number:
        return number
    return number[:1] + "*" * max(1, len(number) - 3) + number[-2:]


PERSON_FIELDS = {
    "id_number": mask_id,
    "passport_number": mask_passport,
    "phone": mask_phone,
    "name": mask_name,
    "reporter_phone": mask_phone,
    "reporter_name": mask_name,
    "contact_phone": mask_phone,
    "contact_name": mask_name,
}


def mask_record(record: dict, fields: dict = PERSON_FIELDS) -> dict:
    """A copy of the record with every personal field it has masked."""
    return {k: (fields[k](v) if k in fields else v) for k, v in record.items()}


def age_band(birth_date: date | str, today: date) -> str:
    """The decade of life, e.g. "60-69": what a masked record says instead of a birth date."""
    born = date.fromisoformat(birth_date) if isinstance(birth_date, str) else birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    low = max(0, age) // 10 * 10
    return f"{low}-{low + 9}"


def mask_person(record: dict, today: date) -> dict:
    """A person as every role sees them before unmasking: personal fields masked and the birth
    date (the ID's hidden digits) replaced by an age band."""
    out = mask_record({k: v for k, v in record.items() if k != "birth_date"})
    if record.get("birth_date"):
        out["age_band"] = age_band(record["birth_date"], today)
    return out


class SearchMode(str, Enum):
    """How a person search matches, by what the query is and who asks."""

    ID_NUMBER = "id_number"      # the whole citizen ID or passport number
    NAME_PREFIX = "name_prefix"  # names that start with the query
    WHOLE_NAME = "whole_name"    # names equal to the query


class SearchRefused(ValueError):
    """A query this role may not run: it would confirm a guess at a masked value."""


_ID_LIKE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]|[A-Za-z]{1,2}[0-9]{6,10}")


def search_mode(query: str, *, may_unmask: bool) -> SearchMode:
    """Roles that may unmask search by ID number or the start of a name (every query is
    audited and misses are counted). Others may search whole names only, and never by ID
    number: a yes/no answer to a guessed ID or a growing prefix gives the masked part back."""
    if _ID_LIKE.fullmatch(query):
        if not may_unmask:
            raise SearchRefused("searching by ID number needs the unmask right"
                                " / 按证件号码查询需要查看明文权限")
        return SearchMode.ID_NUMBER
    return SearchMode.NAME_PREFIX if may_unmask else SearchMode.WHOLE_NAME


def mask_search_term(term: str) -> str:
    """A person search's query as a viewer who may not unmask sees it in the audit log."""
    term = term.strip()
    if _ID_LIKE.fullmatch(term):
        return mask_id(term) if term[:1].isdigit() else mask_passport(term)
    return mask_name(term) or term


def mask_audit_details(details: dict | None) -> dict | None:
    """An audit row's details with the person searched for masked (the audit page shows
    administrators what others searched for; administrators may not look people up)."""
    if not isinstance(details, dict) or not isinstance(details.get("query"), str):
        return details
    return {**details, "query": mask_search_term(details["query"])}

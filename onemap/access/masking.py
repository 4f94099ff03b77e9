"""Masking of personal data (PIPL: show each role the minimum it needs).

ID 210103********1234, phone 138****5678, name 张*. Unmasking one record is an explicit,
audited action; nothing here decides who may unmask (see roles.py).
"""

from __future__ import annotations


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

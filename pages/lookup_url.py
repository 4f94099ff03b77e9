"""The look-up page's URL (pages/lookup.py): which unit, building and room it opens on, read
without trusting it (callbacks/lookup.py checks every id again, and the database the scope)."""

from __future__ import annotations

URL_KEYS = ("unit", "building", "room")
MAX_ID = 2**63 - 1


def unit_in_scope(value, scope_code: str) -> str:
    """An administrative unit's code from a URL when it is one inside the scope (district 6,
    street 9, community 12, grid 15 digits), else the scope's own."""
    if (isinstance(value, str) and value.isdigit() and len(value) in (6, 9, 12, 15)
            and value.startswith(scope_code)):
        return value
    return scope_code


def selection_from_url(query: dict, scope_code: str) -> tuple[str, int | None, int | None]:
    """(unit code, building id, room id) from the URL; the scope's own unit for a code that is
    not one inside the scope, None for an id that is not a positive integer."""
    unit = unit_in_scope(query.get("unit"), scope_code)

    def an_id(value) -> int | None:
        if isinstance(value, str) and value.isdigit() and 0 < int(value) <= MAX_ID:
            return int(value)
        return None

    return unit, an_id(query.get("building")), an_id(query.get("room"))

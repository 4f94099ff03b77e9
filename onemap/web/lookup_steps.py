"""The look-up's steps as every way in takes them: the JSON API (api_lookup_*.py) and the
look-up page's callbacks (callbacks/lookup.py) open building tables and household cards, search
and unmask through these functions, so both read, mask, audit and lock alike.

Each runs in one scoped transaction (row-level security decides what the caller may reach)
that holds the read and its audit row; a miss (nothing found, or nothing of the caller's) is
counted toward the look-up lock (lookup_guard.count_miss) and raises the same NotFound for a
missing and an out-of-scope object. People leave masked (mask_person: an age band, never the
birth date a masked ID hides) unless `unmask` is asked, with a purpose.
"""

from __future__ import annotations

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from geodata.queries import building_table as housing
from geodata.queries import lookup_search, people, unit_stats
from geodata.rate_limits import PostgresStorage
from geodata.scope import scoped
from onemap.domain.idcard import china_today
from onemap.domain.lookup_query import InvalidQuery, parse_query
from onemap.domain.masking import SearchRefused, mask_person, mask_search_term
from onemap.domain.roles import Capability
from onemap.settings import get_settings

from .lookup_guard import NoSuchPerson, count_miss, unless_locked, user_key
from .auth import audit_request, current_scope, current_user, refused
from .errors import ApiError, InvalidRequest, NotFound, NotPermitted

_page_lookups = FixedWindowRateLimiter(PostgresStorage())


class NoSuchBuilding(NotFound):
    """The same answer for a building that does not exist and one outside the user's scope."""

    zh, en = "范围内无此楼栋", "no such building in your scope"


class NoSuchHousehold(NotFound):
    """The same answer for a room that does not exist and one outside the user's scope."""

    zh, en = "范围内无此房屋", "no such household in your scope"


class TooManyLookups(ApiError):
    """The page's look-ups past the same rate the API allows (ONEMAP_LOOKUP_RATE_LIMIT)."""

    status, zh, en = 429, "查询过于频繁，请稍后再试", "too many look-ups; try again shortly"


def within_page_rate() -> None:
    """The look-up rate limit for the page's callbacks (the API's views have Flask-Limiter's
    decorator with the same limit): one more look-up, or TooManyLookups."""
    if not _page_lookups.hit(parse(get_settings().lookup_rate_limit), "lookup-page",
                             user_key()):
        raise TooManyLookups()


def _masked_member(member: dict, today) -> dict:
    out = mask_person({k: v for k, v in member.items() if k not in ("tags", "other_home")},
                      today)
    out["tags"] = member["tags"]
    out["other_home"] = member["other_home"]
    return out


RESULTS_PER_GROUP = 20


def search(text: str, *, building_id: int | None = None, community: str | None = None) -> dict:
    """Everything one query finds in the caller's scope, grouped by kind, people masked
    (onemap/domain/lookup_query.py reads the query per role: roles without the unmask right
    match whole names and whole pinyin only, never IDs or phones: NotPermitted). One audit row
    with the query masked; a search for people that finds nobody counts toward the lock."""
    unless_locked()
    try:
        query = parse_query(text, may_unmask=current_user.can(Capability.UNMASK_PERSON))
    except SearchRefused:
        refused(Capability.UNMASK_PERSON)  # the audit row names the missing right
        raise NotPermitted("按证件号码查询需要查看明文权限",
                           "searching by ID number needs the unmask right") from None
    except InvalidQuery as error:
        raise InvalidRequest(fields={"q": f"{error.en} / {error.zh}"}) from None
    with scoped(current_scope()) as conn:
        groups = lookup_search.search(conn, query, building_id=building_id,
                                      community=community, limit=RESULTS_PER_GROUP)
        audit_request(conn, "lookup_search", object_kind="search", details={
            "query": mask_search_term(query.text), "kinds": [k.value for k in query.kinds],
            "results": {name: len(rows) for name, rows in groups.items()},
        })
        if query.finds_people and not groups.get("people"):
            count_miss(conn, "lookup_search")
    today = china_today()
    if "people" in groups:
        groups["people"] = [mask_person(row, today) for row in groups["people"]]
    return {"query": query.text, "kinds": [k.value for k in query.kinds], "groups": groups}


def unit_overview(code: str) -> tuple[dict | None, list[dict]]:
    """A unit's counts and those of the units (or, below a grid, the buildings) one level
    down: counts only, nobody named, so nothing to audit."""
    with scoped(current_scope()) as conn:
        return unit_stats.unit_counts(conn, code), unit_stats.child_counts(conn, code)


def _read_audited(read, object_id: int, action: str, kind: str, counted: tuple[str, str],
                  missing: type[NotFound]) -> dict:
    """`read(conn, object_id)` on the caller's scoped connection with its audit row (found, and
    under counted[0] how many items its counted[1] holds) in the same transaction; a miss
    counts toward the lock and raises `missing`, alike for missing and out-of-scope objects."""
    unless_locked()
    with scoped(current_scope()) as conn:
        found = read(conn, object_id)
        audit_request(conn, action, object_kind=kind, object_id=str(object_id),
                      details={"found": found is not None,
                               counted[0]: len(found[counted[1]]) if found else 0})
        if found is None:
            count_miss(conn, action)
    if found is None:
        raise missing()
    return found


def building_table(building_id: int) -> dict:
    """楼盘表 (geodata/queries/building_table.py), audited; NoSuchBuilding for a missing or
    out-of-scope building."""
    return _read_audited(housing.building_table, building_id, "building_table", "building",
                         ("rooms", "cells"), NoSuchBuilding)


def household_card(household_id: int) -> dict:
    """A room with its members masked, and its cases, audited; NoSuchHousehold for a missing
    or out-of-scope room."""
    card = _read_audited(housing.household_card, household_id, "household_card", "household",
                         ("members", "members"), NoSuchHousehold)
    today = china_today()
    card["members"] = [_masked_member(m, today) for m in card["members"]]
    return card


def unmask(person_id: int, purpose: str | None) -> dict:
    """One person in full, for a stated purpose that the audit log keeps (the caller checked
    the unmask right)."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidRequest("请填写查看事由", "state the purpose",
                             fields={"purpose": "required"})
    unless_locked()
    with scoped(current_scope()) as conn:
        record = people.person(conn, person_id)
        audit_request(conn, "unmask", object_kind="person", object_id=str(person_id),
                      purpose=purpose[:500], details={"found": record is not None})
        if record is None:
            count_miss(conn, "unmask")
    if record is None:
        raise NoSuchPerson()
    return record


# what an unmasked person gives a household card's member
UNMASKED_FIELDS = ("name", "id_number", "passport_number", "phone", "birth_date", "gender")


def unmasked_member(record: dict) -> dict:
    """The fields of an unmasked person (`unmask`) that a card's member shows."""
    return {key: record.get(key) for key in UNMASKED_FIELDS}

"""The building table (楼盘表) and the household card (以房找人) over HTTP.

Both answer only what the caller's scope holds (row-level security: a building or room outside
it is 404, like a missing one), both are audited in the transaction that reads them (the table
tells who lives where by tag, the card names people), and both share the person look-ups'
rate limit, miss count and lock (onemap/web/api_persons.py): walking room ids is the same
enumeration as walking person ids. Members leave the server masked (mask_person: an age band,
never the birth date that a masked ID hides); unmasking one stays POST
/api/persons/<id>/unmask, with a purpose.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from geodata.queries import building_table as housing
from geodata.scope import scoped
from onemap.domain.idcard import china_today
from onemap.domain.masking import mask_person
from onemap.domain.roles import Capability
from onemap.settings import get_settings

from .api_persons import _count_miss, _unless_locked, _user_key
from .auth import audit_request, current_scope, limiter, requires
from .errors import NotFound
from .openapi import documented

api = Blueprint("lookup_housing", __name__, url_prefix="/api/lookup")


class NoSuchBuilding(NotFound):
    """The same answer for a building that does not exist and one outside the user's scope."""

    zh, en = "范围内无此楼栋", "no such building in your scope"


class NoSuchHousehold(NotFound):
    """The same answer for a room that does not exist and one outside the user's scope."""

    zh, en = "范围内无此房屋", "no such household in your scope"


def _masked_member(member: dict, today) -> dict:
    out = mask_person({k: v for k, v in member.items() if k not in ("tags", "other_home")},
                      today)
    out["tags"] = member["tags"]
    out["other_home"] = member["other_home"]
    return out


@api.get("/buildings/<int:building_id>/table")
@documented("楼盘表 · a building's rooms as a unit × floor matrix",
            errors=(401, 403, 404, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=_user_key)
@requires(Capability.LOOKUP_PERSON)
def lookup_building_table(building_id: int):
    """A building's rooms as a unit × floor matrix: each room's occupancy, residents and
    registered people (counts), key-group badges of its residents (sensitive ones only for
    roles that may see them) and open cases; floors top first, basements negative.
    404 alike for a missing building and one outside the caller's scope."""
    _unless_locked()
    with scoped(current_scope()) as conn:
        table = housing.building_table(conn, building_id)
        audit_request(conn, "building_table", object_kind="building",
                      object_id=str(building_id),
                      details={"found": table is not None,
                               "rooms": len(table["cells"]) if table else 0})
        if table is None:
            _count_miss(conn, "building_table")
    if table is None:
        raise NoSuchBuilding()
    return jsonify(table)


@api.get("/households/<int:household_id>")
@documented("户卡 · a room, its members (masked) and its cases",
            errors=(401, 403, 404, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=_user_key)
@requires(Capability.LOOKUP_PERSON)
def lookup_household_card(household_id: int):
    """A room with its members, masked (name, ID, passport and phone masked, an age band for
    the birth date), their relation to the householder, whether they live or are registered
    here, their other home when the caller's scope holds it (人户分离), their tags as the role
    may see them, and the room's cases, newest first. 404 alike for a missing room and one
    outside the caller's scope."""
    _unless_locked()
    with scoped(current_scope()) as conn:
        card = housing.household_card(conn, household_id)
        audit_request(conn, "household_card", object_kind="household",
                      object_id=str(household_id),
                      details={"found": card is not None,
                               "members": len(card["members"]) if card else 0})
        if card is None:
            _count_miss(conn, "household_card")
    if card is None:
        raise NoSuchHousehold()
    today = china_today()
    card["members"] = [_masked_member(m, today) for m in card["members"]]
    return jsonify(card)

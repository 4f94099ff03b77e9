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

from onemap.domain.roles import Capability
from onemap.settings import get_settings

from . import lookup_steps
from .auth import limiter, requires
from .lookup_guard import user_key
from .openapi import documented

api = Blueprint("lookup_housing", __name__, url_prefix="/api/lookup")


@api.get("/buildings/<int:building_id>/table")
@documented("楼盘表 · a building's rooms as a unit × floor matrix",
            errors=(401, 403, 404, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=user_key)
@requires(Capability.LOOKUP_PERSON)
def lookup_building_table(building_id: int):
    """A building's rooms as a unit × floor matrix: each room's occupancy, residents and
    registered people (counts), key-group badges of its residents (sensitive ones only for
    roles that may see them) and open cases; floors top first, basements negative.
    404 alike for a missing building and one outside the caller's scope."""
    table = lookup_steps.building_table(building_id)
    return jsonify(table)


@api.get("/households/<int:household_id>")
@documented("户卡 · a room, its members (masked) and its cases",
            errors=(401, 403, 404, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=user_key)
@requires(Capability.LOOKUP_PERSON)
def lookup_household_card(household_id: int):
    """A room with its members, masked (name, ID, passport and phone masked, an age band for
    the birth date), their relation to the householder, whether they live or are registered
    here, their other home when the caller's scope holds it (人户分离), their tags as the role
    may see them, and the room's cases, newest first. 404 alike for a missing room and one
    outside the caller's scope."""
    card = lookup_steps.household_card(household_id)
    return jsonify(card)

"""Person look-up over HTTP: masked by default, unmasked one at a time with a purpose.

Every look-up, search and unmask is written to the audit log in the same transaction that
reads the data, so nothing is shown that was not recorded. What a masked answer may hold, and
how each role may search, is decided in onemap/domain/masking.py; look-ups and searches that
find nobody are counted, and past `ONEMAP_LOOKUP_MISS_LIMIT` the user's look-ups are locked
until an administrator unlocks them (guessing is what enumeration looks like).
"""

from __future__ import annotations

from onemap.domain.idcard import china_today

from flask import Blueprint, jsonify
from flask_login import current_user

from geodata.queries import people
from geodata.scope import scoped
from onemap.domain.masking import SearchRefused, mask_person, search_mode
from onemap.domain.roles import Capability
from onemap.settings import get_settings

from .auth import audit_request, current_scope, limiter, refused, requires
from . import lookup_steps
from .lookup_guard import NoSuchPerson, count_miss, unless_locked, user_key
from .bodies import SearchBody, UnmaskBody
from .openapi import documented, parsed_body
from .errors import NotPermitted

api = Blueprint("persons", __name__, url_prefix="/api/persons")


def _audit(conn, action: str, object_id: str | None, **extra) -> None:
    audit_request(conn, action, object_kind="person", object_id=object_id, **extra)


def _masked(record: dict) -> dict:
    out = mask_person({k: v for k, v in record.items() if k not in ("homes", "tags")},
                      china_today())
    out["homes"] = record.get("homes", [])
    out["tags"] = record.get("tags", [])
    return out


@api.get("/<int:person_id>")
@documented("按编号查人（脱敏） · one person, masked", errors=(401, 403, 404, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=user_key)
@requires(Capability.LOOKUP_PERSON)
def look_up(person_id: int):
    """One person, masked; 404 alike for missing and out-of-scope people."""
    unless_locked()
    with scoped(current_scope()) as conn:
        record = people.person(conn, person_id)
        # a miss is recorded too: guessing ids outside one's scope should leave a trace
        _audit(conn, "person_lookup", str(person_id), details={"found": record is not None})
        if record is None:
            count_miss(conn, "person_lookup")
    if record is None:
        raise NoSuchPerson()
    return jsonify(_masked(record))


@api.post("/search")
@documented("查人 · people by ID number or name, masked", body=SearchBody,
            errors=(400, 401, 403, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=user_key)
@requires(Capability.LOOKUP_PERSON)
def search():
    """People by ID number or name, masked; the query travels in the body, not the URL.
    Roles that may unmask match ID numbers and name prefixes, the others whole names only."""
    unless_locked()
    query = parsed_body(SearchBody).q
    try:
        mode = search_mode(query, may_unmask=current_user.can(Capability.UNMASK_PERSON))
    except SearchRefused:
        refused(Capability.UNMASK_PERSON)  # the audit row names the missing right
        raise NotPermitted("按证件号码查询需要查看明文权限",
                           "searching by ID number needs the unmask right") from None
    with scoped(current_scope()) as conn:
        found = people.search(conn, query, mode)
        _audit(conn, "person_search", None,
               details={"query": query, "mode": mode.value, "results": len(found)})
        if not found:
            count_miss(conn, "person_search")
    today = china_today()
    return jsonify([mask_person(r, today) for r in found])


@api.post("/<int:person_id>/unmask")
@documented("查看明文（留痕） · one person in full, for a stated purpose", body=UnmaskBody,
            errors=(400, 401, 403, 404, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=user_key)
@requires(Capability.UNMASK_PERSON)
def unmask(person_id: int):
    """One person in full, for a stated purpose that the audit log keeps."""
    record = lookup_steps.unmask(person_id, parsed_body(UnmaskBody).purpose)
    return jsonify(record)


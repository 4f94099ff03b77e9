"""The one search box over HTTP (issue 12): POST /api/lookup/search.

One query, read into every kind it can be (onemap/domain/lookup_query.py), searched in the
caller's scope (geodata/queries/lookup_search.py), answered grouped by kind with every person
masked; unmasking one stays POST /api/persons/<id>/unmask. Each search writes one audit row
with the query masked, in the transaction that read the results; searches for people that find
nobody count towards the look-up lock, as the person search's do (onemap/web/api_persons.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from geodata.queries import lookup_search
from geodata.scope import scoped
from onemap.domain.idcard import china_today
from onemap.domain.lookup_query import InvalidQuery, parse_query
from onemap.domain.masking import SearchRefused, mask_person, mask_search_term
from onemap.domain.roles import Capability
from onemap.settings import get_settings

from .api_persons import _count_miss, _unless_locked, _user_key
from .auth import audit_request, current_scope, limiter, refused, requires
from .bodies import LookupSearchBody
from .errors import InvalidRequest, NotPermitted
from .openapi import documented, parsed_body

api = Blueprint("lookup_search", __name__, url_prefix="/api/lookup")

RESULTS_PER_GROUP = 20


@api.post("/search")
@documented("一框搜索 · people, rooms, buildings, enterprises and places by one query, masked",
            body=LookupSearchBody, errors=(400, 401, 403, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=_user_key)
@requires(Capability.LOOKUP_PERSON)
def search():
    """Everything one query finds in the caller's scope, grouped by kind; people masked. Roles
    without the unmask right match whole names and whole pinyin only, and never IDs or
    phones (403). The query travels in the body, not the URL."""
    _unless_locked()
    body = parsed_body(LookupSearchBody)
    try:
        query = parse_query(body.q, may_unmask=current_user.can(Capability.UNMASK_PERSON))
    except SearchRefused:
        refused(Capability.UNMASK_PERSON)  # the audit row names the missing right
        raise NotPermitted("按证件号码查询需要查看明文权限",
                           "searching by ID number needs the unmask right") from None
    except InvalidQuery as error:
        raise InvalidRequest(fields={"q": f"{error.en} / {error.zh}"}) from None
    with scoped(current_scope()) as conn:
        groups = lookup_search.search(conn, query, building_id=body.building_id,
                                      community=body.community, limit=RESULTS_PER_GROUP)
        audit_request(conn, "lookup_search", object_kind="search", details={
            "query": mask_search_term(query.text), "kinds": [k.value for k in query.kinds],
            "results": {name: len(rows) for name, rows in groups.items()},
        })
        if query.finds_people and not groups.get("people"):
            _count_miss(conn, "lookup_search")
    today = china_today()
    if "people" in groups:
        groups["people"] = [mask_person(row, today) for row in groups["people"]]
    return jsonify({"query": query.text, "kinds": [k.value for k in query.kinds],
                    "groups": groups})

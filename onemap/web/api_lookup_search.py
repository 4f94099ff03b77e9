"""The one search box over HTTP (issue 12): POST /api/lookup/search.

One query, read into every kind it can be (onemap/domain/lookup_query.py), searched in the
caller's scope (geodata/queries/lookup_search.py), answered grouped by kind with every person
masked; unmasking one stays POST /api/persons/<id>/unmask. The steps (the role's reading of the
query, one audit row with the query masked in the transaction that read the results, misses
counted toward the look-up lock) are onemap/web/lookup_steps.py's, shared with the /lookup page.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from onemap.domain.roles import Capability
from onemap.settings import get_settings

from . import lookup_steps
from .auth import limiter, requires
from .bodies import LookupSearchBody
from .lookup_guard import user_key
from .openapi import documented, parsed_body

api = Blueprint("lookup_search", __name__, url_prefix="/api/lookup")


@api.post("/search")
@documented("一框搜索 · people, rooms, buildings, enterprises and places by one query, masked",
            body=LookupSearchBody, errors=(400, 401, 403, 423, 429))
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=user_key)
@requires(Capability.LOOKUP_PERSON)
def search():
    """Everything one query finds in the caller's scope, grouped by kind; people masked. Roles
    without the unmask right match whole names and whole pinyin only, and never IDs or
    phones (403). The query travels in the body, not the URL."""
    body = parsed_body(LookupSearchBody)
    return jsonify(lookup_steps.search(body.q, building_id=body.building_id,
                                       community=body.community))

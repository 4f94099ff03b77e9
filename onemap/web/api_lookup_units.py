"""The navigator's counts over HTTP: a unit and the units (or a grid's buildings) one level down.

Counts only, never a person: buildings, rooms by occupancy, people, key groups without the
sensitive tags, open cases, cameras (geodata/queries/unit_stats.py). So the map's right is
enough, and no audit row is written. Row-level security decides the scope: a unit outside it
answers 404 exactly like one that does not exist (a grid worker asking for their district).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from geodata.queries.unit_stats import child_counts, level_of, unit_counts
from geodata.scope import scoped
from onemap.domain.roles import Capability

from .auth import current_scope, requires
from .errors import InvalidRequest, NotFound
from .openapi import documented

api = Blueprint("lookup_units", __name__, url_prefix="/api/lookup/units")


class NoSuchUnit(NotFound):
    """The same answer for a unit that does not exist and one outside the caller's scope."""

    zh, en = "范围内无此区划", "no such unit in your scope"


@api.get("/<code>")
@documented("区划统计 · a district, street, community or grid with its counts, and its children",
            answers={200: "{unit: counts of the unit, children: the units one level down (a"
                          " grid's buildings), each with its counts}"},
            errors=(400, 401, 403, 404))
@requires(Capability.VIEW_MAP)
def unit(code: str):
    """A unit's counts and bounds, and its children's counts; 400 for a code that is not 6, 9,
    12 or 15 digits, 404 for one unknown or outside the scope."""
    if level_of(code) is None:
        raise InvalidRequest(fields={"code": "6, 9, 12 or 15 digits (district, street, community"
                                             " or grid) / 须为 6、9、12 或 15 位区划代码"})
    with scoped(current_scope()) as conn:
        counts = unit_counts(conn, code)
        if counts is None:
            raise NoSuchUnit()
        children = child_counts(conn, code)
    return jsonify({"unit": counts, "children": children})

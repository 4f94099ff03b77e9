"""Field staff over HTTP, from grid workers' phones: PUT /api/staff/me/position and
PUT /api/staff/me/duty. "me" is the signed-in user's staff row; the database refuses any other
(migration 0013). Positions may come in WGS84, GCJ-02 or BD-09, as phones report them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from geodata.queries import staff
from geodata.scope import scoped
from onemap.domain.intake import InvalidReport, parse_position
from onemap.domain.roles import Capability

from .auth import current_scope, requires
from .errors import InvalidRequest, NotFound

api = Blueprint("staff", __name__, url_prefix="/api/staff")


def _not_staff() -> NotFound:
    return NotFound("您不在工作人员名单中", "you are not on the staff list")


@api.put("/me/position")
@requires(Capability.HANDLE_EVENT)
def my_position():
    """{"lon", "lat", "crs"?}: where I am now; 200 with the time it was recorded."""
    try:
        lon, lat = parse_position(request.get_json(silent=True))
    except InvalidReport as exc:
        raise InvalidRequest(fields=exc.errors) from None
    with scoped(current_scope()) as conn:
        moved = staff.move_me(conn, lon, lat)
    if moved is None:
        raise _not_staff()
    return jsonify(moved), 200


@api.put("/me/duty")
@requires(Capability.HANDLE_EVENT)
def my_duty():
    """{"on_duty": true|false}: start or end a shift; 200 with the status it leaves."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("on_duty"), bool):
        raise InvalidRequest(fields={"on_duty": "true or false"})
    with scoped(current_scope()) as conn:
        changed = staff.set_my_duty(conn, body["on_duty"])
    if changed is None:
        raise _not_staff()
    return jsonify(changed), 200

"""Field staff over HTTP, from grid workers' phones: PUT /api/staff/me/position and
PUT /api/staff/me/duty. "me" is the signed-in user's staff row; the database refuses any other
(migration 0013). Positions may come in WGS84, GCJ-02 or BD-09, as phones report them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from geodata.queries import staff
from geodata.scope import scoped
from onemap.domain.intake import InvalidReport, PositionBody, parse_position
from onemap.domain.roles import Capability

from .auth import current_scope, requires
from .bodies import DutyBody
from .errors import InvalidRequest, NotFound
from .openapi import documented, parsed_body

api = Blueprint("staff", __name__, url_prefix="/api/staff")


def _not_staff() -> NotFound:
    return NotFound("您不在工作人员名单中", "you are not on the staff list")


@api.put("/me/position")
@documented("上报位置 · where I am now (grid workers' phones)", body=PositionBody,
            errors=(400, 401, 403, 404))
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
@documented("上岗/离岗 · start or end a shift", body=DutyBody, errors=(400, 401, 403, 404))
@requires(Capability.HANDLE_EVENT)
def my_duty():
    """{"on_duty": true|false}: start or end a shift; 200 with the status it leaves."""
    on_duty = parsed_body(DutyBody).on_duty
    with scoped(current_scope()) as conn:
        changed = staff.set_my_duty(conn, on_duty)
    if changed is None:
        raise _not_staff()
    return jsonify(changed), 200

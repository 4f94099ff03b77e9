"""Field staff over HTTP, from grid workers' phones: PUT /api/staff/me/position and
PUT /api/staff/me/duty. "me" is the signed-in user's staff row; the database refuses any other
(migration 0013). Positions may come in WGS84, GCJ-02 or BD-09, as phones report them."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from geodata.queries import staff
from geodata.scope import scoped
from onemap.domain.coordinates import to_wgs84
from onemap.domain.intake import CRS_CHOICES
from onemap.domain.roles import Capability

from .auth import current_scope, requires
from .errors import InvalidRequest, NotFound

api = Blueprint("staff", __name__, url_prefix="/api/staff")


def _not_staff() -> NotFound:
    return NotFound("您不在工作人员名单中", "you are not on the staff list")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@api.put("/me/position")
@requires(Capability.HANDLE_EVENT)
def my_position():
    """{"lon", "lat", "crs"?}: where I am now; 200 with the time it was recorded."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest(fields={"body": "a JSON object"})
    lon, lat = body.get("lon"), body.get("lat")
    crs = body.get("crs", "wgs84")
    errors = {}
    if not (_number(lon) and _number(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        errors["lon/lat"] = "numbers in range"
    if not isinstance(crs, str) or crs.lower() not in CRS_CHOICES:
        errors["crs"] = f"one of {', '.join(CRS_CHOICES)}"
    if errors:
        raise InvalidRequest(fields=errors)
    wgs_lon, wgs_lat = to_wgs84(crs.lower())(float(lon), float(lat))
    with scoped(current_scope()) as conn:
        moved = staff.move_me(conn, float(wgs_lon), float(wgs_lat))
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

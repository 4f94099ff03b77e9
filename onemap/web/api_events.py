"""Event intake over HTTP: POST /api/events.

Idempotent by (channel, external_ref): sending the same report twice returns the event the
first one made. The answer is sent only after the transaction holding the event, its first
history row and the audit row has committed: an acknowledged report is never lost.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, ProgrammingError

from geodata import users
from geodata.queries import events
from geodata.scope import scoped
from onemap.access.roles import Capability
from onemap.events.intake import InvalidReport, parse_report

from .auth import current_scope

api = Blueprint("events", __name__, url_prefix="/api/events")


def _error(status: int, message: str, **extra):
    return jsonify(error=message, **extra), status


@api.post("")
def report():
    """Register a reported event in the reporter's scope; 201 new, 200 already known."""
    if not current_user.can(Capability.REPORT_EVENT):
        return _error(403, "not permitted for your role / 无此权限")
    try:
        parsed = parse_report(request.get_json(silent=True), default_channel="grid_worker")
    except InvalidReport as exc:
        return _error(400, "invalid report / 上报内容有误", fields=exc.errors)
    try:
        with scoped(current_scope()) as conn:
            known = events.existing(conn, parsed.channel, parsed.external_ref)
            if known is None:
                made = events.register(conn, parsed, current_user.user.id)
                users.audit(conn, action="event_report", user=current_user.user,
                            object_kind="event", object_id=str(made["id"]),
                            ip=request.remote_addr, user_agent=request.headers.get("User-Agent"),
                            details={"to_state": "reported", "channel": parsed.channel})
    except events.UnknownCategory as exc:
        return _error(400, "invalid report / 上报内容有误",
                      fields={"category_code": f"unknown category {exc}"})
    except events.OutsideEveryGrid:
        return _error(422, "the place is in no grid of the district / 位置不在任何网格内")
    except ProgrammingError as exc:
        if "row-level security" in str(exc.orig):
            return _error(403, "the place is outside your area / 位置超出您的管辖范围")
        raise
    except IntegrityError:
        # the same reference arrived twice at once: the other request registered it
        with scoped(current_scope()) as conn:
            known = events.existing(conn, parsed.channel, parsed.external_ref)
        if known is None:
            raise
    if known is not None:
        return jsonify(known), 200
    return jsonify(made), 201

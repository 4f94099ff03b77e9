"""Events over HTTP: POST /api/events (intake) and POST /api/events/<id>/transitions.

Idempotent by (channel, sender, external_ref): the same sender sending the same report twice
gets the event the first one made; another sender's reference is no concern of theirs (and
reusing it reveals nothing). The answer is sent only after the transaction holding the event,
its first history row and the audit row has committed: an acknowledged report is never lost.
The same holds for every later step of the loop: state, history row and audit row commit
together.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import text

from geodata.queries import assignment
from geodata.scope import scoped
from onemap.domain.roles import Capability
from onemap.domain import lifecycle
from onemap.domain.intake import InvalidReport, parse_report
from onemap.domain.working_calendar import TimeLimit

from . import case_steps
from .auth import current_scope, requires
from .case_steps import BadReport
from .errors import InvalidRequest, NotFound

api = Blueprint("events", __name__, url_prefix="/api/events")


@api.post("")
@requires(Capability.REPORT_EVENT)
def report():
    """Register a reported event in the reporter's scope; 201 new, 200 already known."""
    try:
        parsed = parse_report(request.get_json(silent=True), default_channel="grid_worker",
                              idempotency_key=request.headers.get("Idempotency-Key"))
    except InvalidReport as exc:
        raise BadReport(fields=exc.errors) from None
    case, created = case_steps.report(parsed)
    return jsonify(case), 201 if created else 200


@api.post("/<int:event_id>/transitions")
@requires(Capability.HANDLE_EVENT)
def move(event_id: int):
    """Move a case along the loop: {"action", "note"?, "staff_id"?}. 200 with the new state;
    404 alike for missing and out-of-scope cases; 409 when the action does not apply now."""
    body = request.get_json(silent=True)
    if (not isinstance(body, dict) or not isinstance(body.get("action"), str)
            or body["action"] not in lifecycle.ACTIONS):  # 400 listing them, never echoing it
        raise InvalidRequest(fields={"action": f"one of {', '.join(lifecycle.ACTIONS)}"})
    staff_id, note, into = body.get("staff_id"), body.get("note"), body.get("into")
    if staff_id is not None and (not isinstance(staff_id, int) or isinstance(staff_id, bool)):
        raise InvalidRequest(fields={"staff_id": "a staff id"})
    if into is not None and (not isinstance(into, int) or isinstance(into, bool)):
        raise InvalidRequest(fields={"into": "the id of the case the report joins"})
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidRequest(fields={"note": "text of at most 2000 characters"})
    moved = case_steps.move(event_id, body["action"], note, staff_id, into)
    return jsonify(moved), 200


@api.post("/<int:event_id>/duplicate/dismiss")
@requires(Capability.HANDLE_EVENT)
def dismiss_duplicate(event_id: int):
    """Not a duplicate after all: {"note"?}; 200, 409 when the report carries no flag."""
    body = request.get_json(silent=True) or {}
    note = body.get("note") if isinstance(body, dict) else None
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidRequest(fields={"note": "text of at most 2000 characters"})
    cleared = case_steps.dismiss_duplicate(event_id, note)
    return jsonify(cleared), 200


@api.get("/<int:event_id>/suggestions")
@requires(Capability.HANDLE_EVENT)
def suggestions(event_id: int):
    """Who could take the case, best first: its grid's on-duty workers, then the nearest
    available staff, with distance (m) and load (cases in hand)."""
    with scoped(current_scope()) as conn:
        if conn.execute(text("SELECT 1 FROM onemap.event WHERE id = :id"),
                        {"id": event_id}).scalar() is None:
            raise NotFound("您的管辖范围内无此事件", "no such event in your area")
        staff = assignment.suggest_staff(conn, event_id)
    return jsonify({"event_id": event_id, "staff": staff}), 200


def _extension(body) -> tuple[TimeLimit, str]:
    """The extension asked for, or 400 naming the fields that are wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest(fields={"body": "a JSON object"})
    return case_steps.extension_asked(body.get("amount"), body.get("unit"), body.get("note"))


@api.post("/<int:event_id>/extension")
@requires(Capability.APPROVE_EXTENSION)
def extend(event_id: int):
    """延期: {"amount", "unit", "note"}; 200 with the new due_at, 409 for a case not in hand."""
    extra, note = _extension(request.get_json(silent=True))
    moved = case_steps.extend(event_id, extra, note)
    return jsonify(moved), 200

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
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from geodata.queries import assignment, duplicates, events
from geodata.scope import scoped
from onemap.domain.roles import Capability
from onemap.domain import lifecycle
from onemap.domain.intake import InvalidReport, parse_report
from onemap.domain.working_calendar import UNITS, TimeLimit

from .auth import audit_request, current_scope, requires
from .errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    NotPermitted,
    Unprocessable,
    insufficient_privilege,
)

api = Blueprint("events", __name__, url_prefix="/api/events")


class BadReport(InvalidRequest):
    """A report that cannot be taken; `fields` says what is wrong with which field."""

    zh, en = "上报内容有误", "invalid report"


@api.post("")
@requires(Capability.REPORT_EVENT)
def report():
    """Register a reported event in the reporter's scope; 201 new, 200 already known."""
    try:
        parsed = parse_report(request.get_json(silent=True), default_channel="grid_worker",
                              idempotency_key=request.headers.get("Idempotency-Key"))
    except InvalidReport as exc:
        raise BadReport(fields=exc.errors) from None
    try:
        with scoped(current_scope()) as conn:
            known = events.existing(conn, parsed.channel, parsed.external_ref)
            if known is None:
                made = events.register(conn, parsed, current_user.user.id)
                audit_request(conn, "event_report", object_kind="event",
                              object_id=str(made["id"]),
                              details={"to_state": "reported", "channel": parsed.channel})
    except events.UnknownCategory as exc:
        raise BadReport(fields={"category_code": f"unknown category {exc}"}) from None
    except events.OutsideEveryGrid:
        raise Unprocessable("位置不在任何网格内",
                            "the place is in no grid of the district") from None
    except ProgrammingError as exc:
        if insufficient_privilege(exc):  # row-level security's check on the new row
            raise NotPermitted("位置超出您的管辖范围", "the place is outside your area") from None
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
    try:
        with scoped(current_scope()) as conn:
            moved = events.transition(conn, event_id, body["action"], current_user.user.id,
                                      note, staff_id, into=into)
            audit_request(conn, f"event_{moved['action']}", object_kind="event",
                          object_id=str(event_id),
                          details={"from_state": moved["from_state"], "to_state": moved["state"],
                                   "staff_id": staff_id, "into": into})
    except events.NoSuchEvent:
        raise NotFound("您的管辖范围内无此事件", "no such event in your area") from None
    except events.NoSuchStaff:
        raise InvalidRequest(fields={"staff_id": "no such staff member in your area"}) from None
    except events.NoSuchCase:
        raise InvalidRequest(fields={"into": "no such open case in your area"}) from None
    except lifecycle.TransitionRefused as exc:
        raise Conflict(en=str(exc)) from None
    return jsonify(moved), 200


@api.post("/<int:event_id>/duplicate/dismiss")
@requires(Capability.HANDLE_EVENT)
def dismiss_duplicate(event_id: int):
    """Not a duplicate after all: {"note"?}; 200, 409 when the report carries no flag."""
    body = request.get_json(silent=True) or {}
    note = body.get("note") if isinstance(body, dict) else None
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise InvalidRequest(fields={"note": "text of at most 2000 characters"})
    try:
        with scoped(current_scope()) as conn:
            cleared = duplicates.dismiss(conn, event_id, current_user.user.id, note,
                                         events.clock(conn))
            audit_request(conn, "event_dismiss_duplicate", object_kind="event",
                          object_id=str(event_id),
                          details={"duplicate_of_id": cleared["was_duplicate_of_id"]})
    except LookupError:
        raise NotFound("您的管辖范围内无此事件", "no such event in your area") from None
    except duplicates.NotFlagged as exc:
        raise Conflict(en=str(exc)) from None
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


MAX_EXTENSION = 1000  # in any unit: a larger one is a typing error, not an extension


def _extension(body) -> tuple[TimeLimit, str]:
    """The extension asked for, or 400 naming the fields that are wrong."""
    if not isinstance(body, dict):
        raise InvalidRequest(fields={"body": "a JSON object"})
    amount, unit, note = body.get("amount"), body.get("unit"), body.get("note")
    errors = {}
    if (isinstance(amount, bool) or not isinstance(amount, (int, float))
            or not 0 < amount <= MAX_EXTENSION):
        errors["amount"] = f"a number more than 0 and at most {MAX_EXTENSION}"
    if unit not in UNITS:
        errors["unit"] = f"one of {', '.join(UNITS)}"
    if not isinstance(note, str) or not note.strip() or len(note) > 2000:
        errors["note"] = "the reason, 1 to 2000 characters"
    if errors:
        raise InvalidRequest(fields=errors)
    return TimeLimit(float(amount), unit), note.strip()


@api.post("/<int:event_id>/extension")
@requires(Capability.APPROVE_EXTENSION)
def extend(event_id: int):
    """延期: {"amount", "unit", "note"}; 200 with the new due_at, 409 for a case not in hand."""
    extra, note = _extension(request.get_json(silent=True))
    try:
        with scoped(current_scope()) as conn:
            moved = events.extend(conn, event_id, extra, current_user.user.id, note)
            audit_request(conn, "event_extend", object_kind="event", object_id=str(event_id),
                          details={"amount": extra.amount, "unit": extra.unit,
                                   "due_at": moved["due_at"].isoformat()})
    except events.NoSuchEvent:
        raise NotFound("您的管辖范围内无此事件", "no such event in your area") from None
    except events.NotExtendable as exc:
        raise Conflict(en=str(exc)) from None
    return jsonify(moved), 200

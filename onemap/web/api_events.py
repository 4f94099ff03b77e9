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
from onemap.domain.intake import InvalidReport, ReportBody, parse_report
from onemap.domain.roles import Capability

from . import case_steps
from .auth import current_scope, requires
from .bodies import ExtensionBody, NoteBody, SupervisionBody, TransitionBody
from .case_steps import BadReport
from .errors import NotFound
from .openapi import Header, documented, parsed_body

api = Blueprint("events", __name__, url_prefix="/api/events")
IDEMPOTENCY_KEY = Header("Idempotency-Key", "a retried POST with the same key gets the first "
                         "case back, never a second one (1 to 64 printable ASCII characters)")


@api.post("")
@documented("上报事件 · report an event", body=ReportBody, headers=(IDEMPOTENCY_KEY,),
            answers={201: "registered: the new case", 200: "already known: the first case"},
            errors=(400, 401, 403, 422, 429))
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
@documented("流转 · move a case along the loop", body=TransitionBody,
            errors=(400, 401, 403, 404, 409))
@requires(Capability.HANDLE_EVENT)
def move(event_id: int):
    """Move a case along the loop: {"action", "note"?, "staff_id"?}. 200 with the new state;
    404 alike for missing and out-of-scope cases; 409 when the action does not apply now."""
    step = parsed_body(TransitionBody)
    moved = case_steps.move(event_id, step.action, step.note, step.staff_id, step.into)
    return jsonify(moved), 200


@api.post("/<int:event_id>/duplicate/dismiss")
@documented("非重复 · dismiss a possible-duplicate flag", body=NoteBody,
            errors=(400, 401, 403, 404, 409))
@requires(Capability.HANDLE_EVENT)
def dismiss_duplicate(event_id: int):
    """Not a duplicate after all: {"note"?}; 200, 409 when the report carries no flag."""
    cleared = case_steps.dismiss_duplicate(event_id, parsed_body(NoteBody).note)
    return jsonify(cleared), 200


@api.get("/<int:event_id>/suggestions")
@documented("派遣建议 · whom to dispatch the case to", errors=(401, 403, 404))
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


@api.post("/<int:event_id>/supervision")
@documented("督办 · a supervision notice on a case near or past its limit", body=SupervisionBody,
            errors=(400, 401, 403, 404, 409))
@requires(Capability.SUPERVISE)
def supervise(event_id: int):
    """督办: {"note"}; 200 with the notice (its time, and whether the case was near or past its
    limit), 409 for a case whose clock is not running (finished, shelved, not yet due)."""
    notice = case_steps.supervise(event_id, parsed_body(SupervisionBody).note)
    return jsonify(notice), 200


@api.post("/<int:event_id>/extension")
@documented("延期 · more time for a case in hand", body=ExtensionBody,
            errors=(400, 401, 403, 404, 409))
@requires(Capability.APPROVE_EXTENSION)
def extend(event_id: int):
    """延期: {"amount", "unit", "note"}; 200 with the new due_at, 409 for a case not in hand."""
    asked = parsed_body(ExtensionBody)
    moved = case_steps.extend(event_id, asked.limit, asked.note)
    return jsonify(moved), 200

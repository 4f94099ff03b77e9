"""A case's steps as every way in takes them: the JSON API (api_events.py) and the dispatch
desk (callbacks/desk.py) report, move and extend cases through these functions, so both write
the same rows and refuse alike.

Each runs in one scoped transaction (row-level security decides what the caller may reach)
holding the change, its history row and its audit row: it returns only after all three have
committed, and raises an ApiError (errors.py) for anything it refuses, with nothing written.
"""

from __future__ import annotations

from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, ProgrammingError

from geodata.queries import duplicates, events, supervision
from geodata.scope import scoped
from onemap.domain import lifecycle
from onemap.domain.intake import EventReport
from onemap.domain.requests import field_errors
from onemap.domain.working_calendar import TimeLimit

from .auth import audit_request, current_scope, request_audit
from .bodies import ExtensionBody
from .errors import Conflict, InvalidRequest, NotFound, NotPermitted, Unprocessable, \
    insufficient_privilege


class BadReport(InvalidRequest):
    """A report that cannot be taken; `fields` says what is wrong with which field."""

    zh, en = "上报内容有误", "invalid report"


def no_such_case() -> NotFound:
    return NotFound("您的管辖范围内无此事件", "no such event in your area")


def report(parsed: EventReport, details: dict | None = None) -> tuple[dict, bool]:
    """Register a report in the reporter's scope: (the case, True) when it is new, (the case
    this sender already reported under that reference, False) when it is a retry. `details`:
    more for the audit row (how the report came in)."""
    try:
        with scoped(current_scope()) as conn:
            made, new = events.register(conn, parsed, current_user.user.id, audit=request_audit(
                "event_report", details={"to_state": "reported", "channel": parsed.channel,
                                         **(details or {})}))
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
        return known, False
    return made, new


def move(event_id: int, action: str, note: str | None, staff_id: int | None,
         into: int | None = None) -> dict:
    """One step of the loop with its history and audit rows (`staff_id` who takes it for a
    dispatch, `into` the case a merged report joins); NotFound alike for a missing and an
    out-of-scope case, Conflict (409) when the step does not apply to the case now."""
    try:
        with scoped(current_scope()) as conn:
            moved = events.transition(conn, event_id, action, current_user.user.id, note,
                                      staff_id, into=into)
            audit_request(conn, f"event_{moved['action']}", object_kind="event",
                          object_id=str(event_id),
                          details={"from_state": moved["from_state"], "to_state": moved["state"],
                                   "staff_id": staff_id, "into": into})
    except events.NoSuchEvent:
        raise no_such_case() from None
    except events.NoSuchStaff:
        raise InvalidRequest(fields={"staff_id": "no such staff member in your area"}) from None
    except events.NoSuchCase:
        raise InvalidRequest(fields={"into": "no such open case in your area"}) from None
    except lifecycle.TransitionRefused as exc:
        raise Conflict(en=str(exc)) from None
    return moved


def dismiss_duplicate(event_id: int, note: str | None) -> dict:
    """Not a duplicate after all: the flag cleared with its history and audit rows; Conflict
    (409) for a report that carries no flag."""
    try:
        with scoped(current_scope()) as conn:
            cleared = duplicates.dismiss(conn, event_id, current_user.user.id, note,
                                         events.clock(conn))
            audit_request(conn, "event_dismiss_duplicate", object_kind="event",
                          object_id=str(event_id),
                          details={"duplicate_of_id": cleared["was_duplicate_of_id"]})
    except LookupError:
        raise no_such_case() from None
    except duplicates.NotFlagged as exc:
        raise Conflict(en=str(exc)) from None
    return cleared


def extension_asked(amount, unit, note) -> tuple[TimeLimit, str]:
    """An extension as asked for (amount, unit, reason), by the API's own model
    (bodies.ExtensionBody), or 400 naming the fields that are wrong."""
    try:
        asked = ExtensionBody.model_validate({"amount": amount, "unit": unit, "note": note})
    except ValidationError as exc:
        raise InvalidRequest(fields=field_errors(exc)) from None
    return asked.limit, asked.note


def extend(event_id: int, extra: TimeLimit, note: str) -> dict:
    """延期 with its history and audit rows; Conflict (409) for a case not being handled."""
    try:
        with scoped(current_scope()) as conn:
            moved = events.extend(conn, event_id, extra, current_user.user.id, note)
            audit_request(conn, "event_extend", object_kind="event", object_id=str(event_id),
                          details={"amount": extra.amount, "unit": extra.unit,
                                   "due_at": moved["due_at"].isoformat()})
    except events.NoSuchEvent:
        raise no_such_case() from None
    except events.NotExtendable as exc:
        raise Conflict(en=str(exc)) from None
    return moved


def supervise(event_id: int, note: str) -> dict:
    """督办: a supervision notice in the case's history, with its audit row; NotFound alike for
    a missing and an out-of-scope case, Conflict (409) for a case whose clock is not running."""
    try:
        with scoped(current_scope()) as conn:
            notice = supervision.supervise(conn, event_id, current_user.user.id, note,
                                           events.clock(conn))
            if notice is None:
                raise no_such_case()
            audit_request(conn, "event_supervise", object_kind="event",
                          object_id=str(event_id),
                          details={"kind": notice["kind"], "due_at": notice["due_at"].isoformat()})
    except supervision.NotSupervisable as exc:
        raise Conflict(en=str(exc)) from None
    return notice

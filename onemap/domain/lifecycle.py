"""The event loop's states and the actions that move a case between them (no Dash, no SQL).

上报 reported → 立案 registered → 派遣 dispatched → 处置 handling → 反馈 handled → 核查 verified
→ 结案 closed; a report may be rejected (不予立案), a dispatched case sent back by whoever got it
when it is not theirs (退回重派, to be dispatched again), a case in hand shelved (挂账) and
resumed, and a reported-back case returned to the handler when the check finds it not done; a
report of a case already open is merged into it (合并) and counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Action:
    """One step of the loop: from which states, to which, and the time column it stamps."""

    name: str
    zh: str
    from_states: tuple[str, ...]
    to_state: str
    stamps: str | None = None  # the event column set to now()
    needs_staff: bool = False  # who takes the case
    needs_case: bool = False  # which case it joins (merge)


ACTIONS = {a.name: a for a in (
    Action("register", "立案", ("reported",), "registered", "registered_at"),
    Action("reject", "不予立案", ("reported",), "rejected", "registered_at"),
    Action("dispatch", "派遣", ("registered",), "dispatched", "dispatched_at", needs_staff=True),
    # not theirs: the one it was sent to gives it back to be sent again (派遣准确率 counts it)
    Action("send_back", "退回重派", ("dispatched",), "registered"),
    Action("accept", "接单", ("dispatched",), "handling"),
    Action("suspend", "挂账", ("handling",), "suspended"),
    Action("resume", "恢复处置", ("suspended",), "handling"),
    Action("report_back", "处置反馈", ("handling",), "handled", "handled_at"),
    Action("return", "退回重办", ("handled",), "dispatched"),
    Action("verify", "核查通过", ("handled",), "verified", "verified_at"),
    Action("close", "结案", ("verified",), "closed", "closed_at"),
    # a report of something already in hand joins that case and leaves the loop
    Action("merge", "合并", ("reported", "registered"), "merged", needs_case=True),
)}


# The one definition of where a case stands; SQL has the same as immutable functions
# (migration 0005: onemap.event_is_open / event_is_active / event_is_overdue), and a test holds
# the two equal.
STATES = tuple(dict.fromkeys(
    ["reported", *(s for a in ACTIONS.values() for s in (*a.from_states, a.to_state))]))
FINISHED_STATES = ("closed", "rejected", "merged")  # the loop is over
PAUSED_STATES = ("suspended",)  # shelved (挂账) with approval: its time limit stands still
NEW_STATES = ("reported", "registered")  # not yet sent to anyone
IN_HAND_STATES = ("dispatched", "handling", "handled", "verified")  # sent out, not closed
WITH_STAFF_STATES = ("dispatched", "handling")  # a member of staff has the case now


# Each state's stage, whose time limit runs while the case is in it (migration 0009:
# event_stage_limit; the category's own limit for handling). Shelved cases are in none.
STAGES = ("register", "dispatch", "handle", "verify", "close")
STAGE_OF_STATE = {"reported": "register", "registered": "dispatch", "dispatched": "handle",
                  "handling": "handle", "handled": "verify", "verified": "close"}
EXTENDABLE_STATES = ("dispatched", "handling")  # 延期: more time to handle, with approval


def starts_stage(action: Action, from_state: str) -> str | None:
    """The stage whose limit starts counting when `action` moves a case out of `from_state`;
    None when the case stays in its stage (accepting the dispatch), pauses or resumes (its
    clock stops and goes on: see working_calendar.resumed_due) or leaves the loop. A case
    returned for rework starts handling afresh."""
    if action.name in ("suspend", "resume"):
        return None
    stage = STAGE_OF_STATE.get(action.to_state)
    if stage is None:
        return None
    if action.name == "return" or stage != STAGE_OF_STATE.get(from_state):
        return stage
    return None


def is_open(state: str) -> bool:
    """Not closed, rejected or merged (shelved cases are open)."""
    return state not in FINISHED_STATES


def is_active(state: str) -> bool:
    """Open and not shelved: somebody is working on it and its time limit runs."""
    return is_open(state) and state not in PAUSED_STATES


def is_overdue(state: str, due_at: datetime | None, now: datetime) -> bool:
    """Active and past its time limit (a shelved case is not overdue: its clock is stopped)."""
    return is_active(state) and due_at is not None and due_at < now


class TransitionRefused(ValueError):
    """The action does not apply to the case as it stands; the message says why."""


def plan(state: str, action_name: str, staff_id: int | None = None,
         into: int | None = None) -> Action:
    """The action to apply to a case in `state`, or TransitionRefused naming what is allowed."""
    action = ACTIONS.get(action_name)
    if action is None:
        # never repeat the unknown name: it is whatever the client sent, of any length
        raise TransitionRefused(f"unknown action; one of {', '.join(ACTIONS)}")
    if state not in action.from_states:
        allowed = [a.name for a in ACTIONS.values() if state in a.from_states]
        raise TransitionRefused(
            f"a case that is {state} cannot be {action_name}ed here; "
            f"allowed: {', '.join(allowed) or 'nothing (the case is finished)'}")
    if action.needs_staff and staff_id is None:
        raise TransitionRefused(f"{action_name} needs staff_id: who takes the case")
    if action.needs_case and into is None:
        raise TransitionRefused(f"{action_name} needs into: the case it joins")
    return action


def closure_kind(overdue: bool) -> str:
    """How a closed case counts in the appraisal: on time or overdue (GB/T 30428 结案类型)."""
    return "overdue" if overdue else "normal"

"""The event loop's rules: which action applies to which state, and what it leads to."""

from __future__ import annotations

import pytest

from onemap.domain.vocab import EVENT_STATES
from onemap.domain import lifecycle
from onemap.domain.lifecycle import ACTIONS, TransitionRefused, closure_kind, plan


def test_the_whole_loop_with_one_return():
    state = "reported"
    for action in ("register", "dispatch", "accept", "report_back", "return", "accept",
                   "report_back", "verify", "close"):
        state = plan(state, action, staff_id=7).to_state
    assert state == "closed"


def test_every_state_reached_is_a_known_state():
    for action in ACTIONS.values():
        assert action.to_state in EVENT_STATES
        assert set(action.from_states) <= set(EVENT_STATES)


@pytest.mark.parametrize(("state", "action"), [
    ("reported", "close"), ("registered", "verify"), ("closed", "register"),
    ("rejected", "register"), ("handling", "dispatch"), ("suspended", "report_back"),
])
def test_actions_out_of_turn_are_refused_naming_what_is_allowed(state, action):
    with pytest.raises(TransitionRefused, match="allowed"):
        plan(state, action, staff_id=1)


def test_finished_cases_allow_nothing():
    with pytest.raises(TransitionRefused, match="nothing"):
        plan("closed", "close")


def test_dispatch_needs_somebody_to_send():
    with pytest.raises(TransitionRefused, match="staff_id"):
        plan("registered", "dispatch")
    assert plan("registered", "dispatch", staff_id=3).stamps == "dispatched_at"


def test_unknown_actions_are_refused_with_the_list():
    with pytest.raises(TransitionRefused, match="register, reject"):
        plan("reported", "approve")


def test_an_unknown_action_is_not_repeated_back():
    with pytest.raises(TransitionRefused) as caught:
        plan("reported", "approve-" + "x" * 10_000)
    assert "approve" not in str(caught.value) and len(str(caught.value)) < 200


def test_closure_kind_follows_the_time_limit():
    assert closure_kind(False) == "normal" and closure_kind(True) == "overdue"


@pytest.mark.parametrize("from_state, action, stage", [
    ("reported", "register", "dispatch"),
    ("registered", "dispatch", "handle"),
    ("dispatched", "accept", None),  # still handling: the dispatch's limit stands
    ("handling", "report_back", "verify"),
    ("handled", "return", "handle"),  # rework starts handling afresh
    ("handled", "verify", "close"),
    ("verified", "close", None),
    ("reported", "reject", None),
    ("handling", "suspend", None),
    ("suspended", "resume", None),  # its clock goes on where it stopped
])
def test_which_action_starts_a_stage(from_state, action, stage):
    assert lifecycle.starts_stage(lifecycle.ACTIONS[action], from_state) == stage


def test_every_open_state_but_shelved_has_a_stage():
    assert set(lifecycle.STAGE_OF_STATE) == {
        s for s in lifecycle.STATES if lifecycle.is_active(s)}
    assert set(lifecycle.STAGE_OF_STATE.values()) == set(lifecycle.STAGES)

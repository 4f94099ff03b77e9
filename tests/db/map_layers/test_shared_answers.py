"""Answers the wall screens share (geodata/shared_answers.py): shared by screens of one role
and scope at one clock, and never across a scope, a role, a capability, a change or a
session that ended."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from geodata import sessions, users
from geodata.queries.wall import feed
from geodata.shared_answers import POLICY_CAPABILITIES, SharedAnswers
from tests.db.map_layers.app_role import as_app
from onemap.domain.roles import ROLE_CAPABILITIES
from tests.db.map_layers.world import add_event, point
from tests.fixtures.hierarchy import DISTRICT

MIGRATIONS = Path(__file__).resolve().parents[3] / "geodata" / "migrations" / "versions"


class Counted:
    """The feed's case codes, counting how often the database was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, conn) -> tuple[str, ...]:
        self.calls += 1
        return tuple(sorted(row["code"] for row in feed(conn)))


def ask(answers, conn, compute, *, scope: str, role: str = "analyst", sensitive=False):
    with as_app(conn, scope, sensitive=sensitive) as app:
        return answers.answer(app, role=role, scope_code=scope, name="feed", params=None,
                              topics=("event",), compute=compute)


def test_screens_of_one_role_and_scope_share_one_answer(conn, world):
    answers, compute = SharedAnswers(), Counted()
    first = ask(answers, conn, compute, scope=world["a"])
    second = ask(answers, conn, compute, scope=world["a"])  # another session, same scope
    assert first == second == (f"E-{world['a'][6:]}-closed", f"E-{world['a'][6:]}-open")
    assert compute.calls == 1 and (answers.computed, answers.shared) == (1, 1)


def test_a_change_is_asked_again(conn, world):
    answers, compute = SharedAnswers(), Counted()
    a = world["a"]
    before = ask(answers, conn, compute, scope=a)
    add_event(conn, "E-new", a, point(conn, a, 0.01, 0.01))  # moves the live clock
    after = ask(answers, conn, compute, scope=a)
    assert "E-new" not in before and "E-new" in after
    assert compute.calls == 2


def test_another_scope_role_or_capability_never_gets_the_answer(conn, world):
    answers, compute = SharedAnswers(), Counted()
    a, b = world["a"], world["b"]
    mine = ask(answers, conn, compute, scope=a)
    theirs = ask(answers, conn, compute, scope=b)
    assert not set(mine) & set(theirs)
    assert all(code.startswith(f"E-{b[6:]}") for code in theirs)
    ask(answers, conn, compute, scope=a, role="duty_officer")
    ask(answers, conn, compute, scope=a, sensitive=True)
    assert compute.calls == 4 and answers.shared == 0


def test_a_session_that_ended_shares_nothing(conn, world):
    answers, compute = SharedAnswers(), Counted()
    a = world["a"]
    ask(answers, conn, compute, scope=a)
    with as_app(conn, a) as app:
        app.execute(text("RESET ROLE"))
        app.execute(text("UPDATE onemap.web_session SET ended_at = now(), end_reason ="
                         " 'sign_out' WHERE ended_at IS NULL"))
        app.execute(text("SET LOCAL ROLE onemap_app"))
        got = answers.answer(app, role="analyst", scope_code=a, name="feed", params=None,
                             topics=("event",), compute=compute)
    assert got == ()  # what the database shows a dead session, not the shared answer
    assert compute.calls == 2 and answers.shared == 0


def test_one_question_asked_at_once_is_computed_once(engine, demo_users):
    """Two hundred screens reload within a poll of each other: the first computes, the
    others wait for its answer instead of asking the database the same."""
    answers, started, calls = SharedAnswers(), threading.Barrier(6), []
    with engine.connect() as conn:
        user, _hash = users.credentials(conn, "duty")

    def slow(conn):
        calls.append(1)
        time.sleep(0.5)
        return "the answer"

    got = []

    def screen():
        with engine.connect() as own:  # a screen's own connection and (uncommitted) session
            transaction = own.begin()
            token = sessions.open_session(
                own, user, capabilities=[c.value for c in ROLE_CAPABILITIES[user.role]],
                user_agent="pytest", ip=None, idle=timedelta(hours=1),
                lifetime=timedelta(hours=1), scope_code=DISTRICT)
            own.execute(text("SET LOCAL ROLE onemap_app"))
            own.execute(text("SELECT set_config('onemap.session', :t, true)"), {"t": token})
            started.wait()
            got.append(answers.answer(own, role=user.role, scope_code=DISTRICT, name="slow",
                                      params=None, topics=("event",), compute=slow))
            transaction.rollback()

    threads = [threading.Thread(target=screen) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert got == ["the answer"] * 6
    assert len(calls) == 1 and answers.shared == 5


def test_the_key_holds_every_capability_the_database_asks_a_session_about():
    asked = set()
    for migration in MIGRATIONS.glob("*.py"):
        asked |= set(re.findall(r"session_can\('([a-z_]+)'\)", migration.read_text()))
    assert asked and asked <= set(POLICY_CAPABILITIES), sorted(asked - set(POLICY_CAPABILITIES))

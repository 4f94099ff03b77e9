""""Open", "active" and "overdue" mean the same in Python (lifecycle.py) and in SQL (0005)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from onemap.domain import lifecycle

NOW = datetime.now(timezone.utc)
DUE = {"past": NOW - timedelta(hours=1), "future": NOW + timedelta(days=1), "none": None}


@pytest.mark.parametrize("state", lifecycle.STATES)
@pytest.mark.parametrize("due", DUE)
def test_python_and_sql_agree(conn, state, due):
    row = conn.execute(text(
        "SELECT onemap.event_is_open(:s) AS open, onemap.event_is_active(:s) AS active,"
        " onemap.event_is_overdue(:s, CAST(:d AS timestamptz)) AS overdue"),
        {"s": state, "d": DUE[due]}).one()
    # now() is the transaction's start: a moment before NOW here, never across an hour
    assert row.open is lifecycle.is_open(state)
    assert row.active is lifecycle.is_active(state)
    assert row.overdue is lifecycle.is_overdue(state, DUE[due], NOW)


def test_every_state_the_vocabulary_names_is_in_the_loop():
    from onemap.domain.vocab import EVENT_STATES

    assert set(lifecycle.STATES) == set(EVENT_STATES)


def test_a_shelved_case_is_open_but_never_overdue():
    assert lifecycle.is_open("suspended") and not lifecycle.is_active("suspended")
    assert not lifecycle.is_overdue("suspended", NOW - timedelta(days=9), NOW)


def test_queries_for_active_cases_use_the_open_case_index(conn):
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(conn.execute(text(
        "EXPLAIN SELECT id FROM onemap.event WHERE onemap.event_is_active(state)")).scalars())
    assert "ix_event_open" in plan, plan

"""The escalation job: cases that reach 80 % of a stage's limit turn yellow (预警); cases past it
turn red (超期) and move one tier up. Each step is recorded in the case's history and in the
audit log, and moves the live clock, so open wall screens show it within seconds.

Exactly once per case and step, however many jobs run (several gunicorn hosts, two servers on
one database): each pass locks the rows it takes with FOR UPDATE SKIP LOCKED, so a second pass
running at the same moment skips them, and the UPDATE marks the row (`urgency`) under that
lock; a pass that reaches a row after the mark was committed finds its condition false
(PostgreSQL re-checks a locked row's WHERE on its newest version) and leaves it. (Two passes
that both change rows also queue on the live clock's row, which each bumps: the second
finishes after the first commits, and still acts only on what is left.) No advisory lock: it
would serialise whole passes, and a pass killed mid-way would hold nothing worth recovering
(its transaction rolls back). No pg_cron: one more extension to
install and grant on an external server, for a loop Python runs just as well.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from onemap.domain.escalation import TIERS, next_tier

JOB = "job:escalation"  # the audit log's username for what the job does
_TIER_UP = "CASE e.tier " + " ".join(f"WHEN '{t}' THEN '{next_tier(t)}'" for t in TIERS) + " END"
# which cases each step takes; the mark (`urgency`) is what makes a step happen once
_TO_WARN = ("onemap.event_is_active(state) AND urgency IS NULL"
            " AND warn_at <= :now AND due_at > :now")
_TO_ESCALATE = ("onemap.event_is_active(state) AND urgency IS DISTINCT FROM 'overdue'"
                " AND due_at <= :now")

_WARN = f"""
WITH taken AS (
  SELECT id FROM onemap.event
   WHERE {_TO_WARN}
   ORDER BY warn_at
   FOR UPDATE SKIP LOCKED
), marked AS (
  UPDATE onemap.event e SET urgency = 'warning', updated_at = :now
    FROM taken WHERE e.id = taken.id AND e.urgency IS NULL
  RETURNING e.id, e.state, e.tier, e.due_at
), history AS (
  INSERT INTO onemap.event_history (event_id, at, action, from_state, to_state, note, data)
  SELECT id, :now, 'warn', state, state, '预警: 80 % of the limit used',
         jsonb_build_object('due_at', due_at, 'tier', tier)
    FROM marked
)
INSERT INTO onemap.audit_log (at, username, action, object_kind, object_id, details)
SELECT :now, :job, 'event_warn', 'event', id::text, jsonb_build_object('tier', tier)
  FROM marked
RETURNING object_id
"""

_ESCALATE = f"""
WITH taken AS (
  SELECT id, tier FROM onemap.event
   WHERE {_TO_ESCALATE}
   ORDER BY due_at
   FOR UPDATE SKIP LOCKED
), moved AS (
  UPDATE onemap.event e SET urgency = 'overdue', overran = true, tier = {_TIER_UP},
         updated_at = :now
    FROM taken WHERE e.id = taken.id AND e.urgency IS DISTINCT FROM 'overdue'
  RETURNING e.id, e.state, taken.tier AS from_tier, e.tier, e.due_at
), history AS (
  INSERT INTO onemap.event_history (event_id, at, action, from_state, to_state, note, data)
  SELECT id, :now, 'escalate', state, state, '超期: escalated ' || from_tier || ' → ' || tier,
         jsonb_build_object('due_at', due_at, 'from_tier', from_tier, 'tier', tier)
    FROM moved
)
INSERT INTO onemap.audit_log (at, username, action, object_kind, object_id, details)
SELECT :now, :job, 'event_escalate', 'event', id::text,
       jsonb_build_object('from_tier', from_tier, 'tier', tier)
  FROM moved
RETURNING object_id
"""


# Looked at first, without locks: a pass with nothing to do writes nothing. (An UPDATE of no
# rows still fires the live clock's statement trigger, and every open screen would reload its
# events each minute.)
_ANY_TO_WARN = f"SELECT EXISTS (SELECT 1 FROM onemap.event WHERE {_TO_WARN})"
_ANY_TO_ESCALATE = f"SELECT EXISTS (SELECT 1 FROM onemap.event WHERE {_TO_ESCALATE})"


def run_once(conn: Connection, now: datetime | None = None) -> dict[str, int]:
    """One pass, in the caller's transaction (as the owner: the job has no session); returns
    how many cases it warned and escalated. `now`: the database's unless a test injects one."""
    now = now or conn.execute(text("SELECT now()")).scalar_one()
    params = {"now": now, "job": JOB}
    done = {"warned": 0, "escalated": 0}
    for key, any_sql, act_sql in (("warned", _ANY_TO_WARN, _WARN),
                                  ("escalated", _ANY_TO_ESCALATE, _ESCALATE)):
        if conn.execute(text(any_sql), params).scalar():
            done[key] = len(conn.execute(text(act_sql), params).all())
    return done

"""The cases' KPI counts kept by day (migration 0024): statement triggers on `event` append
each change to a log, which these fold into one row per key; readers sum either way
(geodata/queries/kpi_sums.py), so folding changes no figure, only how many rows a read sums."""

from __future__ import annotations

from sqlalchemy import Connection, text


def compact_event_stats(conn: Connection) -> int:
    """Fold the log's rows of each key into one; how many rows were folded."""
    return conn.execute(text("SELECT onemap.compact_event_stats()")).scalar_one()


def rebuild_event_stats(conn: Connection) -> None:
    """The sums afresh from the cases (holds the event table in SHARE mode until the caller's
    transaction ends)."""
    conn.execute(text("SELECT onemap.rebuild_event_stats()"))

"""A member of staff reporting from their phone: where they are, on duty or not. Runs on the
caller's scoped connection: the database lets a session change only its own user's staff row
(migration 0013), so "me" is whoever signed in."""

from __future__ import annotations

from sqlalchemy import Connection, text

_MOVE = """
UPDATE onemap.staff SET last_position = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
       last_seen_at = now()
 WHERE user_id = onemap.current_app_user_id()
RETURNING id, last_seen_at
"""

# on duty: available unless a case keeps them busy; off duty: off_duty
_DUTY = """
UPDATE onemap.staff
   SET on_duty = :on_duty,
       status = CASE WHEN NOT :on_duty THEN 'off_duty'
                     WHEN status = 'busy' THEN 'busy' ELSE 'available' END,
       last_seen_at = now()
 WHERE user_id = onemap.current_app_user_id()
RETURNING id, on_duty, status
"""


def move_me(conn: Connection, lon: float, lat: float) -> dict | None:
    """Record the signed-in user's position (WGS84); None when they are not on the staff."""
    row = conn.execute(text(_MOVE), {"lon": lon, "lat": lat}).mappings().one_or_none()
    return dict(row) if row else None


def set_my_duty(conn: Connection, on_duty: bool) -> dict | None:
    """Go on or off duty; None when the signed-in user is not on the staff."""
    row = conn.execute(text(_DUTY), {"on_duty": on_duty}).mappings().one_or_none()
    return dict(row) if row else None

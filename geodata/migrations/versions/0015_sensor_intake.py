"""Sensor readings come in through the app: what its role may write for them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

An IoT platform's batches (POST /api/sensors/readings) run as `onemap_app` in the token's
session. It may add readings and alarms, clear an alarm and link it to its case, and move a
sensor's last value, last reading time and status; nothing else of a sensor (not its
thresholds, place or wearer) and no reading or alarm once written. The scope policies of 0002
and 0004 stay as they are: a reading or alarm is written only for a sensor the session sees.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"


def upgrade() -> None:
    op.execute(f"""
        GRANT INSERT ON onemap.sensor_reading TO {APP_ROLE};
        GRANT INSERT ON onemap.sensor_alarm TO {APP_ROLE};
        GRANT UPDATE (cleared_at, event_id) ON onemap.sensor_alarm TO {APP_ROLE};
        GRANT USAGE ON SEQUENCE onemap.sensor_alarm_id_seq TO {APP_ROLE};
        GRANT UPDATE (last_value, last_reading_at, status) ON onemap.sensor TO {APP_ROLE};
    """)


def downgrade() -> None:
    op.execute(f"""
        REVOKE UPDATE (last_value, last_reading_at, status) ON onemap.sensor FROM {APP_ROLE};
        REVOKE UPDATE (cleared_at, event_id) ON onemap.sensor_alarm FROM {APP_ROLE};
        REVOKE INSERT ON onemap.sensor_alarm FROM {APP_ROLE};
        REVOKE INSERT ON onemap.sensor_reading FROM {APP_ROLE};
    """)

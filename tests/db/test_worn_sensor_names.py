"""A worn sensor (an elderly wristband, a one-touch call) is shown by its code on the wall's
banner and its card, never by the name a register gave it, which may carry its wearer's."""

from __future__ import annotations

import psycopg
from sqlalchemy import create_engine

from geodata.queries import details, wall

WEARER = "张秀英的手环"


def test_a_worn_sensors_name_never_reaches_the_banner_or_its_card(demo_district):
    url = demo_district[0]
    with psycopg.connect(url) as conn:
        sensor, code, was = conn.execute(
            "SELECT id, code, name FROM onemap.sensor WHERE person_id IS NOT NULL"
            " ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE onemap.sensor SET name = %s WHERE id = %s", (WEARER, sensor))
        conn.execute("INSERT INTO onemap.sensor_alarm (sensor_id, raised_at, value, direction)"
                     " VALUES (%s, now(), 1, 'trigger')", (sensor,))
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            banner = [row for row in wall.banner(conn) if row["sensor_id"] == sensor]
            card = details.card(conn, "sensors", sensor)
        assert banner and all(row["text"] == code for row in banner)
        assert card["name"] == code and WEARER not in str(card)
    finally:
        engine.dispose()
        with psycopg.connect(url) as conn:
            conn.execute("DELETE FROM onemap.sensor_alarm WHERE sensor_id = %s"
                         " AND direction = 'trigger' AND value = 1", (sensor,))
            conn.execute("UPDATE onemap.sensor SET name = %s WHERE id = %s", (was, sensor))

"""The small world every map-layer test reads: four grids with the same rows in each."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from tests.db.map_layers.world import (
    add_camera,
    add_category,
    add_enterprise,
    add_event,
    add_place,
    add_sensor,
    add_staff,
    point,
)
from tests.fixtures.hierarchy import insert_building, insert_hierarchy


@pytest.fixture
def world(conn: Connection) -> dict:
    """The same rows in four grids: a and b share a community, c is in the same street's other
    community, d in the other street. Per grid: a building, a camera, a sensor in alarm and a
    quiet one, a key place, an enterprise, a member of staff on duty, an open case assigned to them and a
    closed case."""
    codes = insert_hierarchy(conn)
    a, b, c, d = codes["grid"][0], codes["grid"][1], codes["grid"][2], codes["grid"][4]
    add_category(conn)
    w: dict = {"codes": codes, "a": a, "b": b, "c": c, "d": d, "grids": (a, b, c, d),
               "rows": {}, "sensor_alarm": {}, "sensor_ok": {}, "building": {}}

    def keep(grid: str, layer: str, row_id: int) -> int:
        w["rows"].setdefault(grid, {}).setdefault(layer, set()).add(row_id)
        return row_id

    for g in w["grids"]:
        tag = g[6:]
        w["building"][g] = keep(g, "buildings", insert_building(conn, g, f"B-{tag}"))
        keep(g, "cameras", add_camera(conn, f"C-{tag}", g, point(conn, g, 0.002, 0.002)))
        w["sensor_alarm"][g] = keep(g, "sensors", add_sensor(
            conn, f"S-{tag}-alarm", g, point(conn, g, 0.003, 0.003), "alarm"))
        w["sensor_ok"][g] = keep(g, "sensors", add_sensor(
            conn, f"S-{tag}-ok", g, point(conn, g, 0.004, 0.004)))
        keep(g, "places", add_place(conn, f"P-{tag}", g, point(conn, g, 0.006, 0.006)))
        keep(g, "enterprises", add_enterprise(conn, f"Q-{tag}", g,
                                              point(conn, g, 0.0065, 0.0055)))
        staff = keep(g, "staff", add_staff(conn, f"T-{tag}", g, point(conn, g, 0.007, 0.007)))
        event = keep(g, "events", add_event(conn, f"E-{tag}-open", g, point(conn, g),
                                            state="dispatched", staff=staff))
        keep(g, "dispatch", event)
        add_event(conn, f"E-{tag}-closed", g, point(conn, g, 0.008, 0.008), state="closed")
    return w

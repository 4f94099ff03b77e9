"""Sensors over HTTP: POST /api/sensors/readings (an IoT platform's batches) and
GET /api/sensors/<code>/readings (the desk's sensor card).

A batch is one transaction: every reading is stored, the alarms it raises or clears are
written and their cases opened or told, and one audit row records the batch (with its
counts) and one more each case opened, or nothing is. The answer is sent only once that has
committed, so an acknowledged reading is never lost, and a batch sent again (a timeout, a
retry) stores nothing twice and raises no alarm twice.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, request
from flask_login import current_user
from sqlalchemy.exc import ProgrammingError

from geodata.queries import events, sensors
from geodata.scope import scoped
from onemap.domain import alarms
from onemap.domain.roles import Capability

from .auth import audit_request, current_scope, requires
from .bodies import WindowQuery
from .openapi import documented, parsed_query
from .errors import InvalidRequest, NotFound, NotPermitted, Unprocessable, insufficient_privilege

api = Blueprint("sensors", __name__, url_prefix="/api/sensors")

NO_SUCH_SENSOR = "您的管辖范围内无此设备 / no such sensor in your area"


class BadReadings(InvalidRequest):
    """Readings that cannot be taken; `fields` names each bad one (readings[3].value)."""

    zh, en = "读数有误", "invalid readings"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@api.post("/readings")
@documented("传感器读数 · a batch of sensor readings (IoT platforms)", body=alarms.ReadingsBody,
            errors=(400, 401, 403, 422, 429))
@requires(Capability.REPORT_EVENT)
def take_readings():
    """{"readings": [{"sensor": code, "at": ISO 8601 with offset, "value": number}, ...]}, 1 to
    1,000 of them, usually from an IoT platform with an API token (Authorization: Bearer …).

    It needs REPORT_EVENT: a reading past a threshold raises an alarm, and an alarm reports a
    case. 200 with what was stored and raised; 400 naming each bad reading; 422 naming each
    reading of a sensor that does not exist or lies outside the caller's area (the same
    answer for both); nothing is stored unless all is."""
    readings = _parsed(alarms.parse_readings, request.get_json(silent=True), _now())
    user_id = current_user.user.id
    try:
        with scoped(current_scope()) as conn:

            def audit_case(case: dict, sensor: dict) -> None:
                audit_request(conn, "event_report", object_kind="event",
                              object_id=str(case["id"]),
                              details={"to_state": "reported", "channel": "sensor",
                                       "sensor": sensor["code"], "alarm_id": case["alarm_id"]})

            result = sensors.ingest(conn, readings, user_id, on_case_opened=audit_case)
            summary = result.summary()
            audit_request(conn, "sensor_readings", object_kind="sensor_batch",
                          details={k: len(v) if isinstance(v, list) else v
                                   for k, v in summary.items()})
    except sensors.UnknownSensors as exc:
        raise Unprocessable(fields={f"readings[{i}].sensor": NO_SUCH_SENSOR
                                    for i in exc.indexes}) from None
    except events.OutsideEveryGrid:
        raise Unprocessable("设备不在任何网格内",
                            "the sensor is in no grid of the district") from None
    except ProgrammingError as exc:
        if insufficient_privilege(exc):  # a case placed outside the caller's area
            raise NotPermitted("告警位置超出您的管辖范围",
                               "the alarm's case would lie outside your area") from None
        raise
    return jsonify(summary), 200


@api.get("/<code>/readings")
@documented("设备读数曲线 · one sensor's readings in a window", query=WindowQuery,
            errors=(400, 401, 403, 404))
@requires(Capability.VIEW_MAP)
def sensor_readings(code: str):
    """?since=&until= (ISO 8601 with offset; the last 24 hours by default): the sensor's
    readings, oldest first, at most 10,000 (the newest of the window; `truncated` says there
    were more). 404 alike for a sensor that does not exist and one outside the caller's area.
    A worn sensor's readings are a person's health data: each look is audited."""
    window = parsed_query(WindowQuery)
    since, until = _parsed(alarms.parse_window, window.since, window.until, _now())
    with scoped(current_scope()) as conn:
        sensor = sensors.sensor_by_code(conn, code[: alarms.MAX_CODE + 1])
        if sensor is None:
            raise NotFound("您的管辖范围内无此设备", "no such sensor in your area")
        points, truncated = sensors.readings(conn, sensor["id"], since, until)
        if sensor["worn"]:
            audit_request(conn, "sensor_readings_view", object_kind="sensor",
                          object_id=sensor["code"],
                          details={"since": since.isoformat(), "until": until.isoformat(),
                                   "points": len(points)})
    return jsonify({
        "sensor": {k: sensor[k] for k in ("code", "kind", "unit_of_measure", "low_threshold",
                                          "high_threshold", "status")},
        "since": since.isoformat(), "until": until.isoformat(), "truncated": truncated,
        "readings": [{"at": at.isoformat(), "value": value} for at, value in points],
    }), 200


def _parsed(parse, *args):
    try:
        return parse(*args)
    except alarms.InvalidReadings as exc:
        raise BadReadings(fields=exc.errors) from None

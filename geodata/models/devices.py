"""Cameras (视频监控) and IoT sensors (物联网感知) with their readings and alarms."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Double,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemap.domain.vocab import (
    ALARM_DIRECTIONS,
    CAMERA_KINDS,
    CAMERA_OWNERS,
    DEVICE_STATUSES,
    PERSONAL_SENSOR_KINDS,
    SENSOR_KINDS,
    SENSOR_STATUSES,
)
from .base import Base, one_of, point_geom


class Camera(Base):
    """A camera: where it is, who owns it, where it looks (heading, field of view, range)."""

    __tablename__ = "camera"
    __table_args__ = (
        one_of("owner", CAMERA_OWNERS),
        one_of("kind", CAMERA_KINDS),
        one_of("status", DEVICE_STATUSES),
        CheckConstraint("heading IS NULL OR heading BETWEEN 0 AND 359", name="heading_range"),
        CheckConstraint("fov_deg BETWEEN 1 AND 360", name="fov_range"),
        CheckConstraint("range_m > 0", name="range_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # GB/T 28181 device ID
    name: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    heading: Mapped[int | None] = mapped_column(SmallInteger)  # degrees from north; NULL: pans
    fov_deg: Mapped[int] = mapped_column(SmallInteger)
    range_m: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    stream_url: Mapped[str | None] = mapped_column(Text)
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    geom: Mapped[WKBElement] = point_geom()


class Sensor(Base):
    """A sensor: mounted on a network or worn by a person, with thresholds that raise alarms."""

    __tablename__ = "sensor"
    __table_args__ = (
        one_of("kind", SENSOR_KINDS),
        one_of("status", SENSOR_STATUSES),
        CheckConstraint(
            "(person_id IS NULL) OR kind IN ("
            + ", ".join(f"'{k}'" for k in PERSONAL_SENSOR_KINDS)
            + ")",
            name="only_personal_kinds_worn",
        ),
        CheckConstraint(
            "low_threshold IS NULL OR high_threshold IS NULL OR low_threshold < high_threshold",
            name="thresholds_ordered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    unit_of_measure: Mapped[str | None] = mapped_column(String(16))
    low_threshold: Mapped[float | None] = mapped_column(Double)
    high_threshold: Mapped[float | None] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16), index=True)
    last_value: Mapped[float | None] = mapped_column(Double)
    last_reading_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("building.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    geom: Mapped[WKBElement] = point_geom()


class SensorReading(Base):
    """One reading; a BRIN index on time keeps a year of them cheap to range-scan."""

    __tablename__ = "sensor_reading"
    __table_args__ = (Index("ix_sensor_reading_read_at", "read_at", postgresql_using="brin"),)

    sensor_id: Mapped[int] = mapped_column(
        ForeignKey("sensor.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Double)


class SensorAlarm(Base):
    """A reading past a threshold (or a button pressed); it may become an event."""

    __tablename__ = "sensor_alarm"
    __table_args__ = (
        one_of("direction", ALARM_DIRECTIONS),
        CheckConstraint("cleared_at IS NULL OR cleared_at >= raised_at", name="cleared_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensor.id", ondelete="CASCADE"), index=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    value: Mapped[float | None] = mapped_column(Double)
    threshold: Mapped[float | None] = mapped_column(Double)
    direction: Mapped[str] = mapped_column(String(8))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("event.id", ondelete="SET NULL"), index=True
    )

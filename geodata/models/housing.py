"""Buildings and what is inside them: building → unit → floor → household (room).

Composite foreign keys carry building_id (and unit_id) down the chain, so a room can never
claim a floor of another building: consistency by declaration, not by triggers.
"""

from __future__ import annotations

from decimal import Decimal

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemap.domain.vocab import BUILDING_USES, OCCUPANCY
from .base import Base, area_geom, one_of


class Building(Base):
    """楼栋: a footprint inside one grid, with its road address, floors, units and use."""

    __tablename__ = "building"
    __table_args__ = (
        one_of("use", BUILDING_USES),
        CheckConstraint("floors_above >= 1", name="floors_above_positive"),
        CheckConstraint("floors_below >= 0", name="floors_below_not_negative"),
        CheckConstraint("unit_count >= 1", name="unit_count_positive"),
        # the search box's road + number (migration 0021)
        Index("ix_building_road_number", "road", "house_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    name: Mapped[str] = mapped_column(String(128))  # e.g. 3 栋
    road: Mapped[str | None] = mapped_column(String(64))
    house_number: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(256))  # e.g. 青年大街 100 号 3 栋
    use: Mapped[str] = mapped_column(String(16))
    floors_above: Mapped[int] = mapped_column(SmallInteger)
    floors_below: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    unit_count: Mapped[int] = mapped_column(SmallInteger)
    built_year: Mapped[int | None] = mapped_column(SmallInteger)
    geom: Mapped[WKBElement] = area_geom()


class Unit(Base):
    """单元 (门洞): 1..n per building."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("building_id", "number"),
        UniqueConstraint("id", "building_id"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(SmallInteger)


class Floor(Base):
    """楼层: 1..n per unit; basements are negative, there is no floor 0."""

    __tablename__ = "floor"
    __table_args__ = (
        UniqueConstraint("unit_id", "number"),
        UniqueConstraint("id", "unit_id", "building_id"),
        ForeignKeyConstraint(
            ["unit_id", "building_id"], ["unit.id", "unit.building_id"], ondelete="CASCADE"
        ),
        CheckConstraint("number <> 0", name="number_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column()
    building_id: Mapped[int] = mapped_column(index=True)
    number: Mapped[int] = mapped_column(SmallInteger)


class Household(Base):
    """户 / 房屋: a room such as 3-2-501 (building 3, unit 2, room 501) and how it is used."""

    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("unit_id", "room_number"),
        ForeignKeyConstraint(
            ["floor_id", "unit_id", "building_id"],
            ["floor.id", "floor.unit_id", "floor.building_id"],
            ondelete="CASCADE",
        ),
        one_of("occupancy", OCCUPANCY),
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="area_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    floor_id: Mapped[int] = mapped_column(index=True)
    unit_id: Mapped[int] = mapped_column()
    building_id: Mapped[int] = mapped_column(index=True)
    room_number: Mapped[str] = mapped_column(String(16))
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    occupancy: Mapped[str] = mapped_column(String(16))

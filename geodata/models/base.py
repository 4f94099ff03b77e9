"""Declarative base, naming convention and small column helpers shared by every model."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..db import SCHEMA

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SRID = 4326


class Base(DeclarativeBase):
    """Every OneMap table lives in the `onemap` schema; PostGIS stays in `public`."""

    metadata = MetaData(schema=SCHEMA, naming_convention=NAMING)
    # ids and counts are bigint unless a column says otherwise: events and readings grow for years
    type_annotation_map = {int: BigInteger}


def one_of(column: str, values: Iterable, name: str | None = None) -> CheckConstraint:
    """CHECK that a column holds one of a vocabulary's codes (NULL passes, as in SQL)."""
    quoted = ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_valid")


def area_geom() -> Mapped:
    """A boundary or footprint: MultiPolygon in WGS84 with a GiST index."""
    return mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)


def point_geom(nullable: bool = False) -> Mapped:
    """A location: Point in WGS84 with a GiST index."""
    return mapped_column(Geometry("POINT", srid=SRID, spatial_index=True), nullable=nullable)


def created_at() -> Mapped[datetime]:
    """When the row was written, set by the database."""
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)

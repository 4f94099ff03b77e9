"""Enterprises (法人) and key places (重点场所)."""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from onemap.domain.vocab import ENTERPRISE_STATUSES, KEY_PLACE_KINDS
from .base import Base, one_of, point_geom


class Enterprise(Base):
    """法人: identified by its 18-character unified social credit code (GB 32100)."""

    __tablename__ = "enterprise"
    __table_args__ = (
        CheckConstraint("uscc_valid(credit_code)", name="credit_code_valid"),
        one_of("status", ENTERPRISE_STATUSES),
        CheckConstraint("employees IS NULL OR employees >= 0", name="employees_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    legal_representative: Mapped[str | None] = mapped_column(String(64))
    industry: Mapped[str | None] = mapped_column(String(64))
    employees: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    address: Mapped[str | None] = mapped_column(String(256))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("building.id", ondelete="SET NULL"), index=True
    )
    geom: Mapped[WKBElement] = point_geom()


class KeyPlace(Base):
    """重点场所: one of the 13 kinds patrolled with priority, with a risk level 1 (high) to 4."""

    __tablename__ = "key_place"
    __table_args__ = (
        one_of("kind", KEY_PLACE_KINDS),
        CheckConstraint("risk_level BETWEEN 1 AND 4", name="risk_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    risk_level: Mapped[int] = mapped_column(SmallInteger)
    address: Mapped[str | None] = mapped_column(String(256))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    building_id: Mapped[int | None] = mapped_column(
        ForeignKey("building.id", ondelete="SET NULL"), index=True
    )
    geom: Mapped[WKBElement] = point_geom()

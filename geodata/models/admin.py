"""The administrative hierarchy: district → street → community → (piece) → grid.

Codes nest by prefix (GB/T 2260 + 3 digits per level), so a CHECK keeps each code inside
its parent's and scopes can match by prefix.
"""

from __future__ import annotations

from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, area_geom


class District(Base):
    """区: 6-digit GB/T 2260 code."""

    __tablename__ = "district"
    __table_args__ = (CheckConstraint("code ~ '^[0-9]{6}$'", name="code_format"),)

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = area_geom()


class Street(Base):
    """街道: district code + 3 digits."""

    __tablename__ = "street"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{9}$'", name="code_format"),
        CheckConstraint("left(code, 6) = district_code", name="code_in_district"),
    )

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = area_geom()


class Community(Base):
    """社区: street code + 3 digits."""

    __tablename__ = "community"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{12}$'", name="code_format"),
        CheckConstraint("left(code, 9) = street_code", name="code_in_street"),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    street_code: Mapped[str] = mapped_column(ForeignKey("street.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = area_geom()


class Piece(Base):
    """片区: adjacent grids of one community under a piece leader (the X of 1+X+N)."""

    __tablename__ = "piece"
    __table_args__ = (
        UniqueConstraint("id", "community_code"),
        UniqueConstraint("community_code", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    leader_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", use_alter=True, ondelete="SET NULL")
    )


class Grid(Base):
    """网格 (unit grid): community code + 3-digit sequence numbered west→east, north→south."""

    __tablename__ = "grid"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{15}$'", name="code_format"),
        CheckConstraint("left(code, 12) = community_code", name="code_in_community"),
        # a grid's piece must belong to the grid's own community
        ForeignKeyConstraint(
            ["piece_id", "community_code"], ["piece.id", "piece.community_code"]
        ),
    )

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("community.code"), index=True)
    piece_id: Mapped[int | None] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = area_geom()

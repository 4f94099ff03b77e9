"""Staff who handle events: grid workers, inspectors, piece leaders, department responders."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Boolean, DateTime, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from onemap.domain.vocab import STAFF_STATUSES, STAFF_TIERS
from .base import SRID, Base, one_of


class Department(Base):
    """专业部门 or an office events are dispatched to."""

    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))


class Staff(Base):
    """A member of staff: tier, home grid, duty state and last known position."""

    __tablename__ = "staff"
    __table_args__ = (one_of("tier", STAFF_TIERS), one_of("status", STAFF_STATUSES))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(16), index=True)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid.code"), index=True)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    on_duty: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[str] = mapped_column(String(16), server_default="off_duty")
    last_position: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=SRID, spatial_index=True)
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL"), unique=True
    )

"""Tables the database keeps for the map (migration 0003): the live clock, building counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class LiveClock(Base):
    """One version per topic (event, sensor, staff), moved by triggers on every change."""

    __tablename__ = "live_clock"

    topic: Mapped[str] = mapped_column(String(16), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=text("now()"))


class BuildingStat(Base):
    """A building's residents and key-group residents, as of the last refresh."""

    __tablename__ = "building_stat"

    building_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("building.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    residents: Mapped[int] = mapped_column(Integer)
    key_group: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=text("now()"))

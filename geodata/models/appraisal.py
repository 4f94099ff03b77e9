"""The appraisal's weight schemes and frozen months (migration 0025; onemap/domain/appraisal.py
says what they mean, geodata/appraisal.py reads and writes them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AppraisalScheme(Base):
    """A numbered set of weights; a change of weights is a new version (rows never change)."""

    __tablename__ = "appraisal_scheme"
    __table_args__ = {"comment": "Weights of the appraisal's composite score; a change of"
                                 " weights is a new version."}

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    weights: Mapped[dict] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=text("now()"))
    created_by: Mapped[str | None] = mapped_column(Text)


class AppraisalSnapshot(Base):
    """One unit's (or department's, or grid worker's) score and rank in a frozen month."""

    __tablename__ = "appraisal_snapshot"
    __table_args__ = (
        CheckConstraint("level IN ('street', 'community', 'grid', 'department', 'staff')",
                        name="level"),
        {"comment": "A frozen month's appraisal: scores, ranks and the counts they came from;"
                    " never changed."},
    )

    month: Mapped[date] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    scheme_version: Mapped[int] = mapped_column(ForeignKey("appraisal_scheme.version"))
    counts: Mapped[dict] = mapped_column(JSONB)
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    rank: Mapped[int | None] = mapped_column(Integer)
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                server_default=text("now()"))
    frozen_by: Mapped[str | None] = mapped_column(Text)

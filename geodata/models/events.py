"""Events (事件/案件), their categories and the append-only history of every state change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from geoalchemy2 import WKBElement
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from onemap.domain.vocab import CATEGORY_KINDS, CHANNELS, CLOSURE_KINDS, EVENT_LEVELS, EVENT_STATES
from .base import Base, created_at, one_of, point_geom

_STAGES = ("reported_at", "registered_at", "dispatched_at", "handled_at", "verified_at",
           "closed_at")


class EventCategory(Base):
    """A class of GB/T 30428.2 components (部件) or events (事件), or a social-governance class."""

    __tablename__ = "event_category"
    __table_args__ = (
        one_of("kind", CATEGORY_KINDS),
        one_of("default_level", EVENT_LEVELS),
    )

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("event_category.code"))
    kind: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(128))
    default_level: Mapped[int] = mapped_column(SmallInteger, server_default="4")
    # its handling limit (migration 0009); none: the handle stage's (EventStageLimit)
    time_limit: Mapped[Decimal | None] = mapped_column(Numeric)
    time_limit_unit: Mapped[str] = mapped_column(Text, server_default="working_hours")
    # who owns its components or matters (部件先属主; migration 0014)
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))


class EventStageLimit(Base):
    """The time limit of one stage of the loop (register, dispatch, handle, verify, close), in
    one of onemap.domain.working_calendar.UNITS; configuration a district edits."""

    __tablename__ = "event_stage_limit"

    stage: Mapped[str] = mapped_column(Text, primary_key=True)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    unit: Mapped[str] = mapped_column(Text)


class Event(Base):
    """A case: where and what, how it came in, where it is in the loop, and who has it."""

    __tablename__ = "event"
    __table_args__ = (
        one_of("channel", CHANNELS),
        one_of("state", EVENT_STATES),
        one_of("level", EVENT_LEVELS),
        one_of("closure_kind", CLOSURE_KINDS),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
                        name="satisfaction_range"),
        CheckConstraint("returned_count >= 0", name="returned_count_not_negative"),
        CheckConstraint("handling_minutes >= 0", name="handling_minutes_not_negative"),
        CheckConstraint("sent_back_count >= 0", name="sent_back_count_not_negative"),
        CheckConstraint("state <> 'closed' OR closed_at IS NOT NULL", name="closed_has_time"),
        # each stage happens no earlier than the one before it
        *[
            CheckConstraint(f"{later} IS NULL OR {later} >= reported_at",
                            name=f"{later}_after_report")
            for later in _STAGES[1:]
        ],
        # the same report arriving twice from one sender is one event (idempotent intake);
        # per sender, so reusing another area's reference reveals nothing (migration 0004)
        # (reference before sender since migration 0016: row-level security keeps the sender's
        # test out of the index scan, so the reference must narrow it)
        Index("uq_event_sender_reference", "channel", "external_ref",
              text("coalesce(reported_by_user_id, 0)"), unique=True,
              postgresql_where=text("external_ref IS NOT NULL")),
        Index("ix_event_open", "state", "due_at",
              postgresql_where=text("onemap.event_is_open(state)")),
        Index("ix_event_warn_at", "warn_at",
              postgresql_where=text("onemap.event_is_active(state) AND urgency IS NULL")),
        Index("ix_event_due_unmarked", "due_at", postgresql_where=text(
            "onemap.event_is_active(state) AND urgency IS DISTINCT FROM 'overdue'")),
        # possible duplicates and merged reports (migration 0014)
        CheckConstraint("duplicate_of_id <> id AND merged_into_id <> id",
                        name="not_own_duplicate"),
        CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)",
                        name="merged_has_case"),
        Index("ix_event_duplicate_of", "duplicate_of_id",
              postgresql_where=text("duplicate_of_id IS NOT NULL")),
        Index("ix_event_merged_into", "merged_into_id",
              postgresql_where=text("merged_into_id IS NOT NULL")),
        Index("ix_event_category_reported", "category_code", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # indexed by ix_event_category_reported (category, time)
    category_code: Mapped[str] = mapped_column(ForeignKey("event_category.code"))
    level: Mapped[int] = mapped_column(SmallInteger)
    channel: Mapped[str] = mapped_column(String(24))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(256))
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid.code"), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(64))
    reporter_phone: Mapped[str | None] = mapped_column(String(20))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # of its stage
    stage_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # shelved
    overran: Mapped[bool] = mapped_column(server_default=text("false"))  # a stage ran late
    tier: Mapped[str] = mapped_column(Text, server_default="grid")  # who handles it
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 80 % used
    urgency: Mapped[str | None] = mapped_column(Text)  # marked by the job for this stage
    photo_urls: Mapped[list[str] | None] = mapped_column(ARRAY(Text))  # links, not images
    department_code: Mapped[str | None] = mapped_column(ForeignKey("department.code"))
    assigned_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    closure_kind: Mapped[str | None] = mapped_column(String(16))
    # working minutes from registration to closure, on the calendar in force at closure
    handling_minutes: Mapped[int | None] = mapped_column(
        Integer, comment="Working minutes from registration to closure, on the calendar in"
                         " force at closure.")
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    returned_count: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    # sent back by whoever it was dispatched to (退回重派): the dispatch accuracy's misses
    sent_back_count: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    extended: Mapped[bool] = mapped_column(server_default=text("false"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("camera.id", ondelete="SET NULL"))
    # flagged on arrival: an open case of the same category within 50 m in the last 24 h
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("event.id"))  # state merged
    # set by the database from the signed-in session whenever the app reports
    reported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    geom: Mapped[WKBElement] = point_geom()
    updated_at: Mapped[datetime] = created_at()


class EventHistory(Base):
    """One state change of an event: who, when, from what to what and why. Append-only."""

    __tablename__ = "event_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"), index=True)
    at: Mapped[datetime] = created_at()
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSONB)

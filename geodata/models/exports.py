"""The export page's jobs (migration 0027; geodata/export_jobs.py queues, claims and finishes
them, exports/jobs.py runs one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint, DateTime, ForeignKey, Identity, Index, SmallInteger, String, Text, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, one_of

JOB_STATES = ("queued", "running", "done", "failed", "expired")


class ExportJob(Base):
    """One layer to one file for one user: queued by the page, run by `onemap worker`."""

    __tablename__ = "export_job"
    __table_args__ = (
        one_of("headers", ("zh", "en")),
        one_of("state", JOB_STATES),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        Index("ix_export_job_queued", "id", postgresql_where=text("state = 'queued'")),
        Index("ix_export_job_running", "heartbeat_at",
              postgresql_where=text("state = 'running'")),
        Index("ix_export_job_done", "expires_at", postgresql_where=text("state = 'done'")),
        Index("ix_export_job_user_id", "user_id", "id"),
        {"comment": "The export page's jobs: one layer to one file for one user, run by"
                    " onemap worker."},
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    crs: Mapped[str] = mapped_column(String(32))
    filters: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    headers: Mapped[str] = mapped_column(String(2), server_default=text("'zh'"))
    state: Mapped[str] = mapped_column(String(16), server_default=text("'queued'"))
    progress: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    rows: Mapped[int | None]
    bytes: Mapped[int | None]
    file_name: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""Who may use OneMap: roles, users bound to one administrative unit (their scope), audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, INET, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from . import base
from .base import Base, created_at, one_of


class Role(Base):
    """A role; what each may see and do is decided in one table in code (onemap/domain/roles.py)."""

    __tablename__ = "role"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(32))


class AppUser(Base):
    """A user, with one role and one scope: the code of a district, street, community or grid.

    Codes nest by prefix, so "inside the scope" is `code LIKE scope_code || '%'`; the view
    admin_unit lists every valid scope and a trigger refuses a scope it does not hold.
    """

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("scope_code ~ '^([0-9]{3}){2,5}$'", name="scope_code_format"),
        Index("uq_app_user_username_lower", text("lower(username)"), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code"))
    scope_code: Mapped[str] = mapped_column(String(15))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # person look-ups locked after too many misses (enumeration suspected); an admin unlocks
    lookup_locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in session (migration 0004). The cookie carries a random token; this row keeps
    only its SHA-256, with the scope and capabilities the database enforces for it."""

    __tablename__ = "web_session"
    __table_args__ = (
        one_of("kind", ("web", "job", "token")),
        Index("ix_web_session_user_open", "user_id", postgresql_where=text("ended_at IS NULL")),
        {"comment": "Signed-in sessions; the cookie holds the token, this table only its "
                    "SHA-256."},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(BYTEA, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    scope_code: Mapped[str] = mapped_column(String(15))
    capabilities: Mapped[list[str]] = mapped_column(ARRAY(Text))
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'web'"))
    user_agent_hash: Mapped[bytes | None] = mapped_column(BYTEA)
    ip: Mapped[str | None] = mapped_column(INET)
    created_at: Mapped[datetime] = base.created_at()
    last_seen_at: Mapped[datetime] = base.created_at()
    idle_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))


class RateCounter(Base):
    """A fixed-window rate-limit counter, shared by every worker and server."""

    __tablename__ = "rate_counter"
    __table_args__ = ({"comment": "Fixed-window rate-limit counters shared by every worker "
                                  "and server."},)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditLog(Base):
    """Append-only record of logins, look-ups, unmasks, exports and state changes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = created_at()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_kind: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSONB)

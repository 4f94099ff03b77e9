"""People, their key-group tags and their links to households (户籍地 and 居住地).

A person may be registered in one household and live in another (人户分离), or be
registered outside the district altogether (registered_address).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from onemap.domain.vocab import GENDERS, POPULATION_TYPES, RELATIONS, RESIDENCE_KINDS
from .base import Base, created_at, one_of

# The database checks an ID against the person it names: checksum (citizen_id_valid, created
# by the first migration), birth date (digits 7-14) and sex (digit 17: odd male, even female).
ID_MATCHES_PERSON = (
    "id_number IS NULL OR ("
    "citizen_id_valid(id_number)"
    " AND birth_date = to_date(substr(id_number, 7, 8), 'YYYYMMDD')"
    " AND gender = CASE WHEN mod(substr(id_number, 17, 1)::int, 2) = 1 THEN 'M' ELSE 'F' END)"
)


class Person(Base):
    """人口: one person, identified by an 18-digit citizen ID or, for foreigners, a passport."""

    __tablename__ = "person"
    __table_args__ = (
        one_of("gender", GENDERS),
        one_of("population_type", POPULATION_TYPES),
        CheckConstraint(ID_MATCHES_PERSON, name="id_number_matches"),
        CheckConstraint(
            "id_number IS NOT NULL OR passport_number IS NOT NULL", name="identified"
        ),
        CheckConstraint("phone IS NULL OR phone ~ '^[0-9+ -]{5,20}$'", name="phone_format"),
        # the search box's ID endings and phone digits (migration 0021, which builds the first
        # with COLLATE "C" for its range scans: alembic's reflection drops a collation inside
        # an index expression, so the model names the expression without it)
        Index("ix_person_id_reversed", text("reverse(id_number::text)")),
        Index("ix_person_phone_digits", text("onemap.phone_digits(phone)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    passport_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)  # created by migration 0002
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    population_type: Mapped[str] = mapped_column(String(16))
    ethnicity: Mapped[str | None] = mapped_column(String(16))
    registered_address: Mapped[str | None] = mapped_column(Text)  # when registered elsewhere
    created_at: Mapped[datetime] = created_at()


class TagKind(Base):
    """A key-group tag (重点人群) and whether it is sensitive."""

    __tablename__ = "tag_kind"
    __table_args__ = (UniqueConstraint("code", "sensitive"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    sensitive: Mapped[bool] = mapped_column(Boolean)


def _tag_table_args(sensitive: bool) -> tuple:
    # (tag, sensitive) must match the catalogue, so a sensitive tag cannot land in the open table
    return (
        ForeignKeyConstraint(["tag", "sensitive"], ["tag_kind.code", "tag_kind.sensitive"]),
        CheckConstraint(f"sensitive = {str(sensitive).lower()}", name="sensitivity"),
    )


class PersonTag(Base):
    """A non-sensitive key-group tag on a person."""

    __tablename__ = "person_tag"
    __table_args__ = _tag_table_args(False)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    since: Mapped[date | None] = mapped_column(Date)


class PersonSensitiveTag(Base):
    """A sensitive tag (community correction, severe mental disorder): few roles may read it."""

    __tablename__ = "person_sensitive_tag"
    __table_args__ = _tag_table_args(True)

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    since: Mapped[date | None] = mapped_column(Date)


class PersonHousehold(Base):
    """A person's registered (户籍) or actual (居住) household and relation to its householder."""

    __tablename__ = "person_household"
    __table_args__ = (
        one_of("kind", RESIDENCE_KINDS),
        one_of("relation", RELATIONS),
        # at most one registered and one actual residence per person
        Index("uq_person_household_person_kind", "person_id", "kind", unique=True),
    )

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    household_id: Mapped[int] = mapped_column(
        ForeignKey("household.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))
    since: Mapped[date | None] = mapped_column(Date)

"""Tables the database keeps for the map and the look-up: the live clock and building counts
(migration 0003), the units' counts (0020), the names' pinyin (0021), events by grid (0023),
the KPI sums (0024)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class LiveClock(Base):
    """Versions per topic (event, sensor, staff), moved by triggers on every change; each
    topic in 16 shards (migration 0017), its version their sum."""

    __tablename__ = "live_clock"
    __table_args__ = (CheckConstraint("shard >= 0 AND shard < 16",
                                      name="live_clock_shard_check"),)

    topic: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="0")
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
    # migration 0020: rooms by occupancy and registrations, for the navigator below a grid
    units: Mapped[int] = mapped_column(Integer, server_default="0")
    rooms: Mapped[int] = mapped_column(Integer, server_default="0")
    self_occupied: Mapped[int] = mapped_column(Integer, server_default="0")
    rented: Mapped[int] = mapped_column(Integer, server_default="0")
    vacant: Mapped[int] = mapped_column(Integer, server_default="0")
    commercial: Mapped[int] = mapped_column(Integer, server_default="0")
    registered: Mapped[int] = mapped_column(Integer, server_default="0")
    living_apart: Mapped[int] = mapped_column(Integer, server_default="0")


class AdminUnitStat(Base):
    """A district's, street's, community's or grid's counts, as of the last refresh
    (migration 0020)."""

    __tablename__ = "admin_unit_stat"
    __table_args__ = (CheckConstraint("level IN ('district', 'street', 'community', 'grid')",
                                      name="level_valid"),)

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    buildings: Mapped[int] = mapped_column(Integer, server_default="0")
    units: Mapped[int] = mapped_column(Integer, server_default="0")
    rooms: Mapped[int] = mapped_column(Integer, server_default="0")
    self_occupied: Mapped[int] = mapped_column(Integer, server_default="0")
    rented: Mapped[int] = mapped_column(Integer, server_default="0")
    vacant: Mapped[int] = mapped_column(Integer, server_default="0")
    commercial: Mapped[int] = mapped_column(Integer, server_default="0")
    people: Mapped[int] = mapped_column(Integer, server_default="0")
    residents: Mapped[int] = mapped_column(Integer, server_default="0")
    registered: Mapped[int] = mapped_column(Integer, server_default="0")
    living_apart: Mapped[int] = mapped_column(Integer, server_default="0")
    floating: Mapped[int] = mapped_column(Integer, server_default="0")
    foreign_residents: Mapped[int] = mapped_column(Integer, server_default="0")
    key_group: Mapped[int] = mapped_column(Integer, server_default="0")
    key_groups: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=text("now()"))


class NamePinyin(Base):
    """Each distinct person name in pinyin and initials (张三: zhangsan, zs), filled when people
    are loaded (geodata/pinyin.py); a name alone is nobody, so no row-level security."""

    __tablename__ = "name_pinyin"
    __table_args__ = (
        Index("ix_name_pinyin_pinyin", "pinyin", "name"),
        Index("ix_name_pinyin_initials", "initials", "name"),
        Index("ix_name_pinyin_trgm", "pinyin", postgresql_using="gin",
              postgresql_ops={"pinyin": "public.gin_trgm_ops"}),
        Index("ix_name_pinyin_name_trgm", "name", postgresql_using="gin",
              postgresql_ops={"name": "public.gin_trgm_ops"}),
        {"comment": "Each distinct person name in pinyin and initials (filled at load time:"
                    " geodata/pinyin.py)."},
    )

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    pinyin: Mapped[str] = mapped_column(Text(collation="C"))
    initials: Mapped[str] = mapped_column(Text(collation="C"))


# Events per grid up to the mark below, rebuilt by onemap.refresh_event_counts(); later events
# are counted live (geodata/queries/overview.py). No key of its own: one row is the events
# without a grid (NULL), unique beside the grids' own.
event_grid_count = Table(
    "event_grid_count", Base.metadata,
    Column("grid_code", String(15)),
    Column("events", BigInteger, nullable=False),
    UniqueConstraint("grid_code", postgresql_nulls_not_distinct=True),
    comment="Events per grid (NULL: without a grid) with ids up to"
            " event_count_mark.counted_through.",
)


class EventCountMark(Base):
    """The one row saying how far event_grid_count has counted (migration 0023)."""

    __tablename__ = "event_count_mark"
    __table_args__ = (CheckConstraint("only_row", name="one_row"),
                      {"comment": "The last event id event_grid_count holds; later ones are"
                                  " counted live."})

    only_row: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default="true")
    counted_through: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The KPI measures of onemap.event_measures() summed by reporting day and unit (0024): an
# append-only log of changes written by statement triggers on event, folded by
# compact_event_stats(); several rows per key in between, so readers always sum
# (geodata/queries/kpi_sums.py).
KPI_MEASURES = ("received", "registered", "rejected", "closed", "closed_on_time", "returned",
                "extended", "proactive", "inspector_reports", "inspector_valid", "handled",
                "handling_minutes", "rated", "satisfaction_points", "satisfied", "dispatched",
                "dispatched_right")
KIND_MEASURES = ("received", "registered", "closed", "closed_on_time")


def _measure_columns(measures) -> list[Column]:
    return [Column(m, Integer, nullable=False, server_default="0") for m in measures]


event_day_stat = Table(
    "event_day_stat", Base.metadata,
    Column("day", Date, nullable=False),
    Column("unit_code", String(12), nullable=False),
    *_measure_columns(KPI_MEASURES),
    Index("ix_event_day_stat_unit_code_day", "unit_code", "day"),
    comment="Sums of onemap.event_measures by reporting day (Asia/Shanghai) and unit: the"
            " district, each street and each community; several rows per key until compacted:"
            " always sum.",
)

event_day_kind_stat = Table(
    "event_day_kind_stat", Base.metadata,
    Column("day", Date, nullable=False),
    Column("unit_code", String(9), nullable=False),
    Column("dimension", Text, nullable=False),
    Column("value", Text),
    *_measure_columns(KIND_MEASURES),
    CheckConstraint("dimension IN ('channel', 'category', 'level')", name="dimension"),
    Index("ix_event_day_kind_stat_unit_code_day", "unit_code", "day"),
    comment="Sums of onemap.event_measures by reporting day, unit (the district, each street)"
            " and channel / category class / level; always sum.",
)


class AdminUnitAgeStat(Base):
    """Residents of a district, street or community by gender and birth year (migration 0026,
    rebuilt by onemap.refresh_age_stats())."""

    __tablename__ = "admin_unit_age_stat"
    __table_args__ = {"comment": "Residents per district, street and community by gender and"
                                 " birth year."}

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    gender: Mapped[str] = mapped_column(String(1), primary_key=True)
    birth_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    people: Mapped[int] = mapped_column(Integer)

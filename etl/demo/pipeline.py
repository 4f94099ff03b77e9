"""The demo district's whole build, as `onemap demo` runs it and bench/demo_district.py times it:
generate, load in one transaction (with the building counts and the demo users), ANALYZE,
check the hierarchy."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, text

from etl.demo.district import build_district
from etl.demo.load import load
from etl.demo.scales import Scale
from etl.demo.users import create_demo_users
from geodata.building_stats import refresh_building_stats
from geodata.event_counts import refresh_event_counts
from geodata.event_stats import compact_event_stats
from geodata.integrity import check_hierarchy
from geodata.pinyin import fill_name_pinyin


@dataclass
class DemoBuilt:
    """What a build wrote, the demo accounts it made, the hierarchy's problems, and how long
    each phase took (seconds: generate, load, analyze, check)."""

    written: dict[str, int]
    accounts: list
    problems: list
    seconds: dict[str, float] = field(default_factory=dict)


def build_and_load(engine: Engine, outline, *, code: str, name: str, scale: Scale, seed: int,
                   now: datetime, given: dict | None = None,
                   generating: Callable[[str], None] | None = None,
                   loading: Callable[[str, int, int], None] | None = None) -> DemoBuilt:
    """Generate the district inside `outline` and load it into an empty database.
    `generating(step)` is told each generation step as it starts, `loading(table, done, total)`
    the rows written so far."""
    seconds: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name_: str) -> None:
        nonlocal mark
        now_ = time.perf_counter()
        seconds[name_] = now_ - mark
        mark = now_

    district = build_district(outline, code=code, name=name, scale=scale, seed=seed, now=now,
                              given=given, progress=generating or (lambda step: None))
    phase("generate")
    with engine.begin() as conn:
        written = load(conn, district, loading or (lambda table, done, total: None))
        refresh_building_stats(conn)
        refresh_event_counts(conn)
        compact_event_stats(conn)
        fill_name_pinyin(conn)
        accounts = create_demo_users(conn, code)
    phase("load")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        phase("analyze")
        problems = check_hierarchy(conn)
        phase("check")
    return DemoBuilt(written, accounts, problems, seconds)

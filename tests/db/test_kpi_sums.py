"""The cockpit's counts (migration 0024, geodata/queries/kpi_sums.py) against cases counted by
hand: a merged duplicate counts once, a returned and reopened case once in rework and once
closed, a case moved between grids in its new grid only, a period with no case due gives no
rate, a case across a holiday is timed in working minutes; the triggers' log equals a rebuild
from the cases and folding it changes no figure; scopes see their own counts only."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text

from geodata.event_stats import compact_event_stats, rebuild_event_stats
from geodata.queries import events, kpi_cases, kpi_sums
from onemap.domain import kpi
from onemap.domain.vocab import CHANNELS
from tests.db.map_layers.app_role import as_app, refused
from tests.db.map_layers.world import point
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy

ZONE = ZoneInfo("Asia/Shanghai")
MARCH = kpi.period_of("month", date(2031, 3, 1))
NOW = datetime(2031, 4, 10, 9, 0, tzinfo=ZONE)


def at(day: int, hour: int = 9, month: int = 3, year: int = 2031) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=ZONE)


def add_case(conn: Connection, code: str, grid: str | None, *, channel: str = "hotline_12345",
             state: str = "closed", reported: datetime, registered: datetime | None = None,
             closed: datetime | None = None, due: datetime | None = None,
             closure_kind: str | None = None, returned: int = 0, extended: bool = False,
             minutes: int | None = None, satisfaction: int | None = None,
             category: str = "X01", level: int = 4, merged_into: int | None = None,
             dispatched: datetime | None = None, sent_back: int = 0) -> int:
    where = point(conn, grid, 0.001, 0.001) if grid else (123.41, 41.79)
    return conn.execute(text(
        "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
        " registered_at, closed_at, due_at, closure_kind, returned_count, extended,"
        " handling_minutes, satisfaction, merged_into_id, dispatched_at, sent_back_count,"
        " grid_code, geom)"
        " VALUES (:code, :code, :category, :level, :channel, :state, :reported, :registered,"
        " :closed, :due, :kind, :returned, :extended, :minutes, :satisfaction, :into,"
        " :dispatched, :sent_back, :grid,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"), {
        "code": code, "category": category, "level": level, "channel": channel,
        "state": state, "reported": reported, "registered": registered, "closed": closed,
        "due": due, "kind": closure_kind, "returned": returned, "extended": extended,
        "minutes": minutes, "satisfaction": satisfaction, "into": merged_into, "grid": grid,
        "dispatched": dispatched, "sent_back": sent_back,
        "x": where[0], "y": where[1]}).scalar_one()


@pytest.fixture
def district(conn):
    """March 2031 in two grids of two streets, every kind of case counted by hand below."""
    codes = insert_hierarchy(conn)
    conn.execute(text(
        "INSERT INTO event_category (code, parent_code, kind, name_zh) VALUES"
        " ('X', NULL, 'event', '市容环境'), ('X01', 'X', 'event', '暴露垃圾'),"
        " ('Y', NULL, 'event', '街面秩序'), ('Y01', 'Y', 'event', '占道经营')"))
    mine = codes["grid"][0]
    theirs = next(g for g in codes["grid"] if g[:9] != mine[:9])
    ids = {
        # closed on time, by an inspector, rated 5, 3 working hours
        "on_time": add_case(conn, "K-ON-TIME", mine, channel="inspector", reported=at(2),
                            registered=at(2, 10), dispatched=at(2, 11), closed=at(3),
                            closure_kind="normal",
                            minutes=180, satisfaction=5),
        # closed late, extended, rated 2, 9 working hours
        "late": add_case(conn, "K-LATE", mine, reported=at(4), registered=at(4, 10),
                         dispatched=at(4, 11), closed=at(9), closure_kind="overdue",
                         extended=True, minutes=540, satisfaction=2, category="Y01", level=3),
        # returned once for rework, then closed on time: once in rework, once closed
        "reworked": add_case(conn, "K-REWORK", mine, channel="grid_worker", reported=at(5),
                             registered=at(5, 10), dispatched=at(5, 11), closed=at(12),
                             closure_kind="normal", returned=1, minutes=300),
        # an inspector's report rejected: received, not registered, not valid
        "rejected": add_case(conn, "K-REJECTED", mine, channel="inspector", state="rejected",
                             reported=at(6), registered=at(6, 10)),
        # open, registered, past its limit at NOW: due and overdue
        "overdue": add_case(conn, "K-OVERDUE", mine, state="handling", reported=at(20),
                            registered=at(20, 10), due=at(25)),
        # open, registered, within its limit at NOW: not due
        "in_limit": add_case(conn, "K-IN-LIMIT", mine, channel="sensor", state="handling",
                             reported=at(21), registered=at(21, 10), due=at(20, month=4)),
        # a report waiting for registration: received only
        "waiting": add_case(conn, "K-WAITING", mine, state="reported", reported=at(22)),
        # moved to the other street's grid after it was counted
        "moved": add_case(conn, "K-MOVED", mine, reported=at(23), registered=at(23, 10),
                          closed=at(24), closure_kind="normal", minutes=60),
        # in the other street from the start
        "theirs": add_case(conn, "K-THEIRS", theirs, reported=at(7), registered=at(7, 10),
                           dispatched=at(7, 11), closed=at(8), closure_kind="normal",
                           minutes=120),
        # sent back as not theirs by the first department, dispatched again, within its limit
        "sent_back": add_case(conn, "K-SENT-BACK", theirs, state="dispatched", reported=at(15),
                              registered=at(15, 10), dispatched=at(16), due=at(20, month=4),
                              sent_back=1),
        # February: outside March
        "february": add_case(conn, "K-FEB", mine, reported=at(27, month=2),
                             registered=at(27, 10, month=2), closed=at(28, month=2),
                             closure_kind="normal", minutes=60),
    }
    # a duplicate report merged into the case on time: counts once, as that case
    ids["merged"] = add_case(conn, "K-MERGED", mine, channel="wechat", state="merged",
                             reported=at(2, 11), merged_into=ids["on_time"])
    conn.execute(text("UPDATE event SET grid_code = :g, geom = ST_SetSRID(ST_MakePoint(:x, :y),"
                      " 4326) WHERE id = :id"),
                 {"g": theirs, "id": ids["moved"],
                  **dict(zip("xy", point(conn, theirs, 0.002, 0.002)))})
    return {"mine": mine, "theirs": theirs, "ids": ids}


# counted by hand from the fixture's March cases
MINE = {"received": 7, "registered": 5, "rejected": 1, "closed": 3, "closed_on_time": 2,
        "returned": 1, "extended": 1, "proactive": 4, "inspector_reports": 2,
        "inspector_valid": 1, "handled": 3, "handling_minutes": 1020, "rated": 2,
        "satisfaction_points": 7, "satisfied": 1, "dispatched": 3, "dispatched_right": 3,
        "overdue_open": 1}
THEIRS = {"received": 3, "registered": 3, "rejected": 0, "closed": 2, "closed_on_time": 2,
          "returned": 0, "extended": 0, "proactive": 0, "inspector_reports": 0,
          "inspector_valid": 0, "handled": 2, "handling_minutes": 180, "rated": 0,
          "satisfaction_points": 0, "satisfied": 0, "dispatched": 2, "dispatched_right": 1,
          "overdue_open": 0}


def _both(a: dict, b: dict) -> dict:
    return {k: a[k] + b[k] for k in a}


def march(conn: Connection, unit: str) -> dict[str, int]:
    return kpi_sums.sums_by_period(conn, {"march": MARCH}, unit, NOW)["march"]


def test_the_counts_are_those_counted_by_hand_in_every_unit(conn, district):
    mine, theirs = district["mine"], district["theirs"]
    assert march(conn, mine) == MINE
    assert march(conn, mine[:12]) == MINE
    assert march(conn, mine[:9]) == MINE
    assert march(conn, theirs) == THEIRS
    assert march(conn, DISTRICT) == _both(MINE, THEIRS)


def test_the_kpis_of_the_hand_counted_cases(conn, district):
    values = kpi.values(march(conn, district["mine"]))
    assert values["received"] == 7
    assert values["due"] == 4  # three closed and one open past its limit
    assert values["registration_rate"] == pytest.approx(5 / 7 * 100)
    assert values["closure_rate"] == pytest.approx(3 / 4 * 100)
    assert values["on_time_closure_rate"] == pytest.approx(2 / 4 * 100)
    assert values["rework_rate"] == pytest.approx(1 / 5 * 100)
    assert values["extension_rate"] == pytest.approx(1 / 5 * 100)
    assert values["average_handling_hours"] == pytest.approx(1020 / 3 / 60)
    assert values["proactive_rate"] == pytest.approx(4 / 7 * 100)
    assert values["inspector_accuracy"] == pytest.approx(50)
    assert values["overdue"] == 1
    assert values["satisfaction_rate"] == pytest.approx(50)
    assert values["dispatch_accuracy"] == pytest.approx(100)
    theirs = kpi.values(march(conn, district["theirs"]))
    assert theirs["dispatch_accuracy"] == pytest.approx(50)  # one of two sent back


def test_no_case_due_in_a_period_gives_no_rate(conn, district):
    # in the week of the 21st only a case within its limit and a waiting report
    week = kpi.Period("custom", date(2031, 3, 21), date(2031, 3, 23))
    counts = kpi_sums.sums_by_period(conn, {"week": week}, district["mine"], NOW)["week"]
    assert counts["received"] == 2 and counts["registered"] == 1
    values = kpi.values(counts)
    assert values["due"] == 0
    assert values["closure_rate"] is None and values["on_time_closure_rate"] is None
    empty = kpi.Period("custom", date(2031, 6, 1), date(2031, 6, 2))
    nothing = kpi_sums.sums_by_period(conn, {"june": empty}, DISTRICT, NOW)["june"]
    assert set(nothing.values()) == {0}


def test_comparisons_trend_units_and_kinds(conn, district):
    mine = district["mine"]
    both = kpi_sums.sums_by_period(conn, {"now": MARCH, "before": kpi.previous(MARCH)}, mine,
                                   NOW)
    assert both["now"]["received"] == 7 and both["before"]["received"] == 1
    weeks = dict(kpi_sums.trend(conn, MARCH, mine, "week", NOW))
    assert sum(c["received"] for c in weeks.values()) == 7
    assert weeks[date(2031, 3, 17)]["overdue_open"] == 1  # reported Thursday the 20th
    streets = kpi_sums.by_unit(conn, MARCH, "street", DISTRICT, NOW)
    assert streets == {mine[:9]: MINE, district["theirs"][:9]: THEIRS}
    grids = kpi_sums.by_unit(conn, MARCH, "grid", DISTRICT, NOW)
    assert grids[mine] == MINE and grids[district["theirs"]] == THEIRS
    for unit in (DISTRICT, mine[:9]):
        kinds = kpi_sums.by_kind(conn, MARCH, unit)
        received = MINE["received"] + (THEIRS["received"] if unit == DISTRICT else 0)
        for dimension in kpi_sums.DIMENSIONS:
            assert sum(v["received"] for v in kinds[dimension].values()) == received
        assert kinds["category"]["Y"] == {"received": 1, "registered": 1, "closed": 1,
                                          "closed_on_time": 0}
        assert kinds["level"]["3"]["received"] == 1
        assert kinds["channel"]["inspector"]["received"] == 2


def test_the_log_equals_a_rebuild_and_folding_changes_nothing(conn, district):
    def kept() -> list[tuple]:
        return conn.execute(text(
            "SELECT day, unit_code, " + ", ".join(f"sum({c})" for c in kpi.KEPT_COUNTS)
            + " FROM event_day_stat GROUP BY 1, 2 HAVING "
            + " OR ".join(f"sum({c}) <> 0" for c in kpi.KEPT_COUNTS) + " ORDER BY 1, 2")).all()

    def kinds() -> list[tuple]:
        return conn.execute(text(
            "SELECT day, unit_code, dimension, value, sum(received), sum(closed_on_time)"
            " FROM event_day_kind_stat GROUP BY 1, 2, 3, 4"
            " HAVING sum(received) <> 0 OR sum(closed_on_time) <> 0 ORDER BY 1, 2, 3, 4")).all()

    logged, logged_kinds = kept(), kinds()
    rows = conn.execute(text("SELECT count(*) FROM event_day_stat")).scalar_one()
    assert compact_event_stats(conn) > 0
    assert conn.execute(text("SELECT count(*) FROM event_day_stat")).scalar_one() < rows
    assert kept() == logged and kinds() == logged_kinds
    assert compact_event_stats(conn) == 0  # nothing left to fold
    rebuild_event_stats(conn)
    assert kept() == logged and kinds() == logged_kinds
    conn.execute(text("DELETE FROM event WHERE id = :id"), {"id": district["ids"]["late"]})
    after_delete = march(conn, district["mine"])
    assert after_delete["received"] == MINE["received"] - 1
    assert after_delete["handling_minutes"] == MINE["handling_minutes"] - 540
    conn.execute(text("ALTER TABLE event_history DISABLE TRIGGER USER"))  # rolled back after
    conn.execute(text("TRUNCATE event CASCADE"))
    assert conn.execute(text("SELECT count(*) FROM event_day_stat")).scalar_one() == 0


def test_the_measures_count_the_proactive_channels_of_the_domain(conn, district):
    for channel in CHANNELS:
        add_case(conn, f"K-CH-{channel}", district["mine"], channel=channel, state="reported",
                 reported=at(1, month=5))
    proactive = conn.execute(text(
        "SELECT channel FROM event e WHERE code LIKE 'K-CH-%'"
        " AND (onemap.event_measures(e)).proactive = 1")).scalars().all()
    assert sorted(proactive) == sorted(kpi.PROACTIVE_CHANNELS)


def test_closing_through_the_loop_times_a_case_across_a_holiday(conn, district):
    # registered Wednesday 30 September 2026 16:30, closed Thursday 8 October 09:30: the
    # National Day holiday (1–7 October) between; an hour on each side
    case = add_case(conn, "K-HOLIDAY", district["mine"], state="verified",
                    reported=datetime(2026, 9, 30, 16, 0, tzinfo=ZONE),
                    registered=datetime(2026, 9, 30, 16, 30, tzinfo=ZONE))
    events.transition(conn, case, "close", None, now=datetime(2026, 10, 8, 9, 30, tzinfo=ZONE))
    assert conn.execute(text("SELECT handling_minutes FROM event WHERE id = :id"),
                        {"id": case}).scalar_one() == 120
    counts = kpi_sums.sums_by_period(
        conn, {"day": kpi.period_of("day", date(2026, 9, 30))}, district["mine"], NOW)["day"]
    assert counts["closed"] == 1 and counts["handling_minutes"] == 120


def test_scopes_see_their_own_sums_and_the_app_writes_none(conn, district):
    mine, theirs = district["mine"], district["theirs"]
    with as_app(conn, mine[:9]):
        assert march(conn, mine[:9]) == MINE
        # row-level security: neither the other street nor the district's own sums are seen
        assert march(conn, theirs[:9])["received"] == 0
        assert march(conn, DISTRICT)["received"] == 0
        assert kpi_sums.by_unit(conn, MARCH, "street", DISTRICT, NOW) == {mine[:9]: MINE}
        kinds = kpi_sums.by_kind(conn, MARCH, mine[:9])
        assert sum(v["received"] for v in kinds["channel"].values()) == MINE["received"]
        assert kpi_sums.by_kind(conn, MARCH, DISTRICT) == {d: {} for d in kpi_sums.DIMENSIONS}
        refused(conn, "INSERT INTO event_day_stat (day, unit_code) VALUES ('2031-03-01',"
                      " :c)", {"c": mine[:12]})
        refused(conn, "SELECT onemap.compact_event_stats()")
    with as_app(conn, DISTRICT):
        assert march(conn, DISTRICT) == _both(MINE, THEIRS)
        assert sum(v["received"] for v in kpi_sums.by_kind(conn, MARCH, DISTRICT)["level"]
                   .values()) == MINE["received"] + THEIRS["received"]


def test_every_number_lists_exactly_the_cases_it_counts(conn, district):
    mine = district["mine"]
    counts = kpi.with_derived(march(conn, mine))
    for count in kpi.CASE_COUNTS:
        total, page = kpi_cases.cases(conn, count, MARCH, mine, NOW, limit=100)
        assert total == len(page) == counts[count], count
    total, page = kpi_cases.cases(conn, "due", MARCH, mine, NOW)
    assert {row["code"] for row in page} == {"K-ON-TIME", "K-LATE", "K-REWORK", "K-OVERDUE"}
    assert "reporter_name" not in page[0] and "reporter_phone" not in page[0]
    total, second = kpi_cases.cases(conn, "received", MARCH, mine, NOW, offset=5, limit=5)
    assert total == 7 and len(second) == 2
    assert kpi_cases.cases(conn, "received", MARCH, mine, NOW, offset=50) == (7, [])
    with pytest.raises(ValueError):
        kpi_cases.cases(conn, "handling_minutes; DROP TABLE event", MARCH, mine, NOW)

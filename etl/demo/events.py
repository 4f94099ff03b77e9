"""A year of events with realistic rhythms, places and complete lifecycles.

Reports follow the working day and week (patrols) or the evening (hotline callers), gather
at hotspots (markets, busy crossings), and run the loop 上报 → 立案 → 派遣 → 处置 → 核查 → 结案
with the category's time limit; some are returned, extended, shelved, rejected or overdue.
Events still open at `now` stop at the stage they have reached.

Time limits are in working hours; this generator turns them into calendar time with the
week's ratio (168 h / 40 working h). The event-loop module will count them on the calendar.
The numbers (channel mix, hours, delays, places) are etl/demo/rhythms.py's, which the live
simulator (onemap simulate) shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import shapely

from geodata.working_calendar import working_calendar
from onemap.domain import lifecycle
from onemap.domain.assignment import handling_department
from onemap.domain.escalation import initial_tier
from onemap.domain.working_calendar import WARNING_SHARE, TimeLimit, due_at

from .geo import GridIndex, jitter
from .names import mobile_numbers, person_names
from .rhythms import (
    ACCEPT_MEAN_H,
    BUILDING_SPREAD_M,
    CALENDAR_PER_WORKING_HOUR,
    CHANNELS,
    CLOSE_MEAN_H,
    DISPATCH_MEAN_H,
    EMERGENCY_LIMIT_HOURS,
    EXTEND_SHARE,
    FIELD,
    FIELD_BOOST,
    FIELD_HOURS,
    FLAT_HOURS,
    HOTSPOT_SPREAD_M,
    HOTSPOTS,
    LEVEL_SHIFTS,
    NEAR_HOTSPOT_SHARE,
    PUBLIC,
    PUBLIC_BOOST,
    PUBLIC_HOURS,
    REGISTER_FIELD_RANGE_H,
    REGISTER_PUBLIC_MEAN_H,
    REJECT_SHARE_OTHER,
    REJECT_SHARE_PUBLIC,
    RETURN_SHARE,
    REWORK_FACTOR,
    SENSOR_CATEGORY,
    SHELVE_SHARE,
    USE_WEIGHTS,
    VERIFY_MEAN_H,
    WORK_SHARE_MEDIAN,
    WORK_SHARE_SIGMA,
)


@dataclass
class EventTables:
    """Events, their history rows and the sensor alarms that raised some of them."""

    events: pd.DataFrame
    history: pd.DataFrame
    alarms: pd.DataFrame


def _report_times(n: int, channels: np.ndarray, now: datetime, rng) -> pd.DatetimeIndex:
    start = pd.Timestamp(now).normalize() - pd.Timedelta(days=365)
    days = pd.date_range(start, periods=366, freq="D")
    dow = days.day_of_week.to_numpy()
    weekday = np.where(dow < 5, 1.15, np.where(dow == 5, 0.8, 0.7))
    season = 1 + 0.15 * np.sin(2 * np.pi * (days.day_of_year.to_numpy() - 100) / 365)  # summer
    adoption = np.linspace(0.8, 1.2, len(days))  # the platform gains users over the year
    p = weekday * season * adoption
    day = rng.choice(len(days), n, p=p / p.sum())
    hour = np.empty(n, dtype=int)
    for profile, mask in ((FIELD_HOURS, np.isin(channels, FIELD)),
                          (PUBLIC_HOURS, np.isin(channels, PUBLIC)),
                          (FLAT_HOURS, ~np.isin(channels, FIELD + PUBLIC))):
        hour[mask] = rng.choice(24, mask.sum(), p=profile / profile.sum())
    seconds = rng.integers(0, 3600, n)
    stamps = days[day] + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(seconds, unit="s")
    # nothing from the future: today's reports stop at `now`
    late = stamps > pd.Timestamp(now)
    stamps = stamps.where(~late, pd.Timestamp(now) - pd.to_timedelta(rng.integers(60, 36_000, n), unit="s"))
    return pd.DatetimeIndex(stamps)


def _places(n: int, buildings: pd.DataFrame, grids: GridIndex, rng) -> pd.DataFrame:
    """Points near buildings (busier ones more often) and around a few hotspots, in grids."""
    weight = buildings["use"].map(USE_WEIGHTS).to_numpy()
    hot = buildings[buildings["use"].isin(["commercial", "mixed"])]
    hotspots = hot.iloc[rng.choice(len(hot), min(HOTSPOTS, len(hot)), replace=False)]
    frames = []
    need = n
    while need > 0:
        m = int(need * 1.05) + 10
        near_hotspot = rng.random(m) < NEAR_HOTSPOT_SHARE
        picked = buildings.iloc[rng.choice(len(buildings), m, p=weight / weight.sum())]
        centre = hotspots.iloc[rng.integers(0, len(hotspots), m)]
        lon = np.where(near_hotspot, centre["lon"].to_numpy(), picked["lon"].to_numpy())
        lat = np.where(near_hotspot, centre["lat"].to_numpy(), picked["lat"].to_numpy())
        spread = np.where(near_hotspot, HOTSPOT_SPREAD_M, BUILDING_SPREAD_M)
        lon, lat = jitter(lon, lat, spread, rng)
        grid = grids.lookup(lon, lat)
        address = np.where(near_hotspot, centre["address"].to_numpy(), picked["address"].to_numpy())
        frame = pd.DataFrame({"lon": lon, "lat": lat, "grid_code": grid, "near": address})
        frames.append(frame[frame["grid_code"].notna()])
        need = n - sum(len(f) for f in frames)
    return pd.concat(frames, ignore_index=True).iloc[:n]


def generate_events(*, n: int, now: datetime, buildings: pd.DataFrame, grids: GridIndex,
                    categories: pd.DataFrame, staff: pd.DataFrame, cameras: pd.DataFrame,
                    sensors: pd.DataFrame, sensor_status: pd.DataFrame,
                    stage_limits: pd.DataFrame, rng: np.random.Generator) -> EventTables:
    """`n` events over the year before `now`, with history rows and sensor alarms."""
    shares = np.array(list(CHANNELS.values()))
    channels = rng.choice(np.array(list(CHANNELS)), n, p=shares / shares.sum())
    # sensor events sit where a sensor is; the sensors in alarm right now get theirs first
    sensor_rows = np.flatnonzero(channels == "sensor")
    alarming_now = sensor_status.loc[sensor_status["status"] == "alarm", "id"].to_numpy()
    chosen = np.concatenate([alarming_now, rng.choice(sensors["id"].to_numpy(),
                                                      max(0, len(sensor_rows) - len(alarming_now)))])
    chosen = chosen[: len(sensor_rows)]
    by_id = sensors.set_index("id")

    events = _places(n, buildings, grids, rng)
    events["channel"] = channels
    events["reported_at"] = _report_times(n, channels, now, rng)
    events["sensor_id"] = None
    events.loc[sensor_rows, "sensor_id"] = chosen
    events.loc[sensor_rows, ["lon", "lat", "grid_code"]] = by_id.loc[
        chosen, ["lon", "lat", "grid_code"]].to_numpy()
    last_reading = sensor_status.set_index("id")["last_reading_at"]
    now_rows = sensor_rows[: len(alarming_now)]
    events.loc[now_rows, "reported_at"] = last_reading.loc[alarming_now].to_numpy()

    _categorise(events, categories, by_id, rng)
    _lifecycle(events, categories, now, rng)
    _open_stage_limits(events, categories, stage_limits)
    _assign(events, categories, staff, rng)
    _describe(events, cameras, dict(zip(categories["code"], categories["name_zh"])), rng)
    events.insert(0, "id", np.arange(1, n + 1))
    events["code"] = ("AJ" + events["reported_at"].dt.strftime("%Y%m%d")
                      + events["id"].astype(str).str.zfill(7))
    history = _history(events, staff, rng)
    alarms = _alarms(events, by_id)
    return EventTables(events.drop(columns=["near", "sensor_id", "limit_h"]), history, alarms)


def _categorise(events: pd.DataFrame, categories: pd.DataFrame, sensors: pd.DataFrame, rng) -> None:
    leaves = categories[categories["parent_code"].notna()].reset_index(drop=True)
    n = len(events)
    public = events["channel"].isin(PUBLIC).to_numpy()
    base = leaves["weight"].to_numpy(dtype=float)
    social = (leaves["kind"] == "social").to_numpy()
    chosen = np.empty(n, dtype=object)
    for mask, boost in ((public, np.where(social, PUBLIC_BOOST["social"], PUBLIC_BOOST["other"])),
                        (~public, np.where(social, FIELD_BOOST["social"], FIELD_BOOST["other"]))):
        w = base * boost
        chosen[mask] = leaves["code"].to_numpy()[rng.choice(len(leaves), mask.sum(), p=w / w.sum())]
    is_sensor = events["sensor_id"].notna().to_numpy()
    kinds = sensors.loc[events.loc[is_sensor, "sensor_id"], "kind"].to_numpy()
    chosen[is_sensor] = [SENSOR_CATEGORY[k] for k in kinds]
    events["category_code"] = chosen
    default = leaves.set_index("code").loc[chosen, "default_level"].to_numpy()
    shift = rng.choice(LEVEL_SHIFTS, n)
    events["level"] = np.clip(default + shift, 1, 5)


def _hours(values) -> pd.TimedeltaIndex:
    return pd.to_timedelta(np.asarray(values, dtype=float), unit="h")


def _lifecycle(events: pd.DataFrame, categories: pd.DataFrame, now: datetime, rng) -> None:
    n = len(events)
    limit = categories.set_index("code").loc[events["category_code"], "time_limit_hours"]
    limit_h = limit.to_numpy(dtype=float)
    # emergencies (limits of two hours or less) run on the clock, the rest on working time
    limit_h = np.where(limit_h <= EMERGENCY_LIMIT_HOURS, limit_h,
                       limit_h * CALENDAR_PER_WORKING_HOUR)
    events["limit_h"] = limit_h
    public = events["channel"].isin(PUBLIC).to_numpy()
    reported = pd.DatetimeIndex(events["reported_at"])

    registered = reported + _hours(np.where(public, rng.exponential(REGISTER_PUBLIC_MEAN_H, n),
                                            rng.uniform(*REGISTER_FIELD_RANGE_H, n)))
    rejected = rng.random(n) < np.where(public, REJECT_SHARE_PUBLIC, REJECT_SHARE_OTHER)
    dispatched = registered + _hours(rng.exponential(DISPATCH_MEAN_H, n))
    accepted = dispatched + _hours(rng.exponential(ACCEPT_MEAN_H, n))
    extended = (rng.random(n) < EXTEND_SHARE) & ~rejected
    # 处置时限: the handling limit runs from dispatch to the department's report back
    due = dispatched + _hours(limit_h * np.where(extended, 2.0, 1.0))
    returned = (rng.random(n) < RETURN_SHARE) & ~rejected
    work = (limit_h * rng.lognormal(np.log(WORK_SHARE_MEDIAN), WORK_SHARE_SIGMA, n)
            * np.where(returned, REWORK_FACTOR, 1.0))
    handled = accepted + _hours(work)
    verified = handled + _hours(rng.exponential(VERIFY_MEAN_H, n))
    closed = verified + _hours(rng.exponential(CLOSE_MEAN_H, n))
    # shelving (挂账) is for cases that cannot be done in time; older ones have been settled
    recent = reported > pd.Timestamp(now) - pd.Timedelta(days=60)
    shelved = (rng.random(n) < SHELVE_SHARE) & ~rejected & recent

    now_ts = pd.Timestamp(now)
    stage_times = {"registered": registered, "dispatched": dispatched, "handling": accepted,
                   "handled": handled, "verified": verified, "closed": closed}
    state = np.full(n, "reported", dtype=object)
    for stage, times in stage_times.items():
        state = np.where(times <= now_ts, stage, state)
    state = np.where(rejected & (registered <= now_ts), "rejected", state)
    state = np.where(shelved & (accepted <= now_ts), "suspended", state)

    def until(times, reached):
        return pd.Series(times).where(reached & (times <= now_ts)).to_numpy()

    alive = ~rejected
    events["state"] = state
    events["registered_at"] = until(registered, np.ones(n, bool))
    events["dispatched_at"] = until(dispatched, alive)
    events["handled_at"] = until(handled, alive & ~shelved)
    events["verified_at"] = until(verified, alive & ~shelved)
    events["closed_at"] = until(closed, alive & ~shelved)
    events["due_at"] = pd.Series(due).where(~rejected).to_numpy()
    events["extended"] = extended
    events["returned_count"] = np.where(returned & (handled <= now_ts),
                                        rng.choice([1, 1, 1, 2], n), 0)
    # sent back as not theirs by whoever got it first (退回重派), then dispatched again: one
    # case in 47, picked by position so the rest of the district draws as before
    sent_back = (np.arange(n) % 47 == 23) & ~rejected & (dispatched <= now_ts)
    events["sent_back_count"] = sent_back.astype(int)
    is_closed = state == "closed"
    late = is_closed & (handled > due)
    kind = np.where(late, "overdue", "normal")
    kind = np.where(is_closed & (rng.random(n) < 0.01), "erroneous", kind)
    kind = np.where(is_closed & (rng.random(n) < 0.005), "special", kind)
    events["closure_kind"] = np.where(is_closed, kind, None)
    events["handling_minutes"] = _working_minutes(registered, closed, is_closed)
    events["tier"] = events["level"].map(initial_tier)  # who handles it, by its level
    satisfaction = rng.choice([5, 4, 3, 2, 1], n, p=[0.62, 0.25, 0.07, 0.04, 0.02])
    events["satisfaction"] = np.where(is_closed & public, satisfaction, None)


def _working_minutes(start: pd.DatetimeIndex, end: pd.DatetimeIndex, closed):
    """Working minutes from registration to closure on the working calendar, as the loop
    records them when it closes a case (geodata/queries/events.py handling_minutes)."""
    calendar = working_calendar()
    minute = timedelta(minutes=1)
    minutes = [int(calendar.working_time_between(s, e) / minute) if done else None
               for s, e, done in zip(start.to_pydatetime(), end.to_pydatetime(), closed)]
    return pd.array(minutes, dtype="Int64")


STAGE_STARTS = {"register": "reported_at", "dispatch": "registered_at",
                "handle": "dispatched_at", "verify": "handled_at", "close": "verified_at"}


def _open_stage_limits(events: pd.DataFrame, categories: pd.DataFrame,
                       stage_limits: pd.DataFrame) -> None:
    """The open cases' current stage as the live loop would have timed it: started when the
    state was reached, its limit (geodata/reference/stage_limits.csv; the category's own for
    handling, twice over when extended) on the working calendar, warned at 80 %. The escalation
    job then takes the demo's open cases up from there; finished ones keep their handling
    limit, which is what their closure is judged by."""
    limits = stage_limits.set_index("stage")
    own = categories.set_index("code")["time_limit_hours"]
    calendar = working_calendar()
    for column in ("stage_started_at", "warn_at"):
        events[column] = pd.Series(pd.NaT, index=events.index, dtype=events["reported_at"].dtype)
    for row in np.flatnonzero(events["state"].isin(list(lifecycle.STAGE_OF_STATE)).to_numpy()):
        case = events.iloc[row]
        stage = lifecycle.STAGE_OF_STATE[case["state"]]
        start = case[STAGE_STARTS[stage]] if stage != "register" else case["reported_at"]
        if pd.isna(start):
            continue
        limit = TimeLimit(float(limits.at[stage, "amount"]), limits.at[stage, "unit"])
        if stage == "handle" and pd.notna(own.get(case["category_code"])):
            limit = TimeLimit(float(own[case["category_code"]]), "working_hours")
        if stage == "handle" and case["extended"]:
            limit = TimeLimit(limit.amount * 2, limit.unit)
        start = pd.Timestamp(start).to_pydatetime()
        level = int(case["level"])
        events.iat[row, events.columns.get_loc("stage_started_at")] = start
        events.iat[row, events.columns.get_loc("due_at")] = due_at(calendar, start, limit, level)
        events.iat[row, events.columns.get_loc("warn_at")] = due_at(
            calendar, start, TimeLimit(limit.amount * WARNING_SHARE, limit.unit), level)


def _assign(events: pd.DataFrame, categories: pd.DataFrame, staff: pd.DataFrame, rng) -> None:
    """Trivial matters stay in the grid (its worker); the rest go to the department the routing
    rule names (onemap/domain/assignment.py)."""
    by_code = categories.set_index("code")
    owners = by_code.loc[events["category_code"], "department_code"].to_numpy()
    kinds = by_code.loc[events["category_code"], "kind"].to_numpy()
    events["department_code"] = [
        handling_department(kind, owner if isinstance(owner, str) else None, tier)
        for kind, owner, tier in zip(kinds, owners, events["tier"])]
    grid_worker = staff[staff["tier"] == "grid_worker"].set_index("grid_code")["id"]
    responders = staff[staff["tier"] == "department"].groupby("department_code")["id"].apply(list)
    in_grid = events["level"].to_numpy() >= 5
    assigned = np.where(in_grid, events["grid_code"].map(grid_worker).to_numpy(), None)
    outside = ~in_grid
    pools = events.loc[outside, "department_code"].map(responders)
    assigned[outside] = [p[rng.integers(len(p))] if isinstance(p, list) else None for p in pools]
    dispatched = events["dispatched_at"].notna().to_numpy()
    events["assigned_staff_id"] = np.where(dispatched, assigned, None)
    events["department_code"] = np.where(dispatched, events["department_code"], None)


def _describe(events: pd.DataFrame, cameras: pd.DataFrame, category_names: dict, rng) -> None:
    n = len(events)
    names = events["category_code"].map(category_names)
    events["address"] = events["near"] + "附近"
    events["title"] = names + " · " + events["near"]
    prefix = np.where(events["channel"].isin(PUBLIC), "市民反映：",
                      np.where(events["channel"] == "sensor", "物联感知告警：", "巡查发现："))
    events["description"] = prefix + events["address"] + "存在" + names + "问题，请及时处置。"
    public = events["channel"].isin(PUBLIC).to_numpy()
    genders = rng.choice(np.array(["M", "F"]), n)
    reporter = person_names(rng, genders)
    phones = mobile_numbers(rng, n)
    events["reporter_name"] = np.where(public, reporter, None)
    events["reporter_phone"] = np.where(public, phones, None)
    refs = {"hotline_12345": "12345-", "hotline_district": "96125-", "resident_app": "APP-",
            "wechat": "WX-", "open311": "311-"}
    prefix_of = events["channel"].map(refs)
    events["external_ref"] = np.where(prefix_of.notna(),
                                      prefix_of.fillna("") + np.arange(1, n + 1).astype(str), None)
    # a camera report names the nearest camera
    events["camera_id"] = None
    seen = (events["channel"] == "camera").to_numpy()
    if seen.any() and len(cameras):
        tree = shapely.STRtree(shapely.points(cameras[["lon", "lat"]].to_numpy()))
        near = tree.nearest(shapely.points(events.loc[seen, ["lon", "lat"]].to_numpy()))
        events.loc[seen, "camera_id"] = cameras["id"].to_numpy()[near]


def _history(events: pd.DataFrame, staff: pd.DataFrame, rng) -> pd.DataFrame:
    """One row per state change, in order; returned cases go round the loop twice."""
    inspectors = staff.loc[staff["tier"] == "inspector", "id"].to_numpy()
    e = events
    parts = []

    def rows(mask, action, from_state, to_state, at, actor=None):
        at = pd.Series(at, index=e.index)[mask]
        parts.append(pd.DataFrame({
            "event_id": e.loc[mask, "id"].to_numpy(), "at": at.to_numpy(), "action": action,
            "from_state": from_state, "to_state": to_state,
            "actor_staff_id": None if actor is None else pd.Series(actor, index=e.index)[mask].to_numpy(),
        }))

    reg = e["registered_at"].notna()
    rows(pd.Series(True, index=e.index), "report", None, "reported", e["reported_at"])
    rows(reg & (e["state"] == "rejected"), "reject", "reported", "rejected", e["registered_at"])
    rows(reg & (e["state"] != "rejected"), "register", "reported", "registered", e["registered_at"])
    disp = e["dispatched_at"].notna()
    sent = disp & (e["sent_back_count"] > 0)  # first sent to the wrong place, and back
    wait = e["dispatched_at"] - e["registered_at"]
    rows(sent, "dispatch", "registered", "dispatched", e["registered_at"] + wait * 0.3)
    rows(sent, "send_back", "dispatched", "registered", e["registered_at"] + wait * 0.6)
    rows(disp, "dispatch", "registered", "dispatched", e["dispatched_at"])
    accepted = e["dispatched_at"] + pd.Timedelta(minutes=10)
    started = disp & (e["state"] != "dispatched")
    rows(started, "accept", "dispatched", "handling", accepted, e["assigned_staff_id"])
    rows(started & e["extended"], "extend", "handling", "handling",
         accepted + pd.Timedelta(hours=1))
    rows(e["state"] == "suspended", "suspend", "handling", "suspended",
         accepted + pd.Timedelta(hours=2))
    handled = e["handled_at"].notna()
    back = handled & (e["returned_count"] > 0)
    first_report = accepted + (e["handled_at"] - accepted) * 0.5
    rows(back, "report_back", "handling", "handled", first_report, e["assigned_staff_id"])
    rows(back, "return", "handled", "dispatched", first_report + (e["handled_at"] - first_report) * 0.2)
    rows(back, "accept", "dispatched", "handling", first_report + (e["handled_at"] - first_report) * 0.3,
         e["assigned_staff_id"])
    rows(handled, "report_back", "handling", "handled", e["handled_at"], e["assigned_staff_id"])
    verifier = pd.Series(rng.choice(inspectors, len(e)) if len(inspectors) else None, index=e.index)
    rows(e["verified_at"].notna(), "verify", "handled", "verified", e["verified_at"], verifier)
    rows(e["closed_at"].notna(), "close", "verified", "closed", e["closed_at"])
    history = pd.concat(parts, ignore_index=True)
    history = history.sort_values(["event_id", "at"], kind="stable").reset_index(drop=True)
    history.insert(0, "id", np.arange(1, len(history) + 1))
    return history


def _alarms(events: pd.DataFrame, sensors: pd.DataFrame) -> pd.DataFrame:
    """The alarm behind each sensor event; cleared when its event closed."""
    mine = events[events["sensor_id"].notna()]
    kind = sensors.loc[mine["sensor_id"], "kind"].to_numpy()
    high = sensors.loc[mine["sensor_id"], "high_threshold"].to_numpy(dtype=float)
    low = sensors.loc[mine["sensor_id"], "low_threshold"].to_numpy(dtype=float)
    below = (kind == "water_pressure") & (mine["id"].to_numpy() % 3 == 0)
    direction = np.where(kind == "emergency_button", "trigger", np.where(below, "low", "high"))
    threshold = np.where(direction == "low", low, np.where(direction == "high", high, np.nan))
    value = np.where(direction == "high", high * 1.3, np.where(direction == "low", low * 0.6, 1.0))
    alarms = pd.DataFrame({
        "sensor_id": mine["sensor_id"].to_numpy(), "raised_at": mine["reported_at"].to_numpy(),
        "value": np.round(value, 3), "threshold": threshold, "direction": direction,
        "cleared_at": mine["closed_at"].to_numpy(), "event_id": mine["id"].to_numpy(),
    })
    alarms.insert(0, "id", np.arange(1, len(alarms) + 1))
    return alarms

"""The cockpit's KPIs (领导驾驶舱 / 绩效考评): each one's definition, its formula over the
counts the database keeps, and the periods they are read over with their comparisons
(同比 / 环比).

No SQL and no Dash: the counts come from geodata/queries/kpi_sums.py, where every count is a
sum of `onemap.event_measures(e)` (migration 0024), the one definition of what a case adds to
each count. The formulas are those cities publish (DOMAIN.md; GB/T 30428.4 数字化城市管理信息
系统 第4部分：绩效评价), checked against published figures in tests/unit/test_kpi.py.

Counts are of cases: a report merged into another case counts once, as that case; a case
counts in the grid it is in now and on the day it was reported (Asia/Shanghai).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

# the counts the database keeps per case (onemap.event_measures, migration 0024), plus the
# one that moves with the clock and is counted live: registered cases still open past their
# time limit
KEPT_COUNTS = ("received", "registered", "rejected", "closed", "closed_on_time", "returned",
               "extended", "proactive", "inspector_reports", "inspector_valid", "handled",
               "handling_minutes", "rated", "satisfaction_points", "satisfied", "dispatched",
               "dispatched_right")
LIVE_COUNTS = ("overdue_open",)
# what the drill-through can list: a count made of cases (not a sum of minutes or points)
CASE_COUNTS = tuple(c for c in (*KEPT_COUNTS, *LIVE_COUNTS, "due")
                    if c not in ("handling_minutes", "satisfaction_points"))
# channels whose reports the command centre found itself (主动发现): the same list is in
# onemap.event_measures, and a test holds the two equal
PROACTIVE_CHANNELS = ("inspector", "grid_worker", "sensor", "camera")


@dataclass(frozen=True)
class Kpi:
    """One figure of the cockpit: `numerator` over `denominator` (counts), times `scale`;
    a plain count when there is no denominator."""

    key: str
    zh: str
    en: str
    numerator: str
    denominator: str | None
    unit: str  # "%", "件", "小时", "分"
    definition: str  # shown on hover: the formula in words, zh then en
    reference: str  # where the formula comes from
    higher_is_better: bool | None = True  # None: neither way is better (a volume)
    scale: float = 1.0

    @property
    def is_rate(self) -> bool:
        return self.unit == "%"


GB = "GB/T 30428.4-2016（绩效评价）"
KPIS = {k.key: k for k in (
    Kpi("received", "受理数", "cases received", "received", None, "件",
        "受理数：统计期内上报并受理的案件数（合并的重复上报计入其主案件，只计一次）。"
        " Reports received in the period; a merged duplicate counts once, as its case.", GB,
        higher_is_better=None),
    Kpi("registered", "立案数", "cases registered", "registered", None, "件",
        "立案数：受理后予以立案的案件数（不含不予立案）。"
        " Received cases registered (立案), rejected ones excluded.", GB,
        higher_is_better=None),
    Kpi("registration_rate", "立案率", "registration rate", "registered", "received", "%",
        "立案率 = 立案数 ÷ 受理数。 Registered cases / cases received.", GB, scale=100),
    Kpi("dispatch_accuracy", "派遣准确率", "dispatch accuracy", "dispatched_right", "dispatched",
        "%", "派遣准确率 = 派遣后未被退回重派的案件数 ÷ 派遣案件数。"
        " Dispatched cases never sent back as not theirs / dispatched cases.", GB, scale=100),
    Kpi("due", "应结案数", "cases due", "due", None, "件",
        "应结案数 = 立案数 − 尚在处置时限内的案件数（已结案的，加上仍未结案但已超过时限的）。"
        " Registered cases minus those still within their time limit: the closed ones plus"
        " the open ones past their limit.", GB, higher_is_better=None),
    Kpi("closure_rate", "结案率", "closure rate", "closed", "due", "%",
        "结案率 = 结案数 ÷ 应结案数。 Closed cases / cases due.", GB, scale=100),
    Kpi("on_time_closure_rate", "按期结案率", "on-time closure rate", "closed_on_time", "due", "%",
        "按期结案率 = 按期结案数 ÷ 应结案数；按期：结案时没有任何环节超过时限"
        "（结案类型不是“超期结案”）。"
        " Cases closed with no stage past its limit / cases due.", GB, scale=100),
    Kpi("rework_rate", "返工率", "rework rate", "returned", "registered", "%",
        "返工率 = 核查不通过、退回重办过的案件数 ÷ 立案数。"
        " Cases returned for rework at least once / registered cases.", GB,
        higher_is_better=False, scale=100),
    Kpi("extension_rate", "延期率", "extension rate", "extended", "registered", "%",
        "延期率 = 经批准延期的案件数 ÷ 立案数。 Cases given an approved extension / registered"
        " cases.", GB, higher_is_better=False, scale=100),
    Kpi("average_handling_hours", "平均处置时长", "average handling time", "handling_minutes",
        "handled", "小时",
        "平均处置时长 = 已结案案件从立案到结案的工作时间之和 ÷ 结案数"
        "（按工作日历计，单位：工作小时）。"
        " Working hours from registration to closure, averaged over closed cases.", GB,
        higher_is_better=False, scale=1 / 60),
    Kpi("proactive_rate", "主动发现率", "proactive discovery rate", "proactive", "received", "%",
        "主动发现率 = 监督员、网格员、物联感知和视频发现的案件数 ÷ 受理数。"
        " Cases found by inspectors, grid workers, sensors and cameras / cases received.", GB,
        scale=100),
    Kpi("inspector_accuracy", "上报准确率", "inspector accuracy", "inspector_valid",
        "inspector_reports", "%",
        "上报准确率 = 监督员有效上报数（予以立案的）÷ 监督员上报数。"
        " Inspectors' reports not rejected / inspectors' reports.", GB, scale=100),
    Kpi("overdue", "超期未结", "overdue open cases", "overdue_open", None, "件",
        "超期未结：统计期内立案、至今未结案且已超过当前环节时限的案件数。"
        " Registered cases of the period still open past their stage's limit now.", GB,
        higher_is_better=False),
    Kpi("satisfaction_rate", "满意率", "satisfaction", "satisfied", "rated", "%",
        "满意率 = 回访评价为满意或非常满意（4–5分）的案件数 ÷ 有回访评价的案件数。"
        " Cases rated 4 or 5 / cases rated by the reporter.", "12345 热线回访", scale=100),
)}


def value(kpi: Kpi, counts: Mapping[str, int]) -> float | None:
    """The KPI over `counts`; None when its denominator is zero (nothing to measure)."""
    numerator = counts.get(kpi.numerator, 0)
    if kpi.denominator is None:
        return float(numerator)
    denominator = counts.get(kpi.denominator, 0)
    if not denominator:
        return None
    return numerator / denominator * kpi.scale


def with_derived(counts: Mapping[str, int]) -> dict[str, int]:
    """The counts with those made of others: cases due (应结案数) = closed + open past the
    limit (the registered ones not still within their limit)."""
    return {**counts, "due": counts.get("closed", 0) + counts.get("overdue_open", 0)}


def values(counts: Mapping[str, int]) -> dict[str, float | None]:
    full = with_derived(counts)
    return {key: value(kpi, full) for key, kpi in KPIS.items()}


# -- periods -------------------------------------------------------------------------------

PERIOD_KINDS = {"day": ("日", "day"), "week": ("周", "week"), "month": ("月", "month"),
                "quarter": ("季度", "quarter"), "year": ("年", "year"),
                "custom": ("自定义", "custom")}


@dataclass(frozen=True)
class Period:
    """Days `start` up to and excluding `end`, local dates (Asia/Shanghai)."""

    kind: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.kind not in PERIOD_KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{self.start.year}年"
        return f"{self.start.isoformat()} 至 {last.isoformat()}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_of(kind: str, anchor: date) -> Period:
    """The day, week (Monday to Sunday), month, quarter or year that holds `anchor`."""
    if kind == "day":
        return Period(kind, anchor, anchor + timedelta(days=1))
    if kind == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return Period(kind, start, start + timedelta(days=7))
    if kind in _MONTHS:
        first_month = (anchor.month - 1) // _MONTHS[kind] * _MONTHS[kind] + 1 \
            if kind != "year" else 1
        start = date(anchor.year, first_month, 1)
        return Period(kind, start, _add_months(start, _MONTHS[kind]))
    raise ValueError(f"{kind!r} needs its own dates (custom)")


def previous(period: Period) -> Period:
    """环比: the period of the same kind just before (for a custom one, as many days)."""
    if period.kind in _MONTHS:
        return Period(period.kind, _add_months(period.start, -_MONTHS[period.kind]),
                      period.start)
    return Period(period.kind, period.start - timedelta(days=period.days), period.start)


def year_before(period: Period) -> Period:
    """同比: the same dates a year earlier (29 February becomes the 28th)."""
    return Period(period.kind, _add_months(period.start, -12), _add_months(period.end, -12))


@dataclass(frozen=True)
class Change:
    """How a KPI moved against an earlier period: for a rate, in percentage points; for a
    count or a time, relative (0.1 = 10 % more). None when either side has no value."""

    amount: float | None
    in_points: bool
    better: bool | None  # None: unchanged or unknown


def change(kpi: Kpi, now: float | None, before: float | None) -> Change:
    if now is None or before is None:
        return Change(None, kpi.is_rate, None)
    if kpi.is_rate:
        amount = now - before
    elif before == 0:
        return Change(None, False, None)
    else:
        amount = (now - before) / before
    better = (None if amount == 0 or kpi.higher_is_better is None
              else (amount > 0) == kpi.higher_is_better)
    return Change(amount, kpi.is_rate, better)

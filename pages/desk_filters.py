"""The dispatch desk's filters and selection as the browser sends them and the URL keeps them:
checked here, once, for the page's first render (a stale or edited URL loses what is wrong and
keeps the rest) and for every callback (anything wrong is refused, naming the field, never
repeating the value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geodata.queries.desk import QUEUES, Filters
from onemap.domain.vocab import CHANNELS, EVENT_LEVELS

LOCAL = ZoneInfo("Asia/Shanghai")  # the command centre's day, whatever the server's clock
PERIODS = {"all": ("全部", "all"), "today": ("今日", "today"), "24h": ("24小时", "24 h"),
           "7d": ("7天", "7 days"), "custom": ("自定义", "custom")}
DEFAULT_QUEUE = "new"
MAX_TEXT = 40
MAX_ID = 2**63 - 1  # PostgreSQL bigint
_CODE = re.compile(r"[0-9]{9}([0-9]{3}){0,2}")  # a street, community or grid
_CATEGORY = re.compile(r"[A-Z][0-9A-Z]{0,15}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# the URL's keys: short, and none of them an option name of the map's layers
URL_KEYS = {"queue": "queue", "case": "case", "unit": "unit", "category": "cat",
            "level": "level", "channel": "channel", "period": "period", "start": "from",
            "end": "to", "text": "q"}


class BadInput(ValueError):
    """A filter or selection the desk cannot use; the message is bilingual and names the field,
    never the value."""


@dataclass(frozen=True)
class FilterValues:
    """The filter components' values as the page holds them (None: not set)."""

    unit: str | None = None
    category: str | None = None
    level: int | None = None
    channel: str | None = None
    period: str = "all"
    start: str | None = None
    end: str | None = None
    text: str | None = None


def _bad(zh: str, en: str, rule: str) -> BadInput:
    return BadInput(f"{zh} {en}: {rule}")


def case_id(value) -> int | None:
    """A case id from the browser (None: no case selected)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise _bad("案件", "case", "a case id / 须为案件编号")
    return value


def queue_key(value) -> str:
    if value is None:
        return DEFAULT_QUEUE
    if not isinstance(value, str) or value not in QUEUES:
        raise _bad("队列", "queue", f"one of {', '.join(QUEUES)}")
    return value


def _optional_text(value, pattern: re.Pattern | None, zh: str, en: str, rule: str):
    if value is None or value == "":
        return None
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise _bad(zh, en, rule)
    return value


def _level(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit() and len(value) == 1:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in EVENT_LEVELS:
        raise _bad("等级", "level", "1 to 5 / 一至五级")
    return value


def _day(value, zh: str, en: str) -> date | None:
    text = _optional_text(value, _DAY, zh, en, "a date YYYY-MM-DD / 须为日期")
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(zh, en, "a date YYYY-MM-DD / 须为日期") from None


def checked(values: FilterValues, scope_code: str) -> FilterValues:
    """The values, each checked (BadInput naming the first that is wrong): the unit must lie
    within the user's scope."""
    unit = _optional_text(values.unit, _CODE, "单位", "unit",
                          "a street, community or grid code / 须为街道、社区或网格编码")
    if unit is not None and not unit.startswith(scope_code):
        raise _bad("单位", "unit", "within your area / 须在您的管辖范围内")
    category = _optional_text(values.category, _CATEGORY, "类别", "category",
                              "a category code / 须为类别编码")
    channel = _optional_text(values.channel, None, "渠道", "channel",
                             f"one of {', '.join(CHANNELS)}")
    if channel is not None and channel not in CHANNELS:
        raise _bad("渠道", "channel", f"one of {', '.join(CHANNELS)}")
    period = values.period or "all"
    if not isinstance(period, str) or period not in PERIODS:
        raise _bad("时间", "period", f"one of {', '.join(PERIODS)}")
    start, end = _day(values.start, "从", "from"), _day(values.end, "到", "to")
    text = values.text
    too_long = isinstance(text, str) and len(text.strip()) > MAX_TEXT
    if (text is not None and not isinstance(text, str)) or too_long:
        raise _bad("搜索", "search",
                   f"text of at most {MAX_TEXT} characters / 最多 {MAX_TEXT} 个字符")
    return FilterValues(unit, category, _level(values.level), channel, period,
                        start.isoformat() if start else None, end.isoformat() if end else None,
                        (text or "").strip() or None)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def reported_between(values: FilterValues, now: datetime) -> tuple[datetime | None,
                                                                   datetime | None]:
    """The time window of `period` (on the command centre's calendar): since midnight, the last
    24 hours or 7 days, or the custom days (the last one whole)."""
    if values.period == "today":
        return _midnight(now.astimezone(LOCAL).date()), None
    if values.period == "24h":
        return now - timedelta(hours=24), None
    if values.period == "7d":
        return now - timedelta(days=7), None
    if values.period == "custom":
        start = _midnight(date.fromisoformat(values.start)) if values.start else None
        end = (_midnight(date.fromisoformat(values.end)) + timedelta(days=1)
               if values.end else None)
        return start, end
    return None, None


def query_filters(values: FilterValues, now: datetime) -> Filters:
    """The checked values as the queue queries take them."""
    since, until = reported_between(values, now)
    return Filters(unit=values.unit, category=values.category, level=values.level,
                   channel=values.channel, since=since, until=until, text=values.text)


def from_url(query: dict, scope_code: str) -> tuple[FilterValues, str, int | None]:
    """The filters, queue and case a URL asks for; what is wrong in it is dropped, one field at
    a time, so an old bookmark still opens the desk with what is still right."""
    query = {key: value for key, value in query.items() if isinstance(value, str)}
    kept = {}
    for field, key in URL_KEYS.items():
        if field in ("queue", "case") or key not in query:
            continue
        try:
            one = checked(FilterValues(**{field: query[key]}), scope_code)
            kept[field] = getattr(one, field)
        except BadInput:
            continue
    try:
        queue = queue_key(query.get("queue"))
    except BadInput:
        queue = DEFAULT_QUEUE
    raw_case = query.get("case", "")
    selected = int(raw_case) if raw_case.isdigit() and 0 < int(raw_case) <= MAX_ID else None
    return FilterValues(**kept), queue, selected

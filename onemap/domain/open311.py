"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) in OneMap's terms: how a
service request becomes an event report, how a case reads as a service request, and what
the query parameters mean. No web, no SQL: onemap/web/open311.py speaks HTTP with these.

A service is a leaf event category; a service request is a case (事件), known by its code
(AJ…). Residents' apps speak WGS84 and W3C datetimes; OneMap answers in China Standard Time
(+08:00), the time its districts keep.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from onemap.domain.intake import MAX_TITLE, EventReport, InvalidReport, parse_report
from onemap.domain.lifecycle import FINISHED_STATES
from onemap.domain.vocab import EVENT_STATES

CHANNEL = "open311"  # vocab.CHANNELS: every case a GeoReport client files comes in on it
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHINA = timezone(timedelta(hours=8))
LANGUAGES = ("zh", "en")
STATUSES = ("open", "closed")
# closed, rejected, and merged (a repeat joined to the case already open): the loop is over
# for the resident who reported it
CLOSED_STATES = FINISHED_STATES
DEFAULT_WINDOW = timedelta(days=90)  # the spec's default and longest span of GET requests
MAX_REQUESTS = 1000  # the spec's "first 1000 requests": a server limit it allows
MAX_IDS = 100  # service_request_id=a,b,c…: more than a client shows on one screen
MAX_CODE = 32  # the longest case code or category code worth looking up
YEARS = (1970, 2999)  # the dates a query may name: nothing older, nothing out of range

# Open311's field for each of intake's: errors name the field the client sent
_FIELD_OF_INTAKE = {
    "category_code": "service_code",
    "lon/lat": "lat/long",
    "address": "address_string",
    "reporter_name": "first_name/last_name",
    "reporter_phone": "phone",
    "photos": "media_url",
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,%d}" % MAX_CODE)


class BadParameter(ValueError):
    """Parameters that cannot be taken; `errors` maps each Open311 field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# -- what a client sends ------------------------------------------------------------------

def is_code(text: str) -> bool:
    """Whether `text` could be a case or category code at all (letters, digits, - _ .): what
    could not is not looked up, and never reaches the database."""
    return bool(_CODE.fullmatch(text))


def _given(form: Mapping[str, str], name: str) -> str | None:
    """A parameter's value; the spec's "optional": empty is the same as absent."""
    value = form.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _degrees(form: Mapping[str, str], name: str, errors: dict) -> float | None:
    value = _given(form, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # float() also reads "nan" and "inf"
        errors[name] = "a number of degrees (WGS84) / 须为经纬度数值"
        return None
    return number


def reporter_name(first: str | None, last: str | None) -> str | None:
    """The reporter's name as it is written: 张三 (family name first, no space) for Chinese,
    "John Smith" otherwise."""
    if first and last and (_CJK.search(first) or _CJK.search(last)):
        return last + first
    return " ".join(part for part in (first, last) if part) or None


def parse_request(form: Mapping[str, str], idempotency_key: str | None = None) -> EventReport:
    """A POST's form as an event report, checked by intake's rules; BadParameter naming every
    wrong field at once, by its Open311 name. The title is provisional: `titled` gives the
    real one once the category's name is known.

    email, device_id and account_id are not kept: OneMap holds no resident accounts, and
    what it does not need it does not collect (PIPL)."""
    errors: dict[str, str] = {}
    code = _given(form, "service_code")
    if code is None:
        errors["service_code"] = "required / 必填"
    lat, lon = _degrees(form, "lat", errors), _degrees(form, "long", errors)
    if not errors.keys() & {"lat", "long"} and (lat is None or lon is None):
        errors["lat/long"] = ("both required: a case is placed in its grid by position, an"
                              " address alone is not enough / 须同时提供 lat 与 long")
    media = _given(form, "media_url")
    payload = {
        "title": "-", "category_code": code, "channel": CHANNEL,
        "lon": lon if lon is not None else 0.0, "lat": lat if lat is not None else 0.0,
        "crs": _given(form, "crs") or "wgs84",
        "description": form.get("description"), "address": form.get("address_string"),
        "reporter_name": reporter_name(_given(form, "first_name"), _given(form, "last_name")),
        "reporter_phone": form.get("phone"), "photos": [media] if media else None,
    }
    try:
        report = parse_report(payload, default_channel=CHANNEL, idempotency_key=idempotency_key)
    except InvalidReport as exc:
        for field, problem in exc.errors.items():
            errors.setdefault(_FIELD_OF_INTAKE.get(field, field), problem)
        report = None
    if errors:
        raise BadParameter(errors)
    return report


def title(category_name: str, address: str | None, description: str | None) -> str:
    """A case's title: the category, then where (the address) or else what (the first line of
    the description)."""
    detail = address or next((line.strip() for line in (description or "").splitlines()
                              if line.strip()), None)
    text = f"{category_name}：{detail}" if detail else category_name
    return text if len(text) <= MAX_TITLE else text[:MAX_TITLE - 1] + "…"


# -- what a client asks for ---------------------------------------------------------------

def language(asked: str | None, accepted: str | None) -> str:
    """zh or en: the `lang` parameter if given (anything else is a BadParameter), else the
    client's Accept-Language match (`accepted`), else Chinese."""
    if asked is not None and asked.strip():
        key = asked.strip().lower().split("-")[0]
        if key not in LANGUAGES:
            raise BadParameter({"lang": f"one of {', '.join(LANGUAGES)}"})
        return key
    return accepted if accepted in LANGUAGES else "zh"


def w3c_datetime(text: str, field: str) -> datetime:
    """A W3C datetime (2010-01-01T00:00:00Z, …+08:00, or a bare date) as an aware datetime;
    without an offset it is China Standard Time, the district's. BadParameter naming `field`."""
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time())
        elif "T" in value[:11] and len(value) <= 40:
            parsed = datetime.fromisoformat(value)
        else:
            raise ValueError(value)
        if not YEARS[0] <= parsed.year <= YEARS[1]:  # a window 90 days on stays a date
            raise ValueError(value)
    except ValueError:
        raise BadParameter({field: "a W3C datetime such as 2026-01-01T00:00:00+08:00 / 须为"
                                   " W3C 日期时间"}) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=CHINA)


@dataclass(frozen=True)
class RequestQuery:
    """GET requests: by case codes (which override everything else, as the spec says), or by
    a window of report times, services and statuses."""

    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    services: tuple[str, ...] = ()
    closed: bool | None = None  # None: open and closed alike


def _listed(value: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in (value or "").split(",")
                               if part.strip()))


def request_query(args: Mapping[str, str], now: datetime) -> RequestQuery:
    """The parameters of GET requests, checked; BadParameter naming every wrong one."""
    codes = _listed(args.get("service_request_id"))
    if codes:
        if len(codes) > MAX_IDS or not all(map(is_code, codes)):
            raise BadParameter({"service_request_id": f"at most {MAX_IDS} case codes, comma"
                                                      " separated / 至多 100 个案件编号"})
        return RequestQuery(codes=codes)
    errors: dict[str, str] = {}
    bounds = {}
    for field in ("start_date", "end_date"):
        if _given(args, field) is not None:
            try:
                bounds[field] = w3c_datetime(args[field], field)
            except BadParameter as exc:
                errors.update(exc.errors)
    services = _listed(args.get("service_code"))
    if len(services) > MAX_IDS or not all(map(is_code, services)):
        errors["service_code"] = (f"at most {MAX_IDS} service codes, comma separated"
                                  " / 服务代码，逗号分隔")
    statuses = _listed(args.get("status"))
    if any(status not in STATUSES for status in statuses):
        errors["status"] = f"open, closed or both, comma separated / 须为 {', '.join(STATUSES)}"
    if errors:
        raise BadParameter(errors)
    start, end = _window(bounds.get("start_date"), bounds.get("end_date"), now)
    closed = None if len(set(statuses)) != 1 else statuses[0] == "closed"
    return RequestQuery(start=start, end=end, services=services, closed=closed)


def _window(start: datetime | None, end: datetime | None,
            now: datetime) -> tuple[datetime, datetime]:
    """The spec's window: the last 90 days unless told, and never longer than 90 days."""
    if start is None and end is None:
        return now - DEFAULT_WINDOW, now
    if start is None:
        return end - DEFAULT_WINDOW, end
    if end is None:
        return start, start + DEFAULT_WINDOW
    if end < start:
        raise BadParameter({"end_date": "before start_date / 早于 start_date"})
    if end - start > DEFAULT_WINDOW:
        raise BadParameter({"end_date": "at most 90 days after start_date / 时间跨度不得超过"
                                        " 90 天"})
    return start, end


# -- what OneMap answers ------------------------------------------------------------------

def w3c(moment: datetime | None) -> str | None:
    """A timestamp as the spec writes it, in China Standard Time: 2026-12-03T09:30:00+08:00."""
    if moment is None:
        return None
    return moment.astimezone(CHINA).isoformat(timespec="seconds")


def status(state: str) -> str:
    """open or closed: a case is closed for its reporter once the loop is over for it."""
    return "closed" if state in CLOSED_STATES else "open"


def status_notes(state: str, note: str | None, lang: str, merged_into: str | None = None) -> str:
    """Where the case stands in the loop (finer than open/closed), why, when the step that
    brought it there said so, and the case a repeat report joined (to follow that one)."""
    names = EVENT_STATES.get(state)
    name = (names[0] if lang == "zh" else names[1]) if names else state
    joined = None
    if merged_into:
        joined = f"并入案件 {merged_into}" if lang == "zh" else f"joined case {merged_into}"
    details = "; ".join(part for part in (note, joined) if part)
    if not details:
        return name
    return f"{name}：{details}" if lang == "zh" else f"{name}: {details}"


def _named(row: Mapping, stem: str, lang: str) -> str | None:
    """A name in the asked language, the other when that one is missing."""
    first, second = (f"{stem}_zh", f"{stem}_en") if lang == "zh" else (f"{stem}_en", f"{stem}_zh")
    return row.get(first) or row.get(second)


def service(row: Mapping, lang: str) -> dict:
    """A leaf category as a GeoReport service, in the spec's order of fields."""
    return {
        "service_code": row["code"],
        "service_name": _named(row, "name", lang),
        "description": " / ".join(n for n in (row.get("name_zh"), row.get("name_en")) if n),
        "metadata": False,  # no extra attributes: a case needs what the form already asks
        "type": "realtime",  # the case code comes back in the POST's answer
        "keywords": ", ".join(dict.fromkeys(
            k for k in (row.get("name_zh"), row.get("name_en"), row.get("group_zh"),
                        row.get("group_en")) if k)),
        "group": _named(row, "group", lang),
    }


def definition(code: str) -> dict:
    """A service definition: OneMap's services have no attributes of their own."""
    return {"service_code": code, "attributes": []}


def service_request(row: Mapping, lang: str) -> dict:
    """A case as a GeoReport service request. Never the reporter's name or phone: a client
    listing requests sees what the case is and where, not who reported it."""
    closed = status(row["state"]) == "closed"
    return {
        "service_request_id": row["code"],
        "status": status(row["state"]),
        "status_notes": status_notes(row["state"], row.get("note"), lang,
                                     row.get("merged_into")),
        "service_name": _named(row, "name", lang),
        "service_code": row["category_code"],
        "description": row.get("description"),
        "agency_responsible": _named(row, "agency", lang),
        "service_notice": None,
        "requested_datetime": w3c(row["reported_at"]),
        # for a closed request the spec wants the time it was closed
        "updated_datetime": w3c((row.get("closed_at") if closed else None)
                                or row.get("updated_at") or row["reported_at"]),
        "expected_datetime": None if closed else w3c(row.get("due_at")),
        "address": row.get("address"),
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row.get("media_url"),
    }


def notice(code: str, lang: str) -> str:
    """What the POST's answer tells the resident to expect."""
    if lang == "en":
        return f"Received as case {code}; follow its progress with this number."
    return f"已受理，案件编号 {code}，可凭此编号查询办理进度。"

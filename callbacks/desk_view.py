"""What the dispatch desk shows, drawn from the rows of geodata/queries/desk.py: queue rows, the
selected case with its timeline, and what is around it. Plain functions of their rows (the
callbacks in callbacks/desk.py run the queries), tested directly.

Everything a user typed (titles, descriptions, notes, names) leaves as a Dash text child, so it
shows as text whatever it holds; photo links go out only when they are http(s), as links.
Reporters' names and phones are masked for every role, as on the wall's cards.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dash import html

from onemap.domain import lifecycle
from onemap.domain.escalation import TIER_NAMES
from onemap.domain.masking import mask_name, mask_phone
from onemap.domain.vocab import (
    CHANNELS,
    CLOSURE_KINDS,
    DEVICE_STATUSES,
    EVENT_STATES,
    STAFF_STATUSES,
    STAFF_TIERS,
)
from onemap.domain.working_calendar import UNITS, counts_in_working_time

LOCAL = ZoneInfo("Asia/Shanghai")

# every step a case's history can hold: the loop's actions (lifecycle.ACTIONS) and the rest
STEP_NAMES = {
    "report": ("上报", "reported"),
    **{name: (action.zh, name.replace("_", " ")) for name, action in lifecycle.ACTIONS.items()},
    "extend": ("延期", "extended"),
    "supervise": ("督办", "supervision notice"),
    "warn": ("预警", "warned"),
    "escalate": ("超期升级", "escalated"),
    "merged_in": ("并入重复上报", "duplicate merged in"),
    "dismiss_duplicate": ("排除重复", "not a duplicate"),
}


def _zh(vocab: dict, code) -> str:
    entry = vocab.get(code)
    return entry[0] if entry else str(code or "—")


def local_time(value: datetime | None, with_date: bool = True) -> str:
    if value is None:
        return "—"
    return value.astimezone(LOCAL).strftime("%m-%d %H:%M" if with_date else "%H:%M")


def duration_text(seconds: float) -> str:
    """A span as a duty officer reads it at a glance: 45分, 2时15分, 3天2时."""
    minutes = int(abs(seconds) // 60)
    if minutes < 1:
        return "<1分"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}时" if hours else f"{days}天"
    if hours:
        return f"{hours}时{minutes}分" if minutes else f"{hours}时"
    return f"{minutes}分"


def time_left(case: dict, now: datetime) -> tuple[str, str]:
    """(text, kind) of the case's time limit: kind is 'late', 'warned', 'paused', 'ok' or
    'none'. A shelved case's clock stands still, so it shows no time left."""
    if case["state"] in lifecycle.PAUSED_STATES:
        return "挂账 暂停计时", "paused"
    if not lifecycle.is_open(case["state"]) or case.get("due_at") is None:
        return "—", "none"
    seconds = (case["due_at"] - now).total_seconds()
    if case.get("overdue") or seconds < 0:
        return f"超期 {duration_text(seconds)}", "late"
    return f"剩 {duration_text(seconds)}", "warned" if case.get("warned") else "ok"


def place_of(case: dict) -> str:
    """Community and grid: every community has a 第2网格."""
    parts = [p for p in (case.get("community"), case.get("grid")) if p]
    return " ".join(parts) or (case.get("grid_code") or "—")


def queue_row(case: dict, now: datetime) -> dict:
    """One case of a queue as the browser draws it (assets/desk.js: drawList, as text): plain
    values, no components — a hundred rows of Dash components took the page's renderer five
    seconds to mount."""
    left, kind = time_left(case, now)
    tags = []
    if case["state"] == "suspended":
        tags.append(["挂账", "paused"])
    if case.get("duplicate"):
        tags.append(["疑似重复", "duplicate"])
    return {"id": case["id"], "level": case["level"], "code": case["code"],
            "title": case["title"], "left": left, "kind": kind, "tags": tags,
            "meta": [case["category"], place_of(case), _zh(CHANNELS, case["channel"]),
                     local_time(case["reported_at"])]}


def more_text(total: int, shown: int) -> str:
    more = total - shown
    return f"另有 {more:,} 条，请缩小筛选 · + {more:,} more" if more > 0 else ""


def _photos(urls) -> html.Div | None:
    """Links to the report's photos, http(s) only, opened without telling the photo's host
    where the link was (the page's CSP keeps images from other hosts off it: links, not
    thumbnails)."""
    safe = [url for url in urls or [] if isinstance(url, str)
            and urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc]
    if not safe:
        return None
    return html.Div(className="desk-photos", children=[
        html.A([f"照片 {n} photo ", html.Span(urlsplit(url).netloc, className="desk-muted")],
               href=url, target="_blank", rel="noopener noreferrer", referrerPolicy="no-referrer")
        for n, url in enumerate(safe, start=1)
    ])


def _field(label_zh: str, label_en: str, value) -> list:
    return [html.Dt([label_zh, html.Span(label_en, className="en")]),
            html.Dd("—" if value in (None, "") else str(value))]


def _stage_limit(limit, level: int) -> str:
    """The stage's limit as it is counted for this case: emergencies run on the clock."""
    if limit is None:
        return "—"
    clock = "" if counts_in_working_time(limit, level) or limit.unit in ("hours", "days") \
        else "（紧急，按自然时）"
    return f"{limit.amount:g} {UNITS[limit.unit][0]}{clock}"


def case_head(case: dict, now: datetime) -> list:
    """The case's code, badges, title and time left: what the officer reads first."""
    left, kind = time_left(case, now)
    badges = [html.Span(f"{case['level']}级", className="badge badge-level"),
              html.Span(_zh(EVENT_STATES, case["state"]), className="badge desk-state"),
              html.Span(f"{TIER_NAMES.get(case['tier'], (case['tier'],))[0]}级处置",
                        className="badge")]
    if case.get("overdue"):
        badges.append(html.Span("超期 overdue", className="badge badge-overdue"))
    elif case.get("warned"):
        badges.append(html.Span("预警 warned", className="badge badge-warned"))
    if case.get("duplicate_of_id"):
        badges.append(html.Span("疑似重复 duplicate?", className="badge badge-duplicate"))
    return [
        html.Div(className=f"desk-case-badges level-{case['level']}", children=[
            html.Span(case["code"], className="desk-case-code"), *badges,
            html.Span(left, className=f"desk-case-left desk-due-{kind}"),
        ]),
        html.H2(case["title"], className="desk-case-title"),
    ]


def case_fields(case: dict, limit) -> html.Dl:
    """The case's fields; the reporter's name and phone masked."""
    dup = case.get("duplicate_of_code")
    merged = case.get("merged_into_code")
    pairs = [
        ("类别", "category", case["category"]),
        ("处置部门", "department", case.get("department")),
        ("网格", "grid", place_of(case)), ("街道", "street", case.get("street")),
        ("地址", "address", case.get("address")),
        ("渠道", "channel", _zh(CHANNELS, case["channel"])),
        ("上报时间", "reported", local_time(case["reported_at"])),
        ("处置人", "handler", case.get("staff_name")),
        ("本环节时限", "stage limit", _stage_limit(limit, case["level"])),
        ("预警时间", "warn at", local_time(case.get("warn_at"))),
        ("截止时间", "due at", local_time(case.get("due_at"))),
        ("上报人", "reporter", mask_name(case.get("reporter_name"))),
        ("联系电话", "phone", mask_phone(case.get("reporter_phone"))),
    ]
    if case.get("extended"):
        pairs.append(("延期", "extended", "已延期 yes"))
    if case.get("returned_count"):
        pairs.append(("退回", "returned", f"{case['returned_count']} 次"))
    if case.get("closure_kind"):
        pairs.append(("结案类型", "closure", _zh(CLOSURE_KINDS, case["closure_kind"])))
    if dup:
        pairs.append(("疑似重复", "duplicate of", f"{dup} {case.get('duplicate_of_title') or ''}"))
    if merged:
        pairs.append(("已并入", "merged into", merged))
    children = [part for zh, en, value in pairs for part in _field(zh, en, value)]
    return html.Dl(children, className="desk-fields")


def case_body(case: dict, limit, history: list[dict]) -> list:
    return [
        html.P(case.get("description") or "", className="desk-description")
        if case.get("description") else None,
        _photos(case.get("photo_urls")),
        case_fields(case, limit),
        html.H3(["办理过程 ", html.Span("Timeline", className="en")]),
        timeline(history),
    ]


def _step_data(step: dict) -> str:
    """What a step's data says, in words: who was sent, the new limit, the extension …"""
    data = step.get("data") or {}
    words = []
    if step.get("staff_name") or data.get("staff_id") is not None:
        words.append(f"派给 {step.get('staff_name') or '（范围外人员）'}")
    if step["action"] == "extend" and "amount" in data and data.get("unit") in UNITS:
        words.append(f"延长 {data['amount']:g} {UNITS[data['unit']][0]}")
    if step["action"] == "escalate" and data.get("tier"):
        words.append(f"{_zh(TIER_NAMES, data.get('from_tier'))}→{_zh(TIER_NAMES, data['tier'])}")
    if data.get("into_code"):
        words.append(f"并入 {data['into_code']}")
    if step["action"] == "merged_in" and data.get("code"):
        words.append(f"并入上报 {data['code']}")
    if data.get("due_at"):
        words.append(f"时限至 {local_time(datetime.fromisoformat(data['due_at']))}")
    return " · ".join(words)


def timeline(history: list[dict]) -> html.Ol:
    """Every step, oldest first: when, what (中文 English), from → to, who, note, data."""
    items = []
    for step in history:
        zh, en = STEP_NAMES.get(step["action"], (step["action"], step["action"]))
        moved = step["from_state"] and step["from_state"] != step["to_state"]
        items.append(html.Li(className=f"desk-step desk-step-{step['action']}", children=[
            html.Span(local_time(step["at"]), className="desk-step-time"),
            html.Div(className="desk-step-main", children=[
                html.Div([html.Strong(zh), html.Span(f" {en}", className="en"),
                          html.Span(
                              f"{_zh(EVENT_STATES, step['from_state'])} → "
                              f"{_zh(EVENT_STATES, step['to_state'])}"
                              if moved else "", className="desk-step-states"),
                          html.Span(step.get("actor") or "系统 system",
                                    className="desk-step-actor")]),
                html.Div(_step_data(step), className="desk-step-data")
                if _step_data(step) else None,
                html.Div(step["note"], className="desk-step-note") if step.get("note") else None,
            ]),
        ]))
    return html.Ol(items, className="desk-timeline")


def _camera_meta(camera: dict) -> str:
    seen = " · 可视" if camera["covers"] else ""
    status = "" if camera["status"] == "online" else " · " + _zh(DEVICE_STATUSES, camera["status"])
    return f"{camera['metres']:.0f} m{seen}{status}"


def nearby(cameras: list[dict], staff: list[dict], key_groups: list[dict]) -> list:
    """Cameras that can see the case first, staff on duty with distance and load, and how many
    key-group residents live close by (counts, never names)."""
    return [
        html.Section(className="desk-near", children=[
            html.H3(["周边视频 ", html.Span(f"Cameras within 300 m ({len(cameras)})",
                                        className="en")]),
            html.Ul(className="desk-near-list", children=[
                html.Li(className="covers" if c["covers"] else None, children=[
                    html.Span(c["name"]), html.Span(_camera_meta(c), className="desk-muted")])
                for c in cameras[:8]
            ] or [html.Li("无 none", className="desk-muted")]),
        ]),
        html.Section(className="desk-near", children=[
            html.H3(["在岗人员 ", html.Span("Staff on duty", className="en")]),
            html.Ul(className="desk-near-list", children=[
                html.Li([html.Span(s["name"]), html.Span(
                    f"{_zh(STAFF_TIERS, s['tier'])} · {_zh(STAFF_STATUSES, s['status'])} · "
                    f"{s['metres']:.0f} m · 在办 {s['open_cases']}", className="desk-muted")])
                for s in staff
            ] or [html.Li("无 none", className="desk-muted")]),
        ]),
        html.Section(className="desk-near", children=[
            html.H3(["重点人群 ", html.Span("Key groups, 100 m", className="en")]),
            html.Ul(className="desk-near-list", children=[
                html.Li([html.Span(g["name_zh"]), html.Span(f"{g['people']} 人",
                                                            className="desk-muted")])
                for g in key_groups
            ] or [html.Li("无 none", className="desk-muted")]),
        ]),
    ]


def staff_option(s: dict) -> dict:
    """One entry of the dispatch dropdown: the suggestion marked, then who, where, how busy."""
    distance = "—" if s.get("distance_m") is None else f"{s['distance_m']} m"
    label = (f"{'★ 建议 ' if s.get('suggested') else ''}{s['name']} · "
             f"{_zh(STAFF_TIERS, s['tier'])} · {distance} · 在办 {s['open_cases']}")
    return {"label": label, "value": s["id"]}

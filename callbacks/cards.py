"""Detail cards of the map component (a click on a feature, or a page's selection), rendered
from geodata/queries/details.py and nearby.py.

Everything a user typed arrives here as a Python string and leaves as a Dash text child: Dash
puts it in the page as text, so a title like `<img onerror=…>` shows as those characters.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from dash import html

from geodata.queries import nearby
from onemap.domain.vocab import (
    BUILDING_USES,
    CAMERA_KINDS,
    DEVICE_STATUSES,
    EVENT_STATES,
    KEY_PLACE_KINDS,
    SENSOR_KINDS,
    SENSOR_STATUSES,
    STAFF_STATUSES,
    STAFF_TIERS,
)
from onemap.domain.masking import mask_name, mask_phone
from onemap.domain.roles import Capability
from onemap.web.auth import audit_request, current_user

MAX_CAMERAS, MAX_NAMES = 8, 12


def _when(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M") if value else "—"


def _zh(vocab: dict, code) -> str:
    entry = vocab.get(code)
    return entry[0] if entry else str(code or "—")


def _rows(pairs: list[tuple[str, object]]) -> html.Dl:
    children = []
    for label, value in pairs:
        children += [html.Dt(label), html.Dd("—" if value in (None, "") else str(value))]
    return html.Dl(children, className="card-fields")


def _frame(kind_zh: str, title: str, body: list) -> list:
    return [
        html.Div(kind_zh, className="card-kind"),
        html.H3(title, className="card-title"),
        *body,
    ]


def event_card(event: dict, cameras: list[dict], staff: list[dict],
               residents: list[dict] | None, resident_counts: dict[str, tuple[str, int]],
               desk_link: bool = False) -> list:
    """An event with what is around it; `residents` is None for roles that may not see names;
    `desk_link` for roles that handle cases: the case on the dispatch desk."""
    state = _zh(EVENT_STATES, event["state"])
    body = [
        html.Div(className=f"card-badges level-{event['level']}", children=[
            html.Span(f"{event['level']}级", className="badge badge-level"),
            html.Span(state, className="badge"),
            html.Span("超期 overdue", className="badge badge-overdue")
            if event["overdue"] else None,
        ]),
        html.A("在调度台处理 Open on desk", href=f"/desk?case={event['id']}",
               className="card-desk-link") if desk_link else None,
        html.P(event["description"] or "", className="card-description"),
        html.Div(className="card-photos", children=[
            html.A(f"照片 {n} photo", href=url, target="_blank", rel="noopener noreferrer")
            for n, url in enumerate(event.get("photo_urls") or [], start=1)
        ]) if event.get("photo_urls") else None,
        _rows([("编号", event["code"]), ("类别", event["category"]), ("地址", event["address"]),
               ("上报", _when(event["reported_at"])), ("时限", _when(event["due_at"])),
               ("部门", event["department"]), ("处置人", event["staff_name"]),
               ("上报人", mask_name(event["reporter_name"])),
               ("电话", mask_phone(event["reporter_phone"]))]),
        html.H4(f"周边视频 Cameras within 300 m ({len(cameras)})"),
        html.Ul(className="card-list", children=[
            html.Li([html.Span(c["name"]), html.Span(
                f"{c['metres']:.0f} m{' · 可视' if c['covers'] else ''}"
                f"{'' if c['status'] == 'online' else ' · ' + _zh(DEVICE_STATUSES, c['status'])}",
                className="card-list-meta")], className="covers" if c["covers"] else None)
            for c in cameras[:MAX_CAMERAS]
        ]),
        html.H4("最近在岗人员 Nearest staff on duty"),
        html.Ul(className="card-list", children=[
            html.Li([html.Span(s["name"]), html.Span(
                f"{_zh(STAFF_TIERS, s['tier'])} · {_zh(STAFF_STATUSES, s['status'])} · "
                f"{s['metres']:.0f} m", className="card-list-meta")])
            for s in staff
        ]),
        html.H4("100 m 内重点人群 Key groups within 100 m"),
        html.Ul(className="card-list", children=[
            html.Li([html.Span(name_zh), html.Span(f"{count} 人", className="card-list-meta")])
            for _tag, (name_zh, count) in resident_counts.items()
        ] or [html.Li("无 none")]),
    ]
    if residents is not None and residents:
        shown = residents[:MAX_NAMES]
        more = len(residents) - len(shown)
        body.append(html.P(
            "、".join(f"{mask_name(r['name'])}({r['name_zh']})" for r in shown)
            + (f" 等 {len(residents)} 人" if more > 0 else ""), className="card-names"))
    return _frame("事件 Event", event["title"], body)


def resident_counts(residents: list[dict]) -> dict[str, tuple[str, int]]:
    """tag -> (its Chinese name, how many distinct residents carry it)."""
    people: dict[str, set[int]] = defaultdict(set)
    names: dict[str, str] = {}
    for r in residents:
        people[r["tag"]].add(r["person_id"])
        names[r["tag"]] = r["name_zh"]
    return {tag: (names[tag], len(ids)) for tag, ids in people.items()}


def building_card(b: dict) -> list:
    return _frame("楼栋 Building", b["name"], [_rows([
        ("编码", b["code"]), ("地址", b["address"]), ("用途", _zh(BUILDING_USES, b["use"])),
        ("层数", f"地上 {b['floors_above']} / 地下 {b['floors_below']}"),
        ("单元", b["unit_count"]), ("建成", b["built_year"]), ("房屋", b["households"]),
        ("居住人口", b["residents"]), ("重点人群", b["key_group"]), ("网格", b["grid_code"]),
    ]), html.A("楼盘表 Building table", href=f"/lookup?building={b['id']}",
               className="card-desk-link") if current_user.can(Capability.LOOKUP_PERSON) else None])


def camera_card(c: dict) -> list:
    return _frame("视频监控 Camera", c["name"], [_rows([
        ("国标编码", c["code"]), ("状态", _zh(DEVICE_STATUSES, c["status"])),
        ("类型", _zh(CAMERA_KINDS, c["kind"])),
        ("朝向", "云台 pans" if c["heading"] is None else f"{c['heading']}°"),
        ("视角", f"{c['fov_deg']}°"), ("可视距离", f"{c['range_m']} m"), ("网格", c["grid_code"]),
    ])])


def sensor_card(s: dict) -> list:
    unit = s["unit_of_measure"] or ""
    reading = "—" if s["last_value"] is None else f"{s['last_value']:g} {unit}"
    return _frame("物联感知 Sensor", s["name"], [_rows([
        ("编码", s["code"]), ("类型", _zh(SENSOR_KINDS, s["kind"])),
        ("状态", _zh(SENSOR_STATUSES, s["status"])), ("读数", reading),
        ("阈值", f"{s['low_threshold'] if s['low_threshold'] is not None else '—'} ~ "
                 f"{s['high_threshold'] if s['high_threshold'] is not None else '—'}"),
        ("读数时间", _when(s["last_reading_at"])), ("告警起", _when(s["alarm_since"])),
        ("网格", s["grid_code"]),
    ])])


def place_card(p: dict) -> list:
    return _frame("重点场所 Key place", p["name"], [_rows([
        ("编码", p["code"]), ("类型", _zh(KEY_PLACE_KINDS, p["kind"])),
        ("风险等级", p["risk_level"]), ("地址", p["address"]),
        ("联系人", mask_name(p["contact_name"])), ("电话", mask_phone(p["contact_phone"])),
        ("网格", p["grid_code"]),
    ])])


def staff_card(s: dict) -> list:
    return _frame("工作人员 Staff", s["name"], [_rows([
        ("工号", s["code"]), ("类别", _zh(STAFF_TIERS, s["tier"])),
        ("状态", _zh(STAFF_STATUSES, s["status"])), ("在办事件", s["open_cases"]),
        ("电话", mask_phone(s["phone"])), ("位置时间", _when(s["last_seen_at"])),
        ("网格", s["grid_code"]),
    ])])


RENDERERS = {"buildings": building_card, "cameras": camera_card, "sensors": sensor_card,
             "places": place_card, "staff": staff_card}


def render(conn, kind: str, record: dict) -> list:
    """The card of `record` (a row of details.card) of `kind`; an event's card lists what is
    around it, and naming the residents nearby is audited."""
    if kind != "events":
        return RENDERERS[kind](record)
    event_id = record["id"]
    cameras = nearby.cameras_near(conn, event_id)
    staff = nearby.staff_near(conn, event_id)
    residents = nearby.key_groups_near(conn, event_id)
    names_allowed = current_user.can(Capability.LOOKUP_PERSON)
    if names_allowed and residents:
        audit_request(conn, "nearby_residents", object_kind="event", object_id=str(event_id),
                      details={"people": len({r["person_id"] for r in residents})})
    return event_card(record, cameras, staff, residents if names_allowed else None,
                      resident_counts(residents), current_user.can(Capability.HANDLE_EVENT))

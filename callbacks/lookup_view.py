"""How the look-up page (pages/lookup.py) draws what its callbacks found: the breadcrumb, the
counts, the units below, the search results, the building table and the household card.
Plain functions from the answers of onemap/web/lookup_steps.py to Dash components; people
arrive masked unless one was unmasked with a purpose.
"""

from __future__ import annotations

from dash import dcc, html

from onemap.domain.vocab import PERSON_TAGS

LEVELS = {"district": ("区", "district"), "street": ("街道", "street"),
          "community": ("社区", "community"), "grid": ("网格", "grid"),
          "building": ("楼栋", "building")}
OCCUPANCY = {"self_occupied": ("自住", "owner-occupied"), "rented": ("出租", "rented"),
             "vacant": ("空置", "vacant"), "commercial": ("商用", "commercial")}
# a key group's badge in a room: one character, the name on hover
BADGE_MARKS = {"elderly_alone": "独", "disabled": "残", "low_income": "低", "chronic_disease": "慢",
               "left_behind_child": "留", "veteran": "退", "community_correction": "矫",
               "severe_mental_disorder": "精"}
RELATIONS = {"householder": "户主", "spouse": "配偶", "child": "子女", "parent": "父母",
             "grandchild": "孙辈", "other_relative": "其他亲属", "tenant": "租户", "other": "其他"}
HOME_KINDS = {"residence": ("居住", "lives here"), "registered": ("户籍", "registered here")}
POPULATION = {"registered": "户籍", "floating": "流动", "foreign": "境外"}
GENDERS = {"M": "男", "F": "女"}
RESULT_KINDS = {"people": ("人员", "People"), "rooms": ("房屋", "Rooms"),
                "buildings": ("楼栋", "Buildings"), "enterprises": ("企业", "Enterprises"),
                "places": ("重点场所", "Key places")}


def _bilingual(zh: str, en: str) -> list:
    return [zh, html.Span(f" {en}", className="en")]


def trail(steps: list[dict], building: dict | None) -> list:
    """The breadcrumb: each unit a link back up; the building last when one is chosen."""
    items = []
    for step in steps:
        items.append(html.Button(step["name"], id={"type": "lookup-go", "code": step["code"]},
                                 n_clicks=0, className="lookup-crumb",
                                 title=f"{LEVELS[step['level']][0]} {step['code']}"))
        items.append(html.Span("›", className="lookup-crumb-sep"))
    if building:
        items.append(html.Span(building["name"], className="lookup-crumb current"))
    elif items:
        items.pop()
        items[-1].className += " current"
    return items


def _count(value, zh: str, en: str, kind: str = "") -> html.Div:
    shown = "–" if value is None else f"{value:,}"
    return html.Div(className=f"lookup-count {kind}", title=en,
                    children=[html.B(shown), html.Span(zh)])


def counts(unit: dict | None) -> list:
    """What matters at the unit standing selected (geodata/queries/unit_stats.py): buildings,
    rooms by occupancy, people registered, living there and living apart from their
    registration, key groups, open cases, cameras."""
    if unit is None:
        return [html.P("无统计 · No counts", className="lookup-muted")]
    level_zh, level_en = LEVELS[unit["level"]]
    groups = unit.get("key_groups") or {}
    return [
        html.H2([unit["name"], html.Span(f" {level_zh} · {level_en} {unit['code']}",
                                         className="lookup-sub")]),
        html.Div(className="lookup-count-row", children=[
            _count(unit.get("buildings"), "楼栋", "buildings"),
            *[_count(unit.get(key), zh, en, f"occ-{key}")
              for key, (zh, en) in OCCUPANCY.items()],
        ]),
        html.Div(className="lookup-count-row", children=[
            _count(unit.get("registered"), "户籍人口", "registered here"),
            _count(unit.get("residents"), "实有人口", "living here"),
            _count(unit.get("living_apart"), "人户分离", "living apart from registration"),
            _count(unit.get("open_cases"), "在办案件", "open cases", "cases"),
            _count(unit.get("cameras"), "摄像头", "cameras"),
        ]),
        html.Div(className="lookup-groups", children=[
            html.Span([BADGE_MARKS.get(code, "·"), f" {PERSON_TAGS[code][0]} ",
                       html.B(f"{count:,}")],
                      className="lookup-group", title=PERSON_TAGS[code][1])
            for code, count in sorted(groups.items(), key=lambda item: -item[1])
            if code in PERSON_TAGS
        ]) if groups else None,
    ]


def children(unit: dict | None, rows: list[dict]) -> list:
    """The units one level down (or a grid's buildings), each a button that selects it."""
    if not rows:
        return []
    buildings = unit is not None and unit["level"] == "grid"
    head = ("楼栋", "Buildings") if buildings else ("下级单位", "Units below")
    items = []
    for row in rows:
        if buildings:
            detail = f"{row.get('residents', 0):,} 人 · {row.get('rooms', 0):,} 户"
            target = {"type": "lookup-pick-building", "id": row["id"]}
        else:
            detail = f"{row.get('residents', 0):,} 人 · {row.get('buildings', 0):,} 栋"
            target = {"type": "lookup-go", "code": row["code"]}
        cases = row.get("open_cases") or 0
        items.append(html.Button(id=target, n_clicks=0, className="lookup-child", children=[
            html.Span(row.get("address") or row.get("name") or row.get("code"),
                      className="lookup-child-name"),
            html.Span(detail, className="lookup-child-detail"),
            html.Span(f"{cases} 件", className="lookup-child-cases") if cases else None,
        ]))
    return [html.H3(_bilingual(*head)), html.Div(items, className="lookup-child-list")]


def _hit(kind: str, row: dict) -> html.Button:
    if kind == "people":
        main = row.get("name")
        detail = " · ".join(str(v) for v in (row.get("age_band"), row.get("id_number"),
                                             row.get("room") or row.get("label"),
                                             row.get("address")) if v)
    elif kind == "rooms":
        main, detail = row.get("label"), row.get("address")
    elif kind == "buildings":
        main, detail = row.get("name") or row.get("address"), row.get("address")
    else:
        main = row.get("name")
        detail = row.get("credit_code") or row.get("kind_zh") or row.get("kind") or ""
    return html.Button(
        id={"type": "lookup-hit", "kind": kind, "id": row["id"]}, n_clicks=0,
        className=f"lookup-hit lookup-hit-{kind}",
        children=[html.Span(main, className="lookup-hit-main"),
                  html.Span(detail, className="lookup-hit-detail")])


def results(found: dict | None, message: str | None = None) -> list:
    """Search results grouped by kind; a message instead when the search was refused."""
    if message:
        return [html.P(message, className="lookup-message")]
    if found is None:
        return []
    groups = found.get("groups") or {}
    if not groups:
        return [html.P("未找到 · Nothing found", className="lookup-muted")]
    out = []
    for kind, (zh, en) in RESULT_KINDS.items():
        rows = groups.get(kind)
        if rows:
            out.append(html.H3([*_bilingual(zh, en), html.Span(f" {len(rows)}",
                                                               className="lookup-sub")]))
            out.extend(_hit(kind, row) for row in rows)
    return out


def _cell(cell: dict) -> html.Td:
    occupancy = cell.get("occupancy") or "unknown"
    marks = [html.Span(BADGE_MARKS.get(b["code"], "·"),
                       className="lookup-badge" + (" sensitive" if b.get("sensitive") else ""),
                       title=f"{b['name_zh']} {b.get('name_en', '')} ×{b.get('count', 1)}")
             for b in cell.get("badges") or []]
    if cell.get("open_cases"):
        marks.append(html.Span(str(cell["open_cases"]), className="lookup-badge cases",
                               title="在办案件 open cases"))
    return html.Td(html.Button(
        id={"type": "lookup-pick-room", "id": cell["household_id"]}, n_clicks=0,
        className=f"lookup-room occ-{occupancy}",
        title=f"{cell['label']} {OCCUPANCY.get(occupancy, (occupancy,))[0]} · "
              f"{cell.get('residents', 0)} 人",
        children=[html.Span(cell["room_number"], className="lookup-room-no"),
                  html.Span(marks, className="lookup-marks")]))


def building_table(table: dict | None) -> list:
    """楼盘表: one column group per unit, one row per floor (top first), a cell per room (the
    chosen one is marked in the browser: assets/lookup.js markRoom)."""
    if table is None:
        return [html.P("无此楼栋或不在您的管辖范围 · Not found or outside your area",
                       className="lookup-muted")]
    building = table["building"]
    by_place: dict[tuple, list[dict]] = {}
    for cell in table["cells"]:
        by_place.setdefault((cell["unit"], cell["floor"]), []).append(cell)
    widths = {unit: max((len(by_place.get((unit, f), [])) for f in table["floors"]), default=0)
              for unit in table["units"]}
    header = html.Tr([html.Th("楼层", className="lookup-floor")] + [
        html.Th(f"{unit} 单元", colSpan=max(widths[unit], 1)) for unit in table["units"]])
    rows = []
    for floor in table["floors"]:
        cells = [html.Th(f"{floor}F" if floor > 0 else f"B{-floor}", className="lookup-floor")]
        for unit in table["units"]:
            rooms = sorted(by_place.get((unit, floor), []), key=lambda c: c["room_number"])
            cells += [_cell(c) for c in rooms]
            cells += [html.Td(className="lookup-room-none")] * (max(widths[unit], 1) - len(rooms))
        rows.append(html.Tr(cells))
    legend = html.Div(className="lookup-legend", children=[
        *[html.Span(_bilingual(zh, en), className=f"lookup-key occ-{key}")
          for key, (zh, en) in OCCUPANCY.items()],
        html.Span("独 独居老人 · 残 残疾人 · 低 低保 · 慢 慢病 · 留 留守儿童 · 退 退役军人",
                  className="lookup-key-text"),
    ])
    cases = table.get("open_cases") or 0
    return [
        html.H2([building.get("name") or building.get("address"),
                 html.Span(f" {building.get('address') or ''} · {building.get('floors_above')}"
                           f" 层 · {len(table['units'])} 单元 · {len(table['cells'])} 户",
                           className="lookup-sub")]),
        html.P(f"楼栋在办案件 {cases} 件 · open cases at the building", className="lookup-muted")
        if cases else None,
        legend,
        html.Div(html.Table([html.Thead(header), html.Tbody(rows)], className="lookup-matrix"),
                 className="lookup-matrix-wrap"),
    ]


def _member(member: dict, may_unmask: bool) -> html.Tr:
    other = member.get("other_home")
    if other:
        where = html.Button(f"{'户籍' if member.get('kind') == 'residence' else '居住'}: "
                            f"{other.get('label')} {other.get('address') or ''}",
                            id={"type": "lookup-pick-home", "id": other["household_id"],
                                "building": other["building_id"]},
                            n_clicks=0, className="lookup-link")
    else:
        where = ""
    kind_zh, kind_en = HOME_KINDS.get(member.get("kind"), (member.get("kind"), ""))
    tags = [html.Span(t["name_zh"], className="lookup-tag" + (" sensitive" if t.get("sensitive")
                                                                else ""))
            for t in member.get("tags") or []]
    unmask = (html.Button("查看明文 Unmask", n_clicks=0, className="lookup-unmask",
                          id={"type": "lookup-unmask", "id": member["person_id"]})
              if may_unmask and not member.get("unmasked") else None)
    return html.Tr(className="lookup-member" + (" unmasked" if member.get("unmasked") else ""),
                   children=[
        html.Td([html.B(member.get("name")), html.Br(),
                 html.Span(RELATIONS.get(member.get("relation"), member.get("relation") or ""),
                           className="lookup-sub")]),
        html.Td([GENDERS.get(member.get("gender"), ""), " ",
                 member.get("birth_date") or member.get("age_band") or "",
                 html.Br(), html.Span(POPULATION.get(member.get("population_type"), ""),
                                      className="lookup-sub")]),
        html.Td([member.get("id_number") or member.get("passport_number") or "", html.Br(),
                 member.get("phone") or ""]),
        html.Td([html.Span(kind_zh, title=kind_en, className=f"lookup-home {member.get('kind')}"),
                 " ", where]),
        html.Td(tags),
        html.Td(unmask),
    ])


def household_card(card: dict | None, may_unmask: bool) -> list:
    """The household: members and their relation to the householder, registered and actual
    homes (each other home a link), contacts masked, tags, and the room's cases."""
    if card is None:
        return [html.P("无此房屋或不在您的管辖范围 · Not found or outside your area",
                       className="lookup-muted")]
    room = card["room"] if "room" in card else card
    occupancy = room.get("occupancy")
    cases = card.get("cases") or []
    return [
        html.H2([f"{room.get('label', '')} ",
                 html.Span(f"{room.get('address') or ''} · "
                           f"{OCCUPANCY.get(occupancy, (occupancy or '',))[0]}"
                           + (f" · {room['area_m2']} m²" if room.get("area_m2") else ""),
                           className="lookup-sub")]),
        html.Table(className="lookup-members", children=[
            html.Thead(html.Tr([html.Th(h) for h in (
                "姓名 / 关系", "性别 / 年龄", "证件 / 电话", "居住 / 户籍", "标签", "")])),
            html.Tbody([_member(m, may_unmask) for m in card.get("members") or []]),
        ]) if card.get("members") else html.P("无登记人员 · Nobody registered or living here",
                                               className="lookup-muted"),
        html.Div(id="lookup-unmask-box", className="lookup-unmask-box", hidden=True, children=[
            dcc.Input(id="lookup-purpose", maxLength=500, className="lookup-input",
                      placeholder="查看事由（必填，记入审计）Purpose (required, audited)"),
            html.Button("确认查看 Show", id="lookup-unmask-confirm", n_clicks=0,
                        className="lookup-unmask"),
        ]) if may_unmask else None,
        html.Div(id="lookup-unmask-message", className="lookup-message"),
        html.H3(_bilingual("房屋案件", "Cases at this room")),
        html.Ul([html.Li([html.A(c.get("code"), href=f"/desk?case={c['id']}"), " ",
                          c.get("title") or "", html.Span(f" {c.get('state')}",
                                                          className="lookup-sub")])
                 for c in cases], className="lookup-cases")
        if cases else html.P("无 · None", className="lookup-muted"),
    ]

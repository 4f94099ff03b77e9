"""The dispatch desk (调度台, /desk) in headless Chromium on the demo district: a report posted
by a machine client's token reaches the open desk and the wall without a reload; a duty officer
and the grid worker take it round the whole loop by clicking; two officers acting at once;
the keyboard; reporting by a click on the map; the URL; and what another area's case shows."""

from __future__ import annotations

import json
import secrets
import subprocess

import psycopg
import pytest

from tests.browser.conftest import screenshot, sign_in_demo
from tests.support.browser import sign_in_tab
from tests.conftest import onemap_command
from tests.support.clients import Client

pytestmark = pytest.mark.browser

OFFICER, WORKER = "值班员 王明", "网格员 张伟"  # the demo users' display names


def _cli(env, *args) -> str:
    done = subprocess.run([onemap_command(), *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def hotline(demo_district):
    """The 12345 hotline's API token (a system user of the district, as `onemap token add`
    makes one): (its name, its token)."""
    url, env = demo_district
    with psycopg.connect(url) as conn:
        district = conn.execute("SELECT code FROM onemap.district").fetchone()[0]
    name = f"hotline-{secrets.token_hex(3)}"
    out = _cli(env, "token", "add", name, "--role", "duty_officer", "--scope", district,
               "--expires", "30")
    return name, out.strip().splitlines()[-1]


def _free_point(url: str, grid: str) -> tuple[float, float]:
    """A point of the grid with no case within 80 m: a new report there is nobody's
    duplicate, and its marker is nobody else's."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 40,"
            " %s))).geom AS p FROM onemap.grid WHERE code = %s) points"
            " WHERE NOT EXISTS (SELECT 1 FROM onemap.event e"
            "                    WHERE ST_DWithin(e.geom::geography, p::geography, 80))"
            " LIMIT 1", (secrets.randbelow(10_000), grid)).fetchone()


@pytest.fixture
def worker(demo_district):
    """The demo grid worker as a member of their grid's staff: on duty and free, standing in
    their grid; put back as it was afterwards."""
    url = demo_district[0]
    with psycopg.connect(url, autocommit=True) as conn:
        grid = conn.execute("SELECT scope_code FROM onemap.app_user WHERE username ="
                            " 'gridworker'").fetchone()[0]
        staff = conn.execute(
            "SELECT id, name, on_duty, status, user_id FROM onemap.staff WHERE grid_code = %s"
            " AND tier = 'grid_worker' ORDER BY id LIMIT 1", (grid,)).fetchone()
        conn.execute(
            "UPDATE onemap.staff SET user_id = (SELECT id FROM onemap.app_user WHERE username ="
            " 'gridworker'), on_duty = true, status = 'available' WHERE id = %s", (staff[0],))
    yield {"id": staff[0], "name": staff[1], "grid": grid, "url": url}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE onemap.staff SET on_duty = %s, status = %s, user_id = %s"
                     " WHERE id = %s", (staff[2], staff[3], staff[4], staff[0]))


def _report(base: str, token: str, where, title: str, **extra) -> dict:
    status, _h, body, _c = Client(base).request(
        "POST", "/api/events", headers={"Authorization": f"Bearer {token}"},
        json_body={"title": title, "category_code": "C0302", "level": 3, "lon": where[0],
                   "lat": where[1], "channel": "hotline_12345",
                   "external_ref": f"DESK-{secrets.token_hex(6)}", "reporter_name": "欧阳娜娜",
                   "reporter_phone": "13812345678", **extra})
    assert status == 201, body
    return json.loads(body)


def _open_desk(tab, base: str, query: str = "") -> None:
    tab.goto(f"{base}/desk{query}")
    tab.wait_for_selector(".desk-row, .desk-empty")
    tab.wait_for_selector(".map-status.ok")


def _step(tab, action: str, note: str | None = None) -> str:
    """Click a step's button (with a note) and return what the desk answered."""
    if note is not None:
        tab.fill("#desk-note", note)
    before = tab.inner_text("#desk-message")
    tab.click(f".desk-action-{action}:not([disabled])")
    tab.wait_for_function("(old) => { const m = document.getElementById('desk-message');"
                          " return m.textContent && m.textContent !== old; }", arg=before)
    return tab.inner_text("#desk-message")


def _state(tab) -> str:
    return tab.inner_text(".desk-case-head .desk-state")


def _wait_state(tab, zh: str) -> None:
    """Until the case on the desk is in the state `zh` (its panel redraws after the step)."""
    tab.wait_for_function("(s) => document.querySelector('.desk-state')?.textContent === s",
                          arg=zh)


def test_a_hotline_report_goes_round_the_loop_on_the_desk(demo_server, demo_district, browser,
                                                           page, hotline, worker):
    name, token = hotline
    sign_in_demo(page, demo_server, "duty")
    _open_desk(page, demo_server, "?queue=new")
    title = f"调度台验收 垃圾箱破损 {secrets.token_hex(3)}"
    made = _report(demo_server, token, _free_point(worker["url"], worker["grid"]), title)

    # the new report reaches the open desk's queue and the wall's feed, without a reload
    row = page.locator(".desk-row", has_text=title)
    row.wait_for()
    wall = page.context.new_page()
    wall.goto(f"{demo_server}/wall")
    wall.locator(".wall-feed li", has_text=title).wait_for()
    wall.close()

    # the officer registers it and sends the grid worker, chosen in the dropdown
    row.click()
    page.wait_for_function("(t) => document.querySelector('.desk-case-title')?.textContent === t",
                           arg=title)
    assert page.url.endswith(f"case={made['id']}") or f"case={made['id']}&" in page.url
    fields = page.inner_text(".desk-fields")
    assert "欧**" in fields and "138****5678" in fields and "13812345678" not in fields
    assert "立案" in _step(page, "register", "属实，立案")
    _wait_state(page, "已立案")
    page.click("#desk-staff")
    page.click(f".dash-dropdown-option:has-text('{worker['name']}')")
    assert worker["name"] in page.inner_text("#desk-staff")
    assert "派遣" in _step(page, "dispatch", "请半小时内到场")
    _wait_state(page, "已派遣")

    # the worker, at their own desk, accepts and reports back
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        field = context.new_page()
        errors = []
        field.on("console", lambda m: m.type == "error" and errors.append(m.text))
        sign_in_demo(field, demo_server, "gridworker")
        _open_desk(field, demo_server, f"?case={made['id']}")
        field.wait_for_function("(t) => document.querySelector('.desk-case-title')"
                                "?.textContent === t", arg=title)
        assert "接单" in _step(field, "accept")
        _wait_state(field, "处置中")
        assert "处置反馈" in _step(field, "report_back", "已更换垃圾箱")
        _wait_state(field, "已反馈")
        assert errors == []
    finally:
        context.close()

    # the officer's open case follows by itself; they verify and close it
    page.wait_for_selector(".desk-action-verify:not([disabled])")
    assert "核查通过" in _step(page, "verify", "现场核查已修复")
    _wait_state(page, "已核查")
    assert "结案" in _step(page, "close")
    _wait_state(page, "已结案")
    assert page.locator("#desk-actions").is_hidden()  # nothing left to do with it

    steps = page.eval_on_selector_all(".desk-step", "els => els.map(e => e.innerText)")
    expected = [("上报", name), ("立案", OFFICER), ("派遣", OFFICER), ("接单", WORKER),
                ("处置反馈", WORKER), ("核查通过", OFFICER), ("结案", OFFICER)]
    assert len(steps) == len(expected), steps
    for text, (action, actor) in zip(steps, expected):
        assert action in text and actor in text, (text, action, actor)
    assert f"派给 {worker['name']}" in steps[2] and "请半小时内到场" in steps[2]
    assert "已更换垃圾箱" in steps[4]
    with psycopg.connect(worker["url"]) as conn:
        audited = [r[0] for r in conn.execute(
            "SELECT action FROM onemap.audit_log WHERE object_kind = 'event' AND object_id = %s"
            " ORDER BY id", (str(made["id"]),))]
        staff = conn.execute("SELECT assigned_staff_id FROM onemap.event WHERE id = %s",
                             (made["id"],)).fetchone()[0]
    assert audited == ["event_report", "event_register", "event_dispatch", "event_accept",
                       "event_report_back", "event_verify", "event_close"]
    assert staff == worker["id"]
    assert page.console_errors == []


def test_two_officers_at_once_one_wins_and_the_other_is_told(demo_server, demo_district,
                                                              browser, page, hotline, worker):
    """The second officer's screen has not heard of the first's step yet (its live poll is
    held up): their click is refused with what happened, not a crash."""
    _url, env = demo_district
    second = f"duty-{secrets.token_hex(3)}"
    _cli(env, "user", "add", second, "--role", "duty_officer", "--scope",
         worker["grid"][:6], "--name", "值班员 李四", "--password", "second-officer-2026")
    made = _report(demo_server, hotline[1], _free_point(worker["url"], worker["grid"]),
                   f"两人同时处理 {secrets.token_hex(3)}")
    sign_in_demo(page, demo_server, "duty")
    _open_desk(page, demo_server, f"?case={made['id']}")
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        other = context.new_page()
        sign_in_tab(other, demo_server, second, "second-officer-2026")
        _open_desk(other, demo_server, f"?case={made['id']}")
        other.wait_for_selector(".desk-action-register:not([disabled])")
        other.route("**/api/live*", lambda route: route.abort("connectionrefused"))
        page.wait_for_selector(".desk-action-register:not([disabled])")
        assert "立案" in _step(page, "register")
        message = _step(other, "reject", "重复上报")
        assert "已被他人处理" in message and "now registered" in message, message
        assert other.locator("#desk-message.error").count() == 1
        _wait_state(other, "已立案")  # and the desk shows the case as it stands now
    finally:
        context.close()
    with psycopg.connect(worker["url"]) as conn:
        state, rejects = conn.execute(
            "SELECT state, (SELECT count(*) FROM onemap.event_history h WHERE h.event_id = e.id"
            " AND h.action = 'reject') FROM onemap.event e WHERE id = %s",
            (made["id"],)).fetchone()
    assert (state, rejects) == ("registered", 0)


def test_the_keyboard_takes_the_common_steps_but_never_while_typing(demo_server, page, hotline,
                                                                    worker):
    titles = [f"快捷键 {n} {secrets.token_hex(2)}" for n in range(2)]
    made = [_report(demo_server, hotline[1], _free_point(worker["url"], worker["grid"]), t)
            for t in titles]
    sign_in_demo(page, demo_server, "duty")
    _open_desk(page, demo_server, "?queue=new")
    for title in titles:
        page.locator(".desk-row", has_text=title).wait_for()
    page.locator(".desk-row", has_text=titles[1]).click()  # the newest comes first
    page.wait_for_function("(t) => document.querySelector('.desk-case-title')?.textContent"
                           " === t", arg=titles[1])
    page.keyboard.press("j")  # the next one down the queue
    page.wait_for_function("(t) => document.querySelector('.desk-case-title')?.textContent"
                           " === t", arg=titles[0])
    assert f"case={made[0]['id']}" in page.url
    # an R typed into the note is a letter of the note
    page.click("#desk-note")
    page.keyboard.type("Request more photos")
    page.wait_for_timeout(1500)
    assert _state(page) == "已上报"
    page.click(".desk-case-title")  # out of the field
    page.keyboard.press("r")
    _wait_state(page, "已立案")
    assert "立案" in page.inner_text("#desk-message")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "desk-text"
    assert page.console_errors == []


def test_a_case_reported_by_clicking_the_map(demo_server, demo_district, page, worker):
    lon, lat = _free_point(worker["url"], worker["grid"])
    sign_in_demo(page, demo_server, "duty")
    _open_desk(page, demo_server, f"?lat={lat}&lng={lon}&z=17")
    page.click("#desk-report-toggle")
    page.wait_for_selector(".desk-map-area.reporting")
    box = page.locator("#desk-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#desk-report-form:not([hidden])")
    title = f"地图上报 井盖缺失 {secrets.token_hex(3)}"
    page.fill("#desk-report-title", title)
    page.click("#desk-report-category")
    page.fill(".dash-dropdown-search", "C0101")
    page.click(".dash-dropdown-option:has-text('上水井盖')")
    page.fill("#desk-report-description", "<b>不是标记</b>")
    page.click("#desk-report-submit")
    page.wait_for_function("(t) => document.querySelector('.desk-case-title')?.textContent"
                           " === t", arg=title)
    assert page.locator("#desk-report-form").is_hidden()
    assert page.inner_text(".desk-description") == "<b>不是标记</b>"
    page.locator(".desk-row", has_text=title).wait_for()
    with psycopg.connect(demo_district[0]) as conn:
        x, y, channel, grid, reporter = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom), channel, grid_code, u.username FROM onemap.event e"
            " JOIN onemap.app_user u ON u.id = e.reported_by_user_id WHERE title = %s",
            (title,)).fetchone()
        audited = conn.execute("SELECT count(*) FROM onemap.audit_log WHERE action ="
                               " 'event_report' AND username = 'duty' AND object_id ="
                               " (SELECT CAST(id AS text) FROM onemap.event WHERE title = %s)",
                               (title,)).fetchone()[0]
    # where the officer clicked: the map's centre (no basemap shift), within a few pixels
    assert abs(x - lon) < 2e-5 and abs(y - lat) < 2e-5
    assert (channel, grid, reporter, audited) == ("hotline_12345", worker["grid"], "duty", 1)
    assert page.console_errors == []


def test_filters_and_the_case_survive_a_reload(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_desk(page, demo_server, "?queue=in_hand")
    page.locator(".desk-row").first.click()
    page.wait_for_selector(".desk-case-title")
    title = page.inner_text(".desk-case-title")
    page.click("#desk-level")
    page.click(".dash-dropdown-option:has-text('4级')")
    page.wait_for_function("() => location.search.includes('level=4')")
    page.fill("#desk-text", "AJ")
    page.wait_for_function("() => location.search.includes('q=AJ')")
    url = page.url
    page.reload()
    page.wait_for_selector(".desk-case-title")
    assert page.inner_text(".desk-case-title") == title
    assert page.url == url or "level=4" in page.url
    assert "4级" in page.inner_text("#desk-level")
    assert page.locator(".desk-queue-in_hand.chosen").count() == 1
    page.wait_for_selector(".desk-row")
    rows = page.eval_on_selector_all(".desk-level", "els => els.map(e => e.textContent)")
    assert rows and set(rows) == {"4级"}
    assert page.console_errors == []


def test_a_case_of_another_area_is_no_case_at_all(demo_server, demo_district, browser):
    with psycopg.connect(demo_district[0]) as conn:
        elsewhere = conn.execute(
            "SELECT id FROM onemap.event WHERE grid_code <> (SELECT scope_code FROM"
            " onemap.app_user WHERE username = 'gridworker') ORDER BY id LIMIT 1").fetchone()[0]
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        tab = context.new_page()
        sign_in_demo(tab, demo_server, "gridworker")
        tab.goto(f"{demo_server}/desk?case={elsewhere}")
        tab.wait_for_selector(".desk-case-head .desk-message.error")
        assert "您的管辖范围内无此案件" in tab.inner_text(".desk-case-head")
        assert tab.locator("#desk-actions").is_hidden()
    finally:
        context.close()


def test_the_desk_at_1920_by_1080(demo_server, page):
    """The screenshot in the README: an overdue case with its history, on the queues."""
    sign_in_demo(page, demo_server, "duty")
    _open_desk(page, demo_server, "?queue=overdue")
    page.locator(".desk-row").first.click()
    page.wait_for_selector(".desk-step")
    page.wait_for_selector(".leaflet-layer-events-pane path.leaflet-interactive",
                           state="attached")
    page.wait_for_timeout(2500)  # the flight to the case and the close-up layers
    screenshot(page, "desk")
    assert page.console_errors == []

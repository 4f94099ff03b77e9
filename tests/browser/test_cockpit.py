"""The leaders' cockpit (/cockpit) in headless Chromium on the demo district: the leader's
figures equal the cases counted in the database; a click on a street on the map scopes the
whole cockpit (breadcrumb, URL, figures) to it; a figure's drill-through lists as many cases as
the figure says; an analyst sees the lists without personal data; a grid worker is refused.
And the appraisal page (/appraisal) showing a month frozen by `onemap appraisal freeze`, the
wall mode, and the one-page PDF report."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.browser.conftest import screenshot, sign_in_demo
from tests.support.clients import demo_client, signed_in_browser
from tests.support.users import DEMO_PASSWORDS
from tests.support.serving import onemap_command

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = datetime.now(ZONE).year

# received (受理) of a year and unit, counted from the cases themselves
_RECEIVED = """
SELECT count(*) FROM onemap.event
 WHERE state <> 'merged' AND starts_with(grid_code, %(unit)s)
   AND reported_at >= make_timestamptz(%(year)s, 1, 1, 0, 0, 0, 'Asia/Shanghai')
   AND reported_at < make_timestamptz(%(year)s + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')
"""


def _value(kpi: str) -> str:
    return "[id='" + json.dumps({"kpi": kpi, "type": "cockpit-value"},
                                separators=(",", ":")) + "']"


def _tile(kpi: str) -> str:
    return "[id='" + json.dumps({"kpi": kpi, "type": "cockpit-tile"},
                                separators=(",", ":")) + "']"


def _number(page, kpi: str) -> int:
    page.wait_for_function("s => /[0-9]/.test(document.querySelector(s)?.textContent || '')",
                           arg=_value(kpi))
    return int(page.inner_text(_value(kpi)).replace(",", ""))


def _received(url: str, unit: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(_RECEIVED, {"unit": unit, "year": YEAR}).fetchone()[0]


# the middle of the largest street outline on the map that is really under the pointer there
_A_STREET = """
() => {
  let best = null;
  for (const path of document.querySelectorAll('.cockpit-map path.leaflet-interactive')) {
    const r = path.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (document.elementFromPoint(x, y) !== path) continue;
    const area = r.width * r.height;
    if (!best || area > best.area) best = {x: x, y: y, area: area};
  }
  return best;
}
"""


def test_the_leader_s_cockpit_scopes_to_a_street_and_drills_to_its_cases(demo_server,
                                                                        demo_district, page):
    url = demo_district[0]
    sign_in_demo(page, demo_server, "leader")
    page.goto(f"{demo_server}/cockpit?period=year&date={YEAR}-01-01&kpi=closure_rate")
    with psycopg.connect(url) as conn:
        district = conn.execute("SELECT scope_code FROM onemap.app_user"
                                " WHERE username = 'leader'").fetchone()[0]
    assert _number(page, "received") == _received(url, district) > 0
    page.wait_for_selector(".cockpit-map path.leaflet-interactive", state="attached")
    page.wait_for_selector("#cockpit-trend .main-svg")
    screenshot(page, "cockpit-1080p")
    page.wait_for_timeout(1500)  # the map's fly to the district's bounds
    spot = page.evaluate(_A_STREET)
    assert spot, "no street outline under the pointer"
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_function("() => /[?&]unit=[0-9]{9}(&|$)/.test(location.search)")
    street = page.evaluate("() => new URLSearchParams(location.search).get('unit')")
    assert street.startswith(district)
    # the breadcrumb: district › street
    page.wait_for_function("() => document.querySelectorAll('.cockpit-trail-link').length === 2")
    expected = _received(url, street)
    page.wait_for_function(
        "([s, n]) => (document.querySelector(s)?.textContent || '').replace(/,/g, '') === n",
        arg=[_value("received"), str(expected)])
    # the figure's cases: as many as it says
    page.click(_tile("received"))
    page.wait_for_selector("#cockpit-drill-total")
    assert int(page.inner_text("#cockpit-drill-total").replace(",", "")) == expected
    assert page.locator(".cockpit-table tbody tr").count() == min(50, expected)
    screenshot(page, "cockpit-drill")
    # a reload opens the same cockpit
    page.reload()
    assert _number(page, "received") == expected
    assert page.console_errors == []


def test_an_analyst_sees_the_cases_without_personal_data(demo_server, demo_district, page):
    url = demo_district[0]
    sign_in_demo(page, demo_server, "analyst")
    page.goto(f"{demo_server}/cockpit?period=year&date={YEAR}-01-01")
    _number(page, "received")
    page.click(_tile("received"))
    page.wait_for_selector(".cockpit-table tbody tr")
    listed = page.inner_text(".cockpit-table")
    codes = [line.split("\t")[0] for line in listed.splitlines()[1:]]
    with psycopg.connect(url) as conn:
        reporters = conn.execute(
            "SELECT reporter_name, reporter_phone FROM onemap.event WHERE code = ANY(%s)",
            (codes,)).fetchall()
    assert reporters and any(name or phone for name, phone in reporters)
    for name, phone in reporters:
        assert not name or name not in listed
        assert not phone or phone not in listed
    assert page.console_errors == []


def test_a_grid_worker_is_refused(demo_server, page):
    sign_in_demo(page, demo_server, "gridworker")
    page.goto(f"{demo_server}/cockpit")
    page.wait_for_selector(".not-permitted")
    assert page.locator(".cockpit-tile").count() == 0


def test_the_period_on_the_url_is_the_one_shown(demo_server, page):
    sign_in_demo(page, demo_server, "leader")
    page.goto(f"{demo_server}/cockpit?period=quarter&date={YEAR}-05-20")
    page.wait_for_selector("#cockpit-period-label")
    assert page.inner_text("#cockpit-period-label") == f"{YEAR}年第2季度"
    _number(page, "received")
    page.click("#cockpit-back")
    page.wait_for_function(f"() => location.search.includes('date={YEAR}-01-01')")
    page.wait_for_function("() => document.querySelector('#cockpit-period-label')"
                           f".textContent === '{YEAR}年第1季度'")


def test_a_frozen_month_is_what_the_appraisal_page_shows(demo_server, demo_district, page):
    url, env = demo_district
    last_month = (datetime.now(ZONE).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    with psycopg.connect(url) as conn:
        frozen = conn.execute("SELECT count(*) FROM onemap.appraisal_snapshot"
                              " WHERE month = to_date(%s, 'YYYY-MM')", (last_month,)).fetchone()
    if not frozen[0]:
        done = subprocess.run([onemap_command(), "appraisal", "freeze", last_month], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    again = subprocess.run([onemap_command(), "appraisal", "freeze", last_month], env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1 and "frozen already" in again.stderr
    with psycopg.connect(url) as conn:
        streets = conn.execute("SELECT count(*) FROM onemap.appraisal_snapshot WHERE month ="
                               " to_date(%s, 'YYYY-MM') AND level = 'street'",
                               (last_month,)).fetchone()[0]
    sign_in_demo(page, demo_server, "leader")
    page.goto(f"{demo_server}/appraisal")
    page.wait_for_selector(".appraisal-ranking tbody tr")
    assert "已冻结" in page.inner_text(".appraisal-scheme")
    assert page.locator(".appraisal-ranking tbody tr").count() == streets > 0
    assert page.inner_text(".appraisal-ranking tbody tr:first-child td:first-child") == "1"
    screenshot(page, "appraisal")
    page.click("text=网格员")
    page.wait_for_function("() => location.search.includes('level=staff')")
    page.wait_for_selector(".appraisal-ranking tbody tr")
    assert page.console_errors == []


def test_on_a_wall_the_panels_take_turns_and_the_poll_says_it_is_live(demo_server, browser):
    context = browser.new_context(viewport={"width": 3840, "height": 2160}, locale="zh-CN")
    wall = context.new_page()
    try:
        sign_in_demo(wall, demo_server, "leader")
        wall.goto(f"{demo_server}/cockpit?period=month&rotate=10&kpi=closure_rate")
        _number(wall, "received")
        wall.wait_for_selector("#cockpit-status.ok")
        assert "实时" in wall.inner_text("#cockpit-status")
        wall.wait_for_selector("#cockpit-supervision .cockpit-sv-table", timeout=25_000)
        screenshot(wall, "cockpit-4k")
        # a full round of the panels moves the map on to the next KPI
        wall.wait_for_selector("#cockpit-population .main-svg", timeout=25_000)
        wall.wait_for_function("() => location.search.includes('kpi=overdue')", timeout=45_000)
        assert "rotate=10" in wall.url
    finally:
        context.close()


def test_the_cockpit_prints_as_one_pdf_page_for_its_user_only(demo_server, demo_district):
    leader = signed_in_browser(demo_server, "leader", DEMO_PASSWORDS["leader"])
    status, headers, _text, _c = leader.request(
        "GET", f"/cockpit/report.pdf?period=year&date={YEAR}-01-01&kpi=closure_rate")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    pdf = leader.send("GET", f"/cockpit/report.pdf?period=year&date={YEAR}-01-01").body
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    assert re.search(rb"/FontFile|/FontDescriptor|/Type3", pdf)  # its fonts travel with it
    with psycopg.connect(demo_district[0]) as conn:
        audited = conn.execute("SELECT count(*) FROM onemap.audit_log WHERE username = 'leader'"
                               " AND object_kind = 'cockpit_report'").fetchone()[0]
    assert audited >= 2
    worker = demo_client(demo_server, "gridworker")
    assert worker.request("GET", "/cockpit/report.pdf")[0] == 403

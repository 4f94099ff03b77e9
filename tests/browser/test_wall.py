"""The wall screen (一张图) in headless Chromium on the demo district: it draws its layers,
keeps what it shows in the URL, takes new events live, shows user text as text, and says
when the server is out of reach."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from layers.maps import WALL
from tests.browser.conftest import painted_pixels, screenshot, sign_in_demo
from tests.support.users import DEMO_PASSWORDS

pytestmark = pytest.mark.browser

EVENTS = ".leaflet-layer-events-pane path.leaflet-interactive"
# cameras drawn: from the vector tiles, every tile of the view in (the wall's default, see
# BENCHMARKS.md), or GeoJSON's clusters
CAMERAS = ("[data-layer=cameras][data-tiles=loaded]" if WALL.draw == "tiles"
           else ".camera-cluster")


def _drawn(tab, selector: str) -> int:
    """How many shapes the map drew there (each layer's pane is SVG)."""
    return tab.locator(selector).count()
MARKUP = '<img src=x onerror="window.__pwned=1;alert(1)">'


def _open_wall(tab, base: str, query: str = "") -> None:
    tab.goto(f"{base}/wall{query}")
    tab.wait_for_selector(".wall-feed li")
    tab.wait_for_selector(EVENTS, state="attached")


def _overlay_checkbox(tab, title: str):
    label = tab.locator(".leaflet-control-layers-overlays label", has_text=title)
    return label.locator("input")


def _point_in_a_grid(url: str) -> tuple[float, float]:
    """A point of the last grid no other case is near: the session's demo district is shared
    with tests that report at the first grid's centre, and the tooltip shows the top marker."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 20, 2017))).geom"
            " AS p FROM onemap.grid WHERE code = (SELECT max(code) FROM onemap.grid)) points"
            " WHERE NOT EXISTS (SELECT 1 FROM onemap.event e"
            "                    WHERE ST_DWithin(e.geom::geography, p::geography, 30))"
            " LIMIT 1").fetchone()


def _post_event(tab, body: dict) -> dict:
    """POST /api/events from the page itself (same origin, the page's session)."""
    answer = tab.evaluate(
        """async (body) => {
             const r = await fetch('/api/events', {method: 'POST', body: JSON.stringify(body),
               headers: {'Content-Type': 'application/json'}});
             return {status: r.status, body: await r.json()};
           }""", body)
    assert answer["status"] == 201, answer
    return answer["body"]


def test_wall_screen_draws_its_layers_without_console_errors(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    assert page.title() == "OneMap 一张图 · 指挥大屏"
    assert _drawn(page, EVENTS) > 20
    assert _drawn(page, ".leaflet-boundary-district-pane path") >= 1
    # the heatmap is one blurred surface in its own pane, under everything else
    page.wait_for_selector(".leaflet-layer-heat-pane canvas.leaflet-heatmap-layer",
                           state="attached")
    assert painted_pixels(page, ".leaflet-layer-heat-pane canvas") > 5000
    assert page.locator(".unit-label").count() >= 5  # street names at the district's zoom
    for counter in ("reported", "working", "overdue", "alarms", "cameras"):
        assert page.inner_text(f"#wall-count-{counter}") != "–", counter
    assert page.wait_for_selector(".map-status.ok").inner_text() == "● 实时 Live"
    screenshot(page, "wall")
    assert page.console_errors == []


def test_wall_screen_on_a_4k_display(demo_server, browser):
    context = browser.new_context(viewport={"width": 3840, "height": 2160}, locale="zh-CN")
    tab = context.new_page()
    errors = []
    tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        sign_in_demo(tab, demo_server, "duty")
        _open_wall(tab, demo_server)
        # the type grows with the screen: read across a room
        size = tab.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.wall')).fontSize)")
        assert size >= 30
        # and so do the controls and the markers, not only the text
        checkbox = tab.locator(".leaflet-control-layers input").first.bounding_box()
        assert checkbox["width"] >= 0.7 * size
        marker = min(tab.eval_on_selector_all(
            EVENTS, "els => els.map(e => e.getBoundingClientRect().width)"))
        assert marker >= 18  # the smallest event: 5 px radius at 1080p, twice that here
        screenshot(tab, "wall-4k")
        assert errors == []
    finally:
        context.close()


def test_toggling_a_layer_changes_the_map_and_the_url_remembers_it(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    assert "events" in page.url
    _overlay_checkbox(page, "事件 Events").uncheck()
    page.wait_for_function("() => !location.search.includes('events')")
    assert _drawn(page, EVENTS) == 0
    _overlay_checkbox(page, "视频监控 Cameras").check()
    page.wait_for_selector(CAMERAS, state="attached")
    assert "cameras" in page.url
    # a wall display that reloads comes back the same
    page.reload()
    page.wait_for_selector(CAMERAS, state="attached")
    assert not _overlay_checkbox(page, "事件 Events").is_checked()
    assert _overlay_checkbox(page, "视频监控 Cameras").is_checked()
    assert _drawn(page, EVENTS) == 0
    _overlay_checkbox(page, "事件 Events").check()
    page.wait_for_selector(EVENTS, state="attached")
    assert _drawn(page, EVENTS) > 20
    assert page.console_errors == []


def test_a_reported_event_reaches_the_open_screen_as_text(demo_server, demo_district, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    lon, lat = _point_in_a_grid(demo_district[0])
    made = _post_event(page, {"title": MARKUP, "description": MARKUP, "category_code": "E0403",
                              "lon": lon, "lat": lat, "external_ref": "WALL-XSS-1"})
    # the promise: on every open screen within 3 s, without a reload
    item = page.locator(".wall-feed li.level-1", has_text=MARKUP)
    item.wait_for(timeout=3000)
    assert item.inner_text().count(MARKUP) == 1, item.inner_text()
    page.locator(".banner-urgent", has_text=MARKUP).wait_for(timeout=3000)
    # its card, flown to from the feed, shows the text as text too
    item.click()
    card = page.wait_for_selector("#wall-card .card-description")
    assert card.inner_text() == MARKUP
    assert page.inner_text("#wall-card .card-title") == MARKUP
    assert "周边视频" in page.inner_text("#wall-card")
    # and so does the map's tooltip: the map flew to the event, now under the map's centre
    page.wait_for_timeout(1500)
    box = page.locator("#wall-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.wait_for_selector(".map-tip .tip-title", timeout=5000)
    assert tip.inner_text() == MARKUP
    # in the screen's language: level and state in Chinese, not the database's codes
    assert page.inner_text(".map-tip .tip-meta") == "1级 · 已上报"
    assert page.evaluate("window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0
    assert dialogs == []
    with psycopg.connect(demo_district[0]) as conn:
        stored = conn.execute("SELECT title, level FROM onemap.event WHERE id = %s",
                              (made["id"],)).fetchone()
    assert stored == (MARKUP, 1)


def test_the_screen_says_when_the_server_is_out_of_reach_and_recovers(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    page.wait_for_selector(".map-status.ok")
    page.route("**/api/live*", lambda route: route.abort("connectionrefused"))
    status = page.wait_for_selector(".map-status.offline", timeout=5000)
    assert "连接中断" in status.inner_text()
    page.unroute("**/api/live*")
    page.wait_for_selector(".map-status.ok", timeout=5000)


def test_the_screen_says_when_the_database_is_down(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    page.route("**/api/live*", lambda route: route.fulfill(
        status=500, body=json.dumps({"error": "database"}), content_type="application/json"))
    status = page.wait_for_selector(".map-status.server-error", timeout=5000)
    assert "数据库" in status.inner_text()
    page.unroute("**/api/live*")
    page.wait_for_selector(".map-status.ok", timeout=5000)


def test_the_browser_shifts_onto_gcj02_as_the_importer_does(demo_server, page):
    """Over an AMap or Tencent basemap the overlays are shifted in the browser (assets/map.js);
    the formula there must be the one onemap/domain/coordinates.py uses."""
    from onemap.domain.coordinates import wgs84_to_gcj02

    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    for lon, lat in [(123.43, 41.80), (116.397, 39.909), (121.47, 31.23), (113.26, 23.13)]:
        shifted = page.evaluate("([x, y]) => onemap.map.wgs84ToGcj02(x, y)", [lon, lat])
        expected = [float(v) for v in wgs84_to_gcj02(lon, lat)]
        assert shifted == pytest.approx(expected, abs=1e-9)
    assert page.evaluate("onemap.map.wgs84ToGcj02(2.35, 48.85)") == [2.35, 48.85]  # not China


# -- what a duty officer hit on the wall (issue 10, point 9) ----------------------------------

CAMERA_NEAR_AN_EVENT = """
SELECT ST_X(c.geom), ST_Y(c.geom)
  FROM onemap.camera c
 WHERE EXISTS (SELECT 1 FROM onemap.event e WHERE onemap.event_is_active(e.state)
                  AND ST_DWithin(e.geom::geography, c.geom::geography, 120))
   AND NOT EXISTS (SELECT 1 FROM onemap.event e WHERE onemap.event_is_active(e.state)
                      AND ST_DWithin(e.geom::geography, c.geom::geography, 25))
   AND NOT EXISTS (SELECT 1 FROM onemap.camera o WHERE o.id <> c.id
                      AND ST_DWithin(o.geom::geography, c.geom::geography, 10))
   AND NOT EXISTS (SELECT 1 FROM onemap.sensor s
                    WHERE ST_DWithin(s.geom::geography, c.geom::geography, 10))
 ORDER BY c.id LIMIT 1
"""


def test_a_click_on_a_camera_under_the_events_layer_opens_its_card(demo_server, demo_district,
                                                                    page):
    """Events drawn above cameras, sensors and buildings once took every click on the map:
    a camera with open cases around it must still open its card."""
    with psycopg.connect(demo_district[0]) as conn:
        lng, lat = conn.execute(CAMERA_NEAR_AN_EVENT).fetchone()
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server, f"?layers=district,cameras,events&z=18&lat={lat}&lng={lng}")
    page.wait_for_selector(".leaflet-layer-points-pane path.leaflet-interactive",
                           state="attached")
    box = page.locator("#wall-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # the camera is there
    # the events layer lies over the camera: its pane's drawing spans the point clicked
    events_layer = page.locator(".leaflet-layer-events-pane svg").bounding_box()
    assert events_layer["x"] <= x <= events_layer["x"] + events_layer["width"]
    assert events_layer["y"] <= y <= events_layer["y"] + events_layer["height"]
    page.mouse.click(x, y)
    page.wait_for_selector("#wall-card:not([hidden]) .card-kind")
    assert page.inner_text("#wall-card .card-kind") == "视频监控 Camera"
    # the open card leaves the map's options and legend in view
    card = page.locator("#wall-card").bounding_box()
    for other in (".map-options", ".map-legend"):
        box = page.locator(other).bounding_box()
        assert card["y"] + card["height"] <= box["y"] or box["y"] + box["height"] <= card["y"]
    assert page.console_errors == []


def _banner_numbers(tab) -> tuple[list[str], int]:
    shown = tab.eval_on_selector_all(".banner-item", "els => els.map(e => e.id)")
    more = tab.locator(".banner-more")
    return shown, int(more.inner_text().split()[1]) if more.count() else 0


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_banner_titles_stay_readable(demo_server, browser, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  locale="zh-CN")
    tab = context.new_page()
    try:
        sign_in_demo(tab, demo_server, "duty")
        _open_wall(tab, demo_server)
        tab.wait_for_selector(".banner-item")
        widths = tab.eval_on_selector_all(".banner-text", """els => els.map(e => [
            e.clientWidth / parseFloat(getComputedStyle(e).fontSize), e.textContent.length])""")
        for width_in_characters, length in widths:  # whole, or at least 5 characters of it
            assert width_in_characters >= min(length, 5) - 0.5, widths
        more = tab.locator(".banner-more")
        if more.count():  # "另有 8 条 · 8 more" on one line
            lines = more.evaluate("e => e.getBoundingClientRect().height /"
                                  " parseFloat(getComputedStyle(e).fontSize)")
            assert lines < 2  # one line of type is about 1.3 of its size; two would be 2.6
        if size == (1920, 1080):
            screenshot(tab, "wall-banner")
    finally:
        context.close()


def test_acknowledge_dismisses_only_what_the_banner_shows(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    page.wait_for_selector(".banner-item")
    shown, more = _banner_numbers(page)
    assert len(shown) == 3 and more >= 3, "the demo district has more alarms than the banner"
    page.click("#wall-banner-ack")
    page.wait_for_function("(old) => !document.getElementById(old)", arg=shown[0])
    now_shown, now_more = _banner_numbers(page)
    assert not set(now_shown) & set(shown)
    assert now_more == more - 3  # the hidden ones wait their turn
    page.reload()  # acknowledged on this screen until it is cleared
    page.wait_for_selector(".banner-item")
    assert not set(_banner_numbers(page)[0]) & set(shown)


def test_signing_in_again_returns_to_the_bookmarked_view(demo_server, page):
    """A wall display whose session ended comes back to its saved view after signing in, and
    the wall has its own way to the other pages and out."""
    sign_in_demo(page, demo_server, "duty")
    bookmark = "/wall?layers=district,cameras,events&z=15&lat=41.79&lng=123.46&window=7d"
    _open_wall(page, demo_server, bookmark[len("/wall"):])
    page.click(".wall-menu summary")
    assert page.locator(".wall-menu-links a", has_text="数据总览").count() == 1
    page.click(".wall-menu .sign-out")
    page.wait_for_url("**/login**")
    page.goto(demo_server + bookmark)
    page.wait_for_url("**/login?next=**")
    page.fill("input[name=username]", "duty")
    page.fill("input[name=password]", DEMO_PASSWORDS["duty"])
    page.click("button[type=submit]")
    page.wait_for_selector(".wall-feed li")
    came_back = urlsplit(page.url)
    assert came_back.path == "/wall"
    view = {key: values[0] for key, values in parse_qs(came_back.query).items()}
    assert view["layers"] == "district,cameras,events" and view["window"] == "7d"
    assert [float(view[k]) for k in ("z", "lat", "lng")] == [15, 41.79, 123.46]
    assert _overlay_checkbox(page, "视频监控 Cameras").is_checked()
    assert page.locator("input[value='7d']").is_checked()


def test_the_legend_names_what_the_colours_mean(demo_server, page):
    sign_in_demo(page, demo_server, "duty")
    _open_wall(page, demo_server)
    legend = page.inner_text(".map-legend")
    for words in ("事件", "一级", "五级", "视频监控", "在线", "故障", "物联感知", "告警",
                  "在岗人员", "空闲"):
        assert words in legend, words


def test_a_link_to_one_case_opens_its_card(demo_server, demo_district, page):
    """/wall?event=<id> (the cockpit's drill-through links there for roles without the desk)
    opens that case's card."""
    with psycopg.connect(demo_district[0]) as conn:
        case_id, code = conn.execute("SELECT id, code FROM onemap.event"
                                     " WHERE grid_code IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    sign_in_demo(page, demo_server, "leader")
    page.goto(f"{demo_server}/wall?event={case_id}")
    page.wait_for_selector("#wall-card:not([hidden]) .card-kind")
    assert code in page.inner_text("#wall-card")
    assert page.console_errors == []

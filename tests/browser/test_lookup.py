"""The look-up (以房找人 · 以人找房, /lookup) in headless Chromium on the demo district: a person
found by the initials of their name's pinyin and picked, their building outlined and their room
marked in the building table; a building clicked on the map, a room, a masked household card,
one member unmasked with a purpose and the audit rows it leaves; a grid worker's search for a
name that lives only outside their grid; the selection surviving a reload."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.browser.conftest import screenshot, sign_in_demo

pytestmark = pytest.mark.browser

# a person with residents' initials shared by few: the first page of results holds them
_RARE_INITIALS = """
WITH rare AS (  -- initials that begin at most three people's initials (counted in one pass)
  SELECT left(m.initials, 3) AS initials
    FROM onemap.person q JOIN onemap.name_pinyin m ON m.name = q.name
   WHERE length(m.initials) >= 3
   GROUP BY 1 HAVING count(*) <= 3
)
SELECT p.id, p.name, n.initials, ph.household_id, h.building_id, h.room_number
  FROM rare r
  JOIN onemap.name_pinyin n ON n.initials = r.initials
  JOIN onemap.person p ON p.name = n.name
  JOIN onemap.person_household ph ON ph.person_id = p.id AND ph.kind = 'residence'
  JOIN onemap.household h ON h.id = ph.household_id
 WHERE n.initials ~ '^[a-z]+$'
 ORDER BY p.id LIMIT 1
"""


def _hit(person_id: int) -> str:
    """The selector of a search result (Dash names it by its id as JSON, keys sorted)."""
    return "[id='" + json.dumps({"id": person_id, "kind": "people", "type": "lookup-hit"},
                                separators=(",", ":")) + "']"


def _room(household_id: int) -> str:
    return "[id='" + json.dumps({"id": household_id, "type": "lookup-pick-room"},
                                separators=(",", ":")) + "']"


def test_a_person_found_by_pinyin_initials_opens_on_their_room(demo_server, demo_district,
                                                               page):
    with psycopg.connect(demo_district[0]) as conn:
        person, name, initials, household, building, room = conn.execute(
            _RARE_INITIALS).fetchone()
    sign_in_demo(page, demo_server, "duty")
    page.goto(f"{demo_server}/lookup")
    page.wait_for_selector(".lookup-count")
    page.fill("#lookup-q", initials.upper())
    page.press("#lookup-q", "Enter")
    page.wait_for_selector(_hit(person))
    results = page.inner_text("#lookup-results")
    assert name not in results  # masked: the surname and stars
    page.click(_hit(person))
    page.wait_for_selector(".lookup-room.chosen")
    assert page.inner_text(".lookup-room.chosen").startswith(room)
    page.wait_for_selector(".leaflet-lookup-outline-pane path", state="attached")
    page.wait_for_function(
        f"() => location.search.includes('building={building}')"
        f" && location.search.includes('room={household}')")
    page.wait_for_selector(".lookup-members")
    assert name not in page.inner_text("#lookup-household")
    assert page.console_errors == []


def _building_with_people(url: str, grid: str | None = None) -> dict:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT b.id, b.grid_code, ST_X(p), ST_Y(p), h.id, per.id, per.name"
            "  FROM onemap.building b CROSS JOIN LATERAL ST_PointOnSurface(b.geom) p"
            "  JOIN onemap.household h ON h.building_id = b.id"
            "  JOIN onemap.person_household ph ON ph.household_id = h.id"
            "   AND ph.kind = 'residence' AND ph.relation = 'householder'"
            "  JOIN onemap.person per ON per.id = ph.person_id"
            " WHERE (CAST(%s AS text) IS NULL OR b.grid_code = %s)"
            "   AND ST_Area(b.geom::geography) > 400"
            " ORDER BY b.id, h.id LIMIT 1", (grid, grid)).fetchone()
    keys = ("building", "grid", "lng", "lat", "household", "person", "name")
    return dict(zip(keys, row))


# the drawn building nearest the middle of the map (buildings are the interactive shapes of
# the overlay pane; the middle is clear of the map's panels)
_MIDDLE_BUILDING = """
() => {
  const map = document.getElementById("lookup-map").getBoundingClientRect();
  const mx = map.left + map.width / 2, my = map.top + map.height / 3;
  let best = null;
  for (const path of document.querySelectorAll(".leaflet-overlay-pane path.leaflet-interactive")) {
    const r = path.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const d = Math.hypot(x - mx, y - my);
    if (r.width > 8 && r.height > 8 && (!best || d < best.d)) best = {x: x, y: y, d: d};
  }
  return best;
}
"""


def test_map_click_to_table_to_card_to_unmask_leaves_its_audit_rows(demo_server, demo_district,
                                                                    page):
    url = demo_district[0]
    target = _building_with_people(url)
    sign_in_demo(page, demo_server, "duty")
    page.goto(f"{demo_server}/lookup?unit={target['grid']}&lat={target['lat']:.6f}"
              f"&lng={target['lng']:.6f}&z=18")
    page.wait_for_selector(".lookup-child")  # the grid's buildings listed: the page is up
    page.wait_for_selector(".leaflet-overlay-pane path.leaflet-interactive", state="attached")
    page.wait_for_timeout(1000)
    spot = page.evaluate(_MIDDLE_BUILDING)
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_selector(".lookup-matrix")
    page.wait_for_function("() => /[?&]building=[0-9]+/.test(location.search)")
    # a room where somebody lives (its title ends with the number of residents)
    page.locator(".lookup-room:not([title$=' 0 人'])").first.click()
    page.wait_for_selector(".lookup-members")
    card = page.inner_text("#lookup-household")
    assert "*" in card
    page.locator(".lookup-unmask").first.click()
    page.fill("#lookup-purpose", "入户走访核实 household visit")
    page.click("#lookup-unmask-confirm")
    page.wait_for_selector(".lookup-member.unmasked")
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT action, object_id, purpose FROM onemap.audit_log"
            " WHERE username = 'duty' AND action IN ('building_table', 'household_card',"
            " 'unmask') AND at > now() - interval '5 minutes' ORDER BY id").fetchall()
        unmasked = [row for row in rows if row[0] == "unmask"]
        assert unmasked and unmasked[-1][2] == "入户走访核实 household visit"
        name = conn.execute("SELECT name FROM onemap.person WHERE id = %s",
                            (int(unmasked[-1][1]),)).fetchone()[0]
    assert {"building_table", "household_card"} <= {row[0] for row in rows}
    assert name in page.inner_text(".lookup-member.unmasked")
    assert name not in card  # before the unmask: masked
    assert page.console_errors == []


def test_a_grid_worker_finds_nobody_outside_their_grid(demo_server, demo_district, page):
    with psycopg.connect(demo_district[0]) as conn:
        name = conn.execute(
            "SELECT p.name FROM onemap.person p WHERE length(p.name) = 3 GROUP BY p.name"
            " HAVING NOT bool_or(EXISTS (SELECT 1 FROM onemap.person_household ph"
            "   JOIN onemap.household h ON h.id = ph.household_id"
            "   JOIN onemap.building b ON b.id = h.building_id"
            "  WHERE ph.person_id = p.id AND b.grid_code ="
            "   (SELECT scope_code FROM onemap.app_user WHERE username = 'gridworker')))"
            " ORDER BY count(*) DESC, p.name LIMIT 1").fetchone()[0]
    sign_in_demo(page, demo_server, "gridworker")
    page.goto(f"{demo_server}/lookup")
    page.wait_for_selector(".lookup-count")
    page.fill("#lookup-q", name)
    page.press("#lookup-q", "Enter")
    page.wait_for_selector("#lookup-results .lookup-muted, #lookup-results .lookup-hit")
    assert page.locator(".lookup-hit-people").count() == 0
    assert "未找到" in page.inner_text("#lookup-results")
    assert page.console_errors == []


def test_the_selection_survives_a_reload_and_the_page_at_1920_by_1080(demo_server,
                                                                       demo_district, page):
    target = _building_with_people(demo_district[0])
    sign_in_demo(page, demo_server, "duty")
    page.goto(f"{demo_server}/lookup?building={target['building']}"
              f"&room={target['household']}")
    page.wait_for_selector(".lookup-room.chosen")
    page.wait_for_selector(".lookup-members")
    crumbs = page.inner_text("#lookup-trail")
    page.reload()
    page.wait_for_selector(".lookup-room.chosen")
    page.wait_for_selector(".lookup-members")
    assert page.inner_text("#lookup-trail") == crumbs
    assert f"unit={target['grid']}" in page.url
    page.wait_for_timeout(1500)  # the flight to the building
    screenshot(page, "lookup")
    assert page.console_errors == []

"""The wall's densest layers, buildings and cameras, drawn both ways the page can (issue 14): as
GeoJSON of the viewport through a Dash callback, and from the vector tiles (/tiles/) through
Leaflet.VectorGrid. Whichever the page declares (layers/maps.py, WALL.draw) is what /wall shows;
the URL's draw= picks one for a view. Either way a building shows at z17, a camera shows, a
click on either opens its card, and the page asks nothing of any other origin."""

from __future__ import annotations

import psycopg
import pytest

from layers.maps import WALL, MapSpec
from pages.viewport_map import tiled_layers
from tests.browser.conftest import sign_in_demo

pytestmark = pytest.mark.browser

# where each path draws (GeoJSON polygons have no pane of their own: Leaflet's overlay pane)
SHAPES = {
    "geojson": {"buildings": ".leaflet-overlay-pane path.leaflet-interactive",
                "cameras": ".leaflet-layer-points-pane path.leaflet-interactive"},
    "tiles": {"buildings": ".leaflet-layer-buildings-pane path.leaflet-interactive",
              "cameras": ".leaflet-layer-points-pane path.leaflet-interactive"},
}

# a building whose inside point is well inside it, so a click there is on it alone
BUILDING = """
SELECT b.id, b.name, ST_X(b.p), ST_Y(b.p)
  FROM (SELECT id, name, geom, ST_PointOnSurface(geom) AS p FROM onemap.building) b
 WHERE ST_Distance(ST_Boundary(b.geom)::geography, b.p::geography) > 4
 ORDER BY b.id LIMIT 1
"""

# a camera with no other one near it
CAMERA = """
SELECT c.id, c.name, ST_X(c.geom), ST_Y(c.geom)
  FROM onemap.camera c
 WHERE NOT EXISTS (SELECT 1 FROM onemap.camera o WHERE o.id <> c.id
                      AND ST_DWithin(o.geom::geography, c.geom::geography, 15))
 ORDER BY c.id LIMIT 1
"""


def _one(url: str, sql: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()


def _open(tab, base: str, mode: str | None, layers: str, lng: float, lat: float,
          zoom: int = 18) -> str:
    """/wall centred on lng/lat with `layers`; `mode` in the URL's draw= (None: the page's
    own). Returns the path the view is drawn by, once its layers are wholly drawn."""
    draw = f"&draw={mode}" if mode else ""
    tab.goto(f"{base}/wall?layers={layers}&z={zoom}&lat={lat}&lng={lng}{draw}")
    tab.wait_for_selector(".wall-feed li")
    drawn = mode or WALL.draw
    for layer in layers.split(","):
        if layer not in SHAPES[drawn]:
            continue
        if drawn == "tiles":  # every tile of the view in (assets/map.js sets data-tiles)
            tab.wait_for_selector(f"[data-layer={layer}][data-tiles=loaded]", state="attached")
        tab.wait_for_selector(SHAPES[drawn][layer], state="attached")
    return drawn


def _click_centre(tab) -> None:
    box = tab.locator("#wall-map").bounding_box()
    tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def _card(tab) -> tuple[str, str]:
    tab.wait_for_selector("#wall-card:not([hidden]) .card-kind")
    return tab.inner_text("#wall-card .card-kind"), tab.inner_text("#wall-card .card-title")


@pytest.mark.parametrize("mode", [None, "geojson", "tiles"])
def test_buildings_and_cameras_draw_and_open_their_cards(demo_server, demo_district, page,
                                                         mode):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in_demo(page, demo_server, "duty")
    _id, name, lng, lat = _one(demo_district[0], BUILDING)
    drawn = _open(page, demo_server, mode, "district,buildings", lng, lat)
    assert page.locator(".leaflet-layer-buildings-pane [data-tiles]").count() == (
        1 if drawn == "tiles" else 0)
    assert page.locator(SHAPES[drawn]["buildings"]).count() >= 5
    _click_centre(page)
    assert _card(page) == ("楼栋 Building", name)

    _id, name, lng, lat = _one(demo_district[0], CAMERA)
    _open(page, demo_server, mode, "district,cameras", lng, lat)
    # the same tooltip as ever over a camera, then its card
    box = page.locator("#wall-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.wait_for_selector(".map-tip .tip-title").inner_text() == "视频监控"
    _click_centre(page)
    assert _card(page) == ("视频监控 Camera", name)

    # vendored, no CDN: every request stays on this origin (blob: and data: are in the page)
    foreign = [url for url in requests if not url.startswith((demo_server, "data:", "blob:"))]
    assert foreign == []
    if drawn == "tiles":
        assert any("/tiles/cameras/" in url for url in requests)
    assert page.console_errors == []


def test_cameras_over_the_district_from_tiles(demo_server, demo_district, page):
    """At z13 every camera of the view is a dot from the tiles (GeoJSON clusters them)."""
    sign_in_demo(page, demo_server, "duty")
    _id, _name, lng, lat = _one(demo_district[0], CAMERA)
    _open(page, demo_server, "tiles", "district,cameras", lng, lat, zoom=13)
    assert page.locator(SHAPES["tiles"]["cameras"]).count() > 100
    assert page.locator(".camera-cluster").count() == 0
    assert page.console_errors == []


def test_tiled_buildings_restyle_and_come_back(demo_server, demo_district, page):
    """The colour option redraws the tiles in its colours; the layer switched off and on draws
    its tiles again; the layers control keeps the page's order though tiles register first."""
    sign_in_demo(page, demo_server, "duty")
    _id, _name, lng, lat = _one(demo_district[0], BUILDING)
    _open(page, demo_server, "tiles", "district,buildings", lng, lat)
    shapes = SHAPES["tiles"]["buildings"]
    fills = "sel => [...document.querySelectorAll(sel)].map(p => p.getAttribute('fill'))"
    assert not any(fill.startswith("hsl") for fill in page.evaluate(fills, shapes))
    page.check("input[value='residents']")  # 楼栋着色 · 人口
    page.wait_for_function(f"sel => ({fills})(sel).length > 0 &&"
                           f" ({fills})(sel).every(f => f.startsWith('hsl('))", arg=shapes)
    assert "colour=residents" in page.url

    labels = page.locator(".leaflet-control-layers-overlays label")
    titles = [text.strip() for text in labels.all_inner_texts()]
    assert titles[:4] == ["区界 District", "街道 Streets", "社区 Communities", "网格 Grids"]
    assert titles.index("楼栋 Buildings") < titles.index("视频监控 Cameras")

    checkbox = labels.filter(has_text="楼栋 Buildings").locator("input")
    checkbox.uncheck()
    page.wait_for_function("() => !location.search.includes('buildings')")
    assert page.locator(shapes).count() == 0
    checkbox.check()
    page.wait_for_selector("[data-layer=buildings][data-tiles=loaded]", state="attached")
    page.wait_for_selector(shapes, state="attached")
    assert page.console_errors == []


def test_a_page_declares_which_layers_it_may_draw_from_tiles():
    assert set(WALL.tile_layers) == {"buildings", "cameras"}
    assert tiled_layers(WALL, {"draw": "tiles"}) == {"buildings", "cameras"}
    assert tiled_layers(WALL, {"draw": "geojson"}) == set()
    assert tiled_layers(WALL, {"draw": "webgl"}) == tiled_layers(WALL, {})  # the page's own
    with pytest.raises(ValueError, match="tile layers must be the page's layers"):
        MapSpec("wall", ("events",), (), tile_layers=("buildings",))
    with pytest.raises(ValueError, match="neither a style nor a circle"):
        MapSpec("wall", ("labels",), (), tile_layers=("labels",))
    with pytest.raises(ValueError, match="draw must be one of"):
        MapSpec("wall", ("buildings",), (), tile_layers=("buildings",), draw="canvas")

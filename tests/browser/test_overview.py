"""The overview page in a real browser: titled, drawn from the database, no console errors."""

from __future__ import annotations


import pytest
from sqlalchemy import text

from geodata.building_stats import refresh_building_stats
from tests.browser.conftest import painted_pixels, screenshot, sign_in
from tests.fixtures.hierarchy import insert_building, insert_hierarchy

pytestmark = pytest.mark.browser


@pytest.fixture
def hierarchy(engine):
    """The small hierarchy, committed so the server sees it (with its counts refreshed, as an
    import does); removed afterwards."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        insert_building(conn, codes["grid"][0], "B-1")
        refresh_building_stats(conn)
    yield codes
    with engine.begin() as conn:
        for table in ("building", "grid", "community", "street", "district"):
            conn.execute(text(f"DELETE FROM {table}"))
        refresh_building_stats(conn)


def test_empty_database_says_so(live_server, page):
    sign_in(page, live_server, "duty")
    page.wait_for_selector(".count-tile")
    assert "OneMap" in page.title()
    assert "尚未载入行政区划数据" in page.inner_text(".empty-note")
    page.wait_for_timeout(500)
    assert painted_pixels(page, ".leaflet-boundary-district-pane canvas") == 0
    assert page.console_errors == []


def test_overview_draws_the_boundaries_and_counts_from_the_database(live_server, page, hierarchy):
    sign_in(page, live_server, "duty")
    page.wait_for_selector(".leaflet-boundary-district-pane canvas")
    page.wait_for_timeout(500)  # let Leaflet finish its first paint
    for level in ("district", "street", "community", "grid"):
        assert painted_pixels(page, f".leaflet-boundary-{level}-pane canvas") > 100, level
    assert page.title().startswith("OneMap 一张图")
    tiles = {
        tile.query_selector(".count-label").inner_text(): tile.query_selector(".count-value").inner_text()
        for tile in page.query_selector_all(".count-tile")
    }
    assert tiles["区"] == "1" and tiles["街道"] == "2" and tiles["社区"] == "4"
    assert tiles["网格"] == "8" and tiles["楼栋"] == "1" and tiles["人口"] == "0"
    assert page.query_selector(".empty-note") is None
    # the layers control lists every boundary layer, Chinese first
    control = page.inner_text(".leaflet-control-layers-list")
    for title in ("区界 District", "街道 Streets", "社区 Communities", "网格 Grids"):
        assert title in control
    assert page.console_errors == []
    screenshot(page, "overview")


def test_a_grid_worker_counts_only_their_grid(live_server, page, hierarchy, engine):
    sign_in(page, live_server, "gridworker")
    page.wait_for_selector(".count-tile")
    tiles = {t.query_selector(".count-label").inner_text(): t.query_selector(".count-value").inner_text()
             for t in page.query_selector_all(".count-tile")}
    assert tiles["楼栋"] == "1"  # the one building is in the first grid, theirs
    assert "网格员" in page.inner_text(".user-bar")
    with engine.begin() as conn:
        from tests.fixtures.hierarchy import insert_building
        insert_building(conn, hierarchy["grid"][3], "B-OTHER")
        refresh_building_stats(conn)
    page.reload()
    page.wait_for_selector(".count-tile")
    tiles = {t.query_selector(".count-label").inner_text(): t.query_selector(".count-value").inner_text()
             for t in page.query_selector_all(".count-tile")}
    assert tiles["楼栋"] == "1"  # another grid's building stays out of sight


def test_unknown_path_shows_the_not_found_page(live_server, page):
    sign_in(page, live_server, "duty")
    page.goto(live_server + "/no-such-page")
    page.wait_for_selector(".not-found")
    assert "页面不存在" in page.inner_text(".not-found")

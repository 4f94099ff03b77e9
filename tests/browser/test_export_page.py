"""The export page (/export) in headless Chromium on the demo district: an analyst picks key
places, narrows them to a street and a rectangle drawn on the map, asks for a GeoPackage in
GCJ-02, submits, watches the job finish and downloads a file pyogrio reads, holding the rows
the database counts in that street and rectangle; a request the format cannot take is refused
on the page; nobody else can fetch the file.

The jobs are run by the worker's own job runner (exports/jobs.py's `JobRunner.serve`, the loop
`onemap worker` runs in its thread) in this test process, on the demo database: the worker's
minute passes (escalation, recounts) would change the demo district the other browser tests
read, so they are left out. The server is one of this module's own, writing its files under a
temporary folder (ONEMAP_EXPORT_DIR) that the runner writes to as well."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pyogrio
import pytest

from exports.jobs import JobRunner
from tests.browser.conftest import screenshot, sign_in_demo
from tests.support.clients import demo_client
from tests.support.in_process import app_pointed_at
from tests.support.serving import serving

pytestmark = pytest.mark.browser

# what the page's job list shows when a job has finished (or failed)
_FINISHED = "() => document.querySelector('.export-job.done, .export-job.failed') !== null"


@pytest.fixture(scope="module")
def export_server(demo_district, tmp_path_factory):
    """(base URL, export folder, environment) of a OneMap on the demo district."""
    folder = tmp_path_factory.mktemp("exports")
    env = dict(demo_district[1], ONEMAP_EXPORT_DIR=str(folder))
    with psycopg.connect(demo_district[0], autocommit=True) as conn:
        conn.execute("DELETE FROM onemap.export_job")
    with serving(env) as base:
        yield base, folder, env


@pytest.fixture(scope="module")
def job_runner(export_server):
    """The worker's export thread, polling the queue, until the module's tests are done."""
    _base, folder, env = export_server
    with app_pointed_at(env):
        from geodata.db import get_engine

        runner = JobRunner(get_engine(), folder, timedelta(hours=24), poll_seconds=0.5)
        thread = threading.Thread(target=runner.serve, name="test-export-jobs", daemon=True)
        thread.start()
        yield runner
        runner.stop()
        thread.join(timeout=120)


def _choose(page, dropdown: str, search: str, option: str) -> None:
    page.click(dropdown)
    page.fill(".dash-dropdown-search", search)
    page.click(f".dash-dropdown-option:has-text('{option}')")


def _draw_rectangle(page) -> None:
    """A rectangle over the middle of the map, dragged as a person drags it."""
    page.click(".leaflet-draw-draw-rectangle")
    box = page.locator("#export-map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 0.3 * box["width"], y - 0.4 * box["height"])
    page.mouse.down()
    page.mouse.move(x, y, steps=5)
    page.mouse.move(x + 0.3 * box["width"], y + 0.4 * box["height"], steps=5)
    page.mouse.up()
    page.wait_for_function(
        "() => /已绘制 1 个区域/.test(document.querySelector('#export-drawn').textContent)")


def _street_with_places(url: str) -> tuple[str, str]:
    with psycopg.connect(url) as conn:
        code, name = conn.execute(
            "SELECT s.code, s.name FROM onemap.street s JOIN onemap.key_place p"
            " ON starts_with(p.grid_code, s.code) GROUP BY s.code, s.name"
            " ORDER BY count(*) DESC LIMIT 1").fetchone()
    return code, name


def test_an_analyst_exports_places_of_a_street_and_an_area_and_downloads_them(
        export_server, job_runner, demo_district, page, tmp_path):
    base, _folder, _env = export_server
    url = demo_district[0]
    street, street_name = _street_with_places(url)
    sign_in_demo(page, base, "analyst")
    page.goto(f"{base}/export")
    page.wait_for_selector("#export-job-list .export-empty, #export-job-list .export-table")
    page.check("#export-layers input[value=places]")
    _choose(page, "#export-unit", street_name, f"街道 {street}")
    page.wait_for_selector("#export-map path.leaflet-interactive, #export-map path",
                           state="attached")
    page.wait_for_timeout(800)  # the map's fly to the street
    _draw_rectangle(page)
    page.check("#export-format input[value=gpkg]")
    _choose(page, "#export-crs", "GCJ", "GCJ-02")
    page.click("#export-submit")
    page.wait_for_selector(".export-ok")
    page.wait_for_function(_FINISHED, timeout=120_000)
    assert page.locator(".export-job.failed").count() == 0, page.inner_text(".export-table")
    screenshot(page, "export")

    with psycopg.connect(url) as conn:
        job_id, polygon, unit, rows = conn.execute(
            "SELECT id, filters->>'polygon', filters->>'unit', rows FROM onemap.export_job"
            " WHERE user_id = (SELECT id FROM onemap.app_user WHERE username = 'analyst')"
            " ORDER BY id DESC LIMIT 1").fetchone()
        expected = conn.execute(
            "SELECT count(*) FROM onemap.key_place WHERE starts_with(grid_code, %s)"
            " AND ST_Intersects(geom, ST_GeomFromText(%s, 4326))", (street, polygon)).fetchone()[0]
    assert unit == street and rows == expected > 0
    row_text = page.inner_text(f".export-job:has(a[href='/export/files/{job_id}'])")
    assert f"{expected:,}" in row_text and "GCJ-02" in row_text

    with page.expect_download() as download:
        page.click(f"a[href='/export/files/{job_id}']")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "places_GCJ-02.gpkg"
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == expected and frame["网格编码"].str.startswith(street).all()
    assert "GCJ-02" in frame.crs.name
    assert page.console_errors == []

    # the file is the analyst's: another user's session gets what a job that never was gets
    leader = demo_client(base, "leader")
    status, _headers, _body, _ = leader.request("GET", f"/export/files/{job_id}")
    assert status == 404


def test_a_request_the_format_cannot_take_is_refused_on_the_page(export_server, job_runner,
                                                                 demo_district, page):
    base, _folder, _env = export_server
    sign_in_demo(page, base, "leader")
    page.goto(f"{base}/export")
    page.wait_for_selector("#export-job-list .export-empty, #export-job-list .export-table")
    # people are for roles that may look them up: a leader is not offered them
    assert page.locator("#export-layers input[value=persons]").count() == 0
    page.check("#export-layers input[value=cameras]")
    page.fill("#export-since", "2026-11-01")
    page.click("#export-submit")
    page.wait_for_selector(".export-message .export-error")
    assert "没有时间字段" in page.inner_text(".export-message")
    with psycopg.connect(demo_district[0]) as conn:
        queued = conn.execute(
            "SELECT count(*) FROM onemap.export_job WHERE user_id ="
            " (SELECT id FROM onemap.app_user WHERE username = 'leader')").fetchone()[0]
    assert queued == 0
    assert page.console_errors == []

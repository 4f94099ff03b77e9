"""The export page's form read without trusting it (callbacks/export_form.py): layers the role
may not export, units outside the scope, drawn areas, dates, conditions on fields some layers
lack or that are personal, KML in anything but WGS84."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from shapely import wkt

from callbacks.export_form import BadForm, filterable_fields, read_form
from layers.registry import SOURCES
from onemap.domain.coordinates import wgs84_to_gcj02

CHINA = ZoneInfo("Asia/Shanghai")
SQUARE = [[123.40, 41.78], [123.42, 41.78], [123.42, 41.80], [123.40, 41.80], [123.40, 41.78]]


def _drawn(ring=SQUARE) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"type": "rectangle"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}


def _read(**changes):
    form = dict(role="analyst", scope_code="210103", layers=["events"], unit="210103",
                drawn=None, since=None, until=None, conditions=[], format_value="gpkg",
                crs_value="wgs84", headers="zh", shifted=False)
    form.update(changes)
    return read_form(**form)


def test_a_whole_form_becomes_one_request_per_layer():
    asked = _read(layers=["events", "sensors"], unit="210103001", drawn=_drawn(),
                  since="2026-11-01", until="2026-11-30", conditions=[["grid_code", "2101"]],
                  crs_value="gcj02")
    assert asked.layers == ["sensors", "events"]  # the registry's order
    assert asked.filters.unit == "210103001"
    assert wkt.loads(asked.filters.polygon).bounds == (123.40, 41.78, 123.42, 41.80)
    # the last day is included: the filter's `until` is the next midnight, China's time
    assert asked.filters.since == datetime(2026, 11, 1, tzinfo=CHINA)
    assert asked.filters.until == datetime(2026, 12, 1, tzinfo=CHINA)
    assert asked.filters.equals == {"grid_code": "2101"} and asked.crs == "gcj02"
    assert _read(unit="210103").filters.unit is None  # the whole scope


@pytest.mark.parametrize(("changes", "says"), [
    ({"layers": []}, "at least one layer"),
    ({"role": "leader", "layers": ["persons"]}, "cannot be exported by your role"),
    ({"layers": ["nowhere"]}, "cannot be exported"),
    ({"unit": "210104001"}, "outside your scope"),
    ({"unit": "2101030' OR 1=1"}, "outside your scope"),
    ({"since": "01/11/2026"}, "YYYY-MM-DD"),
    ({"since": "2026-11-30", "until": "2026-11-01"}, "before the first"),
    ({"layers": ["events", "cameras"], "since": "2026-11-01"}, "no time to filter on"),
    ({"conditions": [["reporter_phone", "13800000000"]]}, "personal"),
    ({"layers": ["events", "cameras"], "conditions": [["state", "closed"]]}, "not every"),
    ({"layers": ["heat_grid"], "conditions": [["cell", "x"]]}, "not every"),
    ({"conditions": [["state"]]}, "cannot be read"),
    ({"format_value": "docx"}, "file format"),
    ({"format_value": "kml", "crs_value": "bd09"}, "KML is WGS84"),
    ({"format_value": "kml", "crs_value": "gk"}, "KML is WGS84"),
    ({"crs_value": "EPSG:3857"}, "unknown coordinate system"),
    ({"headers": "fr"}, "column names"),
    ({"drawn": {"features": [{"geometry": {"type": "Polygon"}}]}}, "cannot be read"),
])
def test_what_cannot_be_exported_is_said(changes, says):
    with pytest.raises(BadForm, match=says):
        _read(**changes)


def test_an_area_drawn_on_a_gcj02_basemap_is_moved_back_to_wgs84():
    lon, lat = wgs84_to_gcj02([123.40, 123.42], [41.78, 41.80])
    shifted = [[lon[0], lat[0]], [lon[1], lat[0]], [lon[1], lat[1]], [lon[0], lat[1]],
               [lon[0], lat[0]]]
    area = wkt.loads(_read(drawn=_drawn(shifted), shifted=True).filters.polygon)
    west, south, east, north = area.bounds
    assert abs(west - 123.40) < 1e-5 and abs(north - 41.80) < 1e-5


def test_only_fields_every_chosen_layer_has_and_none_personal_are_offered():
    events = {name for name, _ in filterable_fields([SOURCES["events"]])}
    assert "state" in events and "reporter_name" not in events
    both = {name for name, _ in filterable_fields([SOURCES["events"], SOURCES["places"]])}
    assert both == {"id", "code", "address", "grid_code"}
    assert filterable_fields([SOURCES["heat_grid"]]) == []


def test_a_job_s_filters_are_said_in_a_line():
    from callbacks.export_view import filters_text

    stored = {"unit": "210103001", "polygon": "POLYGON ((1 1, 2 1, 2 2, 1 1))",
              "since": "2026-11-01T00:00:00+08:00", "until": "2026-12-01T00:00:00+08:00",
              "equals": {"state": "closed"}}
    assert filters_text(stored, {"210103001": "大西街道"}) == (
        "大西街道 · 绘制区域 drawn area · 2026-11-01 至 2026-11-30 · state=closed")
    assert filters_text({}, {}) == "全辖区 whole scope"

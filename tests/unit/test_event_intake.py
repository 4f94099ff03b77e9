"""Event reports are checked field by field, and shifted coordinates come back to WGS84."""

from __future__ import annotations

import pytest

from onemap.domain.coordinates import wgs84_to_gcj02
from onemap.domain.intake import InvalidReport, parse_report

GOOD = {"title": "暴露垃圾", "category_code": "E0102", "lon": 123.45, "lat": 41.79}


def test_a_good_report_is_accepted_with_defaults():
    report = parse_report(dict(GOOD, description="  路边垃圾堆积  "), default_channel="inspector")
    assert report.title == "暴露垃圾" and report.description == "路边垃圾堆积"
    assert report.channel == "inspector" and report.level is None
    assert (report.lon, report.lat) == (123.45, 41.79)


def test_every_bad_field_is_named_at_once():
    with pytest.raises(InvalidReport) as caught:
        parse_report({"title": " ", "level": 9, "channel": "fax", "lon": "x", "crs": "mars"},
                     default_channel="inspector")
    assert set(caught.value.errors) == {"title", "category_code", "level", "channel", "lon/lat",
                                        "crs"}


def test_out_of_range_and_overlong_values_are_refused():
    with pytest.raises(InvalidReport) as caught:
        parse_report(dict(GOOD, lon=200, title="x" * 201), default_channel="inspector")
    assert set(caught.value.errors) == {"lon/lat", "title"}
    with pytest.raises(InvalidReport):
        parse_report(["not", "an", "object"], default_channel="inspector")


def test_gcj02_coordinates_are_shifted_back():
    shifted = wgs84_to_gcj02(123.45, 41.79)
    report = parse_report(dict(GOOD, lon=float(shifted[0]), lat=float(shifted[1]), crs="gcj02"),
                          default_channel="wechat")
    assert abs(report.lon - 123.45) < 1e-7 and abs(report.lat - 41.79) < 1e-7


@pytest.mark.parametrize("level", [True, False, 1.0, 2.5, "1", [1], {"1": 1}])
def test_a_level_is_a_whole_number_never_a_boolean(level):
    """true == 1 in Python: a JSON boolean used to pass as level 1 and fail in the database."""
    with pytest.raises(InvalidReport) as caught:
        parse_report(dict(GOOD, level=level), default_channel="inspector")
    assert set(caught.value.errors) == {"level"}
    assert parse_report(dict(GOOD, level=2), default_channel="inspector").level == 2


@pytest.mark.parametrize(("field", "value"), [
    ("lon", True), ("lat", False), ("channel", {"a": 1}), ("channel", ["inspector"]),
    ("crs", True), ("crs", ["wgs84"]),
])
def test_other_fields_refuse_values_of_the_wrong_type(field, value):
    with pytest.raises(InvalidReport) as caught:
        parse_report(dict(GOOD, **{field: value}), default_channel="inspector")
    assert set(caught.value.errors) == {"lon/lat" if field in ("lon", "lat") else field}


def test_photos_are_http_links_and_no_more_than_nine():
    base = {"title": "井盖缺失", "category_code": "C0101", "lon": 123.4, "lat": 41.8}
    ok = parse_report({**base, "photos": ["https://img.example.cn/a.jpg"]},
                      default_channel="wechat")
    assert ok.photos == ("https://img.example.cn/a.jpg",)
    for bad in (["javascript:alert(1)"], ["ftp://x/y"], "https://a/b", [1],
                ["https://a/b"] * 10, ["https://" + "x" * 500]):
        with pytest.raises(InvalidReport) as refused:
            parse_report({**base, "photos": bad}, default_channel="wechat")
        assert set(refused.value.errors) == {"photos"}


def test_the_idempotency_key_is_the_reference_a_retry_is_known_by():
    base = {"title": "井盖缺失", "category_code": "C0101", "lon": 123.4, "lat": 41.8}
    keyed = parse_report(base, default_channel="wechat", idempotency_key="order-7f3a")
    assert keyed.external_ref == "order-7f3a"
    same = parse_report({**base, "external_ref": "order-7f3a"}, default_channel="wechat",
                        idempotency_key="order-7f3a")
    assert same.external_ref == "order-7f3a"
    for key, body in (("order-1", {"external_ref": "order-2"}), ("x" * 65, {}), ("键", {})):
        with pytest.raises(InvalidReport) as refused:
            parse_report({**base, **body}, default_channel="wechat", idempotency_key=key)
        assert set(refused.value.errors) == {"Idempotency-Key"}

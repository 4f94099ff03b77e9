"""The exports' coordinate systems and Shapefile names (exports/crs.py, exports/formats.py)."""

from __future__ import annotations

import pytest

from exports.crs import UnknownCrs, gauss_kruger_code, output_crs
from exports.formats import shapefile_names


@pytest.mark.parametrize(("longitude", "code"), [
    (75.0, 4534), (76.4, 4534), (76.6, 4535), (116.4, 4548), (121.47, 4549),
    (123.43, 4550), (135.0, 4554)])
def test_the_gauss_kruger_zone_is_the_nearest_central_meridian(longitude, code):
    assert gauss_kruger_code(longitude) == code
    assert output_crs("gk", longitude).epsg == code


def test_no_zone_outside_china():
    with pytest.raises(UnknownCrs):
        gauss_kruger_code(10.0)


def test_named_systems():
    assert output_crs("WGS84").epsg == 4326 and output_crs("cgcs2000").epsg == 4490
    assert output_crs("EPSG:4527").crs.name.endswith("zone 39")
    gcj = output_crs("gcj02")
    assert gcj.epsg is None and gcj.tag == "GCJ-02" and gcj.crs.name == "GCJ-02"
    with pytest.raises(UnknownCrs, match="wgs84, cgcs2000, gcj02"):
        output_crs("EPSG:3857")


def test_shapefile_names_fit_ten_bytes_and_never_clash():
    names = shapefile_names(["reported_at", "reporter_name", "reporter_phone", "id"])
    assert names["id"] == "id"
    assert all(len(v) <= 10 for v in names.values())
    assert len(set(names.values())) == 4
    assert names["reporter_name"] == "reporter_n" and names["reporter_phone"] == "reporter_p"
    clash = shapefile_names(["registered_at", "registered_by"])
    assert clash == {"registered_at": "registered", "registered_by": "registere1"}

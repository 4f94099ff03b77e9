"""`onemap export`: the page's code path from a terminal, with its errors said plainly."""

from __future__ import annotations

import subprocess

import pyogrio
import pytest

from tests.conftest import onemap_command


def _export(demo_district, *args):
    return subprocess.run([onemap_command(), "export", *args], env=demo_district[1],
                          capture_output=True, text=True, timeout=300)


def test_the_cli_writes_the_layer_as_the_user_sees_it(demo_district, tmp_path):
    done = _export(demo_district, "places", "--format", "gpkg", "--as", "analyst",
                   "--crs", "gcj02", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    written = tmp_path / "places_GCJ-02.gpkg"
    assert "rows of places -> " in done.stdout and "GCJ-02" in done.stdout
    info = pyogrio.read_info(written)
    assert info["features"] > 0 and "联系人" in info["fields"]
    assert "GCJ-02" in info["crs"] or "GCJ-02" in pyogrio.read_dataframe(written).crs.name


@pytest.mark.parametrize(("args", "says"), [
    (["nowhere", "-f", "csv", "--as", "analyst"], "unknown layer 'nowhere'"),
    (["events", "-f", "docx", "--as", "analyst"], "unknown format 'docx'"),
    (["events", "-f", "csv", "--as", "analyst", "--crs", "EPSG:3857"], "unknown coordinate"),
    (["events", "-f", "kml", "--as", "analyst", "--crs", "bd09"], "KML is WGS84"),
    (["events", "-f", "csv", "--as", "analyst", "--bbox", "1,2,3"], "--bbox '1,2,3'"),
    (["events", "-f", "csv", "--as", "analyst", "--since", "yesterday"], "--since"),
    (["events", "-f", "csv", "--as", "analyst", "--where", "state"], "FIELD=VALUE"),
    (["events", "-f", "csv", "--as", "nobody-here"], "no active user"),
    (["events", "-f", "csv", "--as", "gridworker"], "may not export events"),
])
def test_bad_requests_are_refused_with_what_and_where(demo_district, tmp_path, args, says):
    done = _export(demo_district, *args, "--out", str(tmp_path))
    assert done.returncode == 1 and says in done.stderr, done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []

"""Basemap choices: what tiles each asks for, which hosts the page must allow, bad names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from layers.basemaps import BASEMAPS
from onemap.settings import Settings


def test_none_is_the_offline_default():
    assert Settings().basemap == "none"
    assert BASEMAPS["none"].tile_urls() == [] and BASEMAPS["none"].origins() == []


def test_xyz_uses_the_configured_url_and_allows_its_host():
    xyz = BASEMAPS["xyz"]
    assert xyz.tile_urls("http://tiles.intranet:8080/{z}/{x}/{y}.png") == [
        "http://tiles.intranet:8080/{z}/{x}/{y}.png"]
    assert xyz.origins("http://tiles.intranet:8080/{z}/{x}/{y}.png") == [
        "http://tiles.intranet:8080"]
    assert xyz.tile_urls(None) == []


def test_tianditu_draws_streets_then_labels_with_the_key():
    urls = BASEMAPS["tianditu"].tile_urls(key="abc123")
    assert len(urls) == 2 and "LAYER=vec" in urls[0] and "LAYER=cva" in urls[1]
    assert all(url.endswith("tk=abc123") for url in urls)
    assert BASEMAPS["tianditu"].origins(key="k") == ["https://t*.tianditu.gov.cn"] * 2


def test_gcj02_providers_are_marked_so_overlays_get_shifted():
    assert {name for name, b in BASEMAPS.items() if b.datum == "gcj02"} == {"amap", "tencent"}
    assert "{-y}" in BASEMAPS["tencent"].urls[0]  # Tencent counts rows from the south (TMS)


def test_unknown_basemap_is_refused_naming_the_choices(monkeypatch):
    monkeypatch.setenv("ONEMAP_BASEMAP", "google")
    with pytest.raises(ValidationError, match="none, xyz, tianditu, amap, tencent"):
        Settings()
    monkeypatch.setenv("ONEMAP_BASEMAP", " AMap ")
    assert Settings().basemap == "amap"

"""The generator is deterministic, and fills in below boundaries that are already loaded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import text

from etl.demo.boundary import read_boundary
from etl.demo.district import build_district
from etl.demo.load import existing_boundaries, load
from etl.demo.scales import DEMO

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
SMALL = replace(DEMO, name="small", streets=2, communities=6, grids=18, buildings=400,
                people=12_000, cameras=80, sensors=150, key_places=20, enterprises=300,
                events=2_000)


@pytest.fixture(scope="module")
def outline():
    return read_boundary().geometry


def _fingerprint(district) -> dict[str, int]:
    return {name: int(pd.util.hash_pandas_object(
        pd.DataFrame(frame).drop(columns=["geometry", "grid_codes"], errors="ignore").astype(str),
        index=False).sum()) for name, frame in district.tables.items()}


def test_the_same_seed_builds_the_same_district(outline):
    a = build_district(outline, code="210103", name="沈河区", scale=SMALL, seed=11, now=NOW)
    b = build_district(outline, code="210103", name="沈河区", scale=SMALL, seed=11, now=NOW)
    c = build_district(outline, code="210103", name="沈河区", scale=SMALL, seed=12, now=NOW)
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a)["person"] != _fingerprint(c)["person"]
    assert list(a.tables["grid"].geometry.to_wkb()) == list(b.tables["grid"].geometry.to_wkb())


def test_generation_fills_in_below_loaded_street_boundaries(engine, outline):
    """Real street boundaries stay as they are; communities, grids and the rest go inside."""
    west, south, east, north = outline.bounds
    middle = (west + east) / 2
    halves = [outline.intersection(box(west - 1, south - 1, middle, north + 1)),
              outline.intersection(box(middle, south - 1, east + 1, north + 1))]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO district (code, name, geom) VALUES"
                          " ('210103', '沈河区', ST_Multi(ST_GeomFromText(:g, 4326)))"),
                     {"g": outline.wkt})
        for k, half in enumerate(halves, start=1):
            conn.execute(text(
                "INSERT INTO street (code, district_code, name, geom) VALUES"
                " (:c, '210103', :n, ST_Multi(ST_GeomFromText(:g, 4326)))"),
                {"c": f"210103{k:03d}", "n": f"真实街道{k}", "g": half.wkt})
    try:
        with engine.connect() as conn:
            given = existing_boundaries(conn)
        assert set(given) == {"district", "street"}
        district = build_district(outline, code="210103", name="沈河区", scale=SMALL, seed=3,
                                  now=NOW, given=given)
        assert "street" not in district.tables and "district" not in district.tables
        with engine.connect() as conn:
            transaction = conn.begin()  # rolled back: leave the session database as it was
            load(conn, district)
            streets = conn.execute(text("SELECT code, name FROM street ORDER BY code")).all()
            assert streets == [("210103001", "真实街道1"), ("210103002", "真实街道2")]
            outside = conn.execute(text("""
                SELECT count(*) FROM community c JOIN street s ON s.code = c.street_code
                WHERE ST_Area(ST_Difference(c.geom, s.geom)::geography) > 1""")).scalar()
            assert outside == 0
            assert conn.execute(text("SELECT count(*) FROM community")).scalar() == 6
            assert conn.execute(text("SELECT count(*) FROM grid")).scalar() == 18
            transaction.rollback()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM street; DELETE FROM district"))

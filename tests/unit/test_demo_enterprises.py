"""Tests for the demo district's enterprise generator (etl.demo.enterprises); no database."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from onemap.domain import uscc
from etl.demo import names
from etl.demo.enterprises import COOP_INDUSTRY, INDUSTRIES, generate_enterprises
from onemap.domain.vocab import ENTERPRISE_STATUSES

DISTRICT = "210103"
N = 4_000
HAN = re.compile(r"^[\u4e00-\u9fffA-Z()（）]+$")


def make_buildings(n: int, seed: int = 4) -> pd.DataFrame:
    """A synthetic buildings table: mostly residential, as in a real district."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "building_id": np.arange(1, n + 1, dtype=np.int64) * 7,
        "grid_code": [f"{DISTRICT}001001{g:03d}" for g in rng.integers(1, 41, n)],
        "use": rng.choice(["residential", "commercial", "mixed", "public", "industrial"], size=n,
                          p=[0.70, 0.10, 0.12, 0.05, 0.03]),
        "lon": 123.42 + rng.random(n) * 0.06,
        "lat": 41.78 + rng.random(n) * 0.05,
        "address": [f"青年大街 {a} 号 {b} 栋" for a, b in
                    zip(rng.integers(1, 400, n), rng.integers(1, 12, n))],
    })


@pytest.fixture(scope="module")
def buildings() -> pd.DataFrame:
    return make_buildings(3_000)


@pytest.fixture(scope="module")
def enterprises(buildings) -> pd.DataFrame:
    return generate_enterprises(buildings, rng=np.random.default_rng(77), n=N,
                                district_code=DISTRICT)


def test_columns_and_size(enterprises):
    assert len(enterprises) == N
    assert list(enterprises.columns) == [
        "credit_code", "name", "legal_representative", "industry", "employees", "status",
        "address", "grid_code", "building_id", "lon", "lat"]


def test_credit_codes_valid_and_unique(enterprises):
    codes = enterprises["credit_code"]
    assert codes.is_unique
    assert all(uscc.validate(c) is None for c in codes)
    assert all(uscc.checksum_char(c[:17]) == c[17] for c in codes)
    assert (codes.str[0] == "9").all()  # registered by market regulation
    assert (codes.str[2:8] == DISTRICT).all()
    # the GB 11714 check character of the organisation code holds too
    assert all(uscc.validate(c, strict_org_code=True) is None for c in codes)


def test_org_type_shares(enterprises):
    org = enterprises["credit_code"].str[1].value_counts(normalize=True)
    assert set(org.index) <= {"1", "2", "3"}
    assert 0.3 <= org["1"] <= 0.65
    assert 0.35 <= org["2"] <= 0.7
    assert org.get("3", 0) < 0.02
    coop = enterprises["credit_code"].str[1] == "3"
    assert (enterprises.loc[coop, "industry"] == COOP_INDUSTRY).all()
    assert enterprises.loc[coop, "name"].str.endswith("合作社").all()


def test_names_unique_and_chinese(enterprises):
    assert enterprises["name"].is_unique
    assert enterprises["name"].str.match(HAN).all()
    companies = enterprises["credit_code"].str[1] == "1"
    assert enterprises.loc[companies, "name"].str.contains("公司").all()
    reps = enterprises["legal_representative"]
    assert reps.str.match(r"^[\u4e00-\u9fff]{2,4}$").all()


def test_industries_weighted(enterprises):
    share = enterprises["industry"].value_counts(normalize=True)
    assert set(share.index) <= {i for i, _, _ in INDUSTRIES} | {COOP_INDUSTRY}
    assert share.index[0] == "批发和零售业"
    assert share["批发和零售业"] > 0.25
    assert share["金融业"] < 0.05


def test_status_and_employees(enterprises):
    assert set(enterprises["status"]) <= set(ENTERPRISE_STATUSES)
    assert (enterprises["status"] == "active").mean() > 0.8
    assert {"suspended", "deregistered"} <= set(enterprises["status"])
    employees = enterprises["employees"]
    assert (employees >= 0).all()
    live = employees[enterprises["status"] != "deregistered"]
    assert live.median() <= 10 and live.max() >= 100  # heavy-tailed
    assert (employees[enterprises["status"] == "deregistered"] == 0).all()


def test_placed_at_their_buildings(buildings, enterprises):
    b = buildings.set_index("building_id").loc[enterprises["building_id"]]
    assert (b["grid_code"].to_numpy() == enterprises["grid_code"].to_numpy()).all()
    dy = (enterprises["lat"].to_numpy() - b["lat"].to_numpy()) * 111_320
    dx = ((enterprises["lon"].to_numpy() - b["lon"].to_numpy()) * 111_320
          * np.cos(np.radians(b["lat"].to_numpy())))
    assert (np.hypot(dx, dy) < 10).all()
    assert all(a.startswith(base) and len(a) > len(base)
               for a, base in zip(enterprises["address"], b["address"]))


def test_sit_mostly_in_commercial_and_mixed(buildings, enterprises):
    use = buildings.set_index("building_id").loc[enterprises["building_id"], "use"]
    share = use.value_counts(normalize=True)
    assert share.get("commercial", 0) + share.get("mixed", 0) > 0.6
    assert 0.05 < share.get("residential", 0) < 0.35
    assert share.get("public", 0) < 0.05


def test_deterministic(buildings, enterprises):
    again = generate_enterprises(buildings, rng=np.random.default_rng(77), n=N,
                                 district_code=DISTRICT)
    pd.testing.assert_frame_equal(enterprises, again)
    other = generate_enterprises(buildings, rng=np.random.default_rng(78), n=N,
                                 district_code=DISTRICT)
    assert not other["credit_code"].equals(enterprises["credit_code"])
    spawned = generate_enterprises(buildings, rng=np.random.default_rng(77), n=N,
                                   district_code=DISTRICT, people_names_rng_ok=False)
    pd.testing.assert_frame_equal(
        spawned, generate_enterprises(buildings, rng=np.random.default_rng(77), n=N,
                                      district_code=DISTRICT, people_names_rng_ok=False))


def test_company_names_break_ties():
    # one industry and one kind only, so drafts collide often
    rng = np.random.default_rng(3)
    n = 30_000
    out = names.company_names(rng, n, np.full(n, "金融业"), org_types=np.full(n, "1"))
    assert pd.Series(out).is_unique
    assert all(x.endswith("公司") for x in out)


def test_rejects_bad_district(buildings):
    with pytest.raises(ValueError):
        generate_enterprises(buildings, rng=np.random.default_rng(1), n=10, district_code="2101")

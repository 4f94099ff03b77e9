"""Tests for the demo district's people generator (etl.demo.people, etl.demo.names); no database."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from onemap.domain import idcard
from etl.demo import names
from etl.demo.people import KEY_HEALTH_TAGS, citizen_ids, generate_people, unique_sequences
from onemap.domain.vocab import PERSON_TAGS, RELATIONS

TODAY = date(2025, 6, 1)
DISTRICT = "210103"
TARGET = 45_000
SENSITIVE = {code for code, (*_, sensitive) in PERSON_TAGS.items() if sensitive}
MOBILE_RE = re.compile(r"^1(3\d|5[0-35-9]|66|7[35-8]|8\d|9[189])\d{8}$")
HAN = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


def make_households(n: int, seed: int = 11, grids: int = 40) -> pd.DataFrame:
    """A synthetic households table with Shenyang-like occupancy shares."""
    rng = np.random.default_rng(seed)
    grid_codes = np.array([f"{DISTRICT}001{g // 10 + 1:03d}{g % 10 + 1:03d}" for g in range(grids)])
    return pd.DataFrame({
        # ids that are neither 0-based nor contiguous, as a database would hand them out
        "household_id": np.arange(1, n + 1, dtype=np.int64) * 3 + 100,
        "building_id": rng.integers(1, n // 60 + 2, n),
        "grid_code": grid_codes[rng.integers(0, grids, n)],
        "occupancy": rng.choice(["self_occupied", "rented", "vacant", "commercial"], size=n,
                                p=[0.75, 0.17, 0.06, 0.02]),
        "area_m2": np.round(rng.uniform(35, 160, n), 2),
    })


def run(households: pd.DataFrame, seed: int, target: int = TARGET):
    """generate_people with the test's defaults."""
    return generate_people(households, rng=np.random.default_rng(seed), target_people=target,
                           district_code=DISTRICT, today=TODAY)


@pytest.fixture(scope="module")
def households() -> pd.DataFrame:
    return make_households(20_000)


@pytest.fixture(scope="module")
def tables(households):
    return run(households, seed=2024)


@pytest.fixture(scope="module")
def persons(tables) -> pd.DataFrame:
    p = tables.persons.copy()
    p["age"] = (pd.Timestamp(TODAY) - p["birth_date"]).dt.days / 365.2425
    return p


@pytest.fixture(scope="module")
def links(tables):
    ph = tables.person_household
    return (ph[ph.kind == "residence"].set_index("person_id"),
            ph[ph.kind == "registered"].set_index("person_id"))


# ---------------------------------------------------------------- size and identity


def test_total_close_to_target(persons):
    assert abs(len(persons) - TARGET) <= 0.03 * TARGET


def test_ids_are_one_to_n(persons):
    assert persons["id"].tolist() == list(range(1, len(persons) + 1))
    assert persons["id"].dtype == np.int64


def test_every_id_validates_and_matches_the_person(persons):
    citizens = persons[persons.population_type != "foreign"]
    assert citizens["id_number"].notna().all()
    for id_number, born, gender in zip(citizens.id_number, citizens.birth_date, citizens.gender):
        assert idcard.validate(id_number, today=TODAY) is None, id_number
        decoded = idcard.parse(id_number, today=TODAY)
        assert decoded.birth_date == born.date()
        assert decoded.sex == gender


def test_ids_unique(persons):
    ids = persons["id_number"].dropna()
    assert ids.is_unique


def test_id_area_codes(persons):
    area = persons["id_number"].dropna().str[:6]
    registered = persons.loc[persons.population_type == "registered", "id_number"].str[:6]
    assert (registered == DISTRICT).mean() > 0.5
    floating = persons.loc[persons.population_type == "floating", "id_number"].str[:6]
    assert not floating.isin(names.SHENYANG_DISTRICTS.keys()).any()
    assert area.str.match(r"^[1-8]\d{5}$").all()


def test_vectorised_ids_equal_idcard_make():
    rng = np.random.default_rng(5)
    n = 3_000
    areas = rng.choice(["210103", "210114", "220381", "110105"], n)
    births = np.datetime64("1900-01-01") + rng.integers(0, 45_000, n).astype("timedelta64[D]")
    genders = rng.choice(["M", "F"], n)
    seq = rng.integers(0, 500, n)
    ours = citizen_ids(areas, births, genders, seq)
    for got, a, b, g, s in zip(ours, areas, births, genders, seq):
        assert got == idcard.make(str(a), b.astype(object), str(g), int(s))


def test_sequences_break_collisions():
    # 600 people sharing area and birth date: 300 per sex fit in 500 sequences each
    n = 600
    areas = np.full(n, DISTRICT)
    births = np.full(n, np.datetime64("1980-05-05"))
    genders = np.array(["M", "F"] * (n // 2))
    seq = unique_sequences(np.random.default_rng(1), areas, births, genders)
    assert pd.Series(citizen_ids(areas, births, genders, seq)).is_unique


def test_foreigners(persons):
    foreign = persons[persons.population_type == "foreign"]
    assert 0.001 <= len(foreign) / len(persons) <= 0.006
    assert foreign["id_number"].isna().all()
    assert foreign["passport_number"].str.match(r"^[A-Z]\d{8}$").all()
    assert foreign["passport_number"].is_unique
    assert foreign["name"].str.match(r"^[A-Z]+ [A-Z]+$").all()
    assert persons.loc[persons.population_type != "foreign", "passport_number"].isna().all()


def test_names_are_chinese(persons):
    chinese = persons.loc[persons.population_type != "foreign", "name"]
    assert chinese.str.match(HAN).all()


def test_phones_unique_and_well_formed(persons):
    phones = persons["phone"].dropna()
    assert phones.is_unique
    assert phones.str.match(MOBILE_RE).all()
    assert (persons["phone"].notna() == (persons["age"] >= 12)).all()


def test_ethnicity(persons):
    share = persons["ethnicity"].value_counts(normalize=True)
    assert 0.85 <= share["汉族"] <= 0.96
    assert 0.03 <= share["满族"] <= 0.09
    assert {"朝鲜族", "回族", "蒙古族"} <= set(share.index)


# ---------------------------------------------------------------- demography


def test_age_structure(persons):
    assert 0.20 <= (persons.age >= 60).mean() <= 0.30
    assert 0.08 <= (persons.age < 15).mean() <= 0.14
    assert 0.47 <= (persons.gender == "M").mean() <= 0.53
    assert (persons.age >= 0).all() and (persons.age <= 101).all()


def test_spouses_and_children_ages(persons, links):
    residence, _ = links
    frame = residence.join(persons.set_index("id")["age"])
    head_age = frame[frame.relation == "householder"].set_index("household_id")["age"]
    frame["head_age"] = frame["household_id"].map(head_age)
    spouses = frame[frame.relation == "spouse"]
    assert ((spouses.head_age - spouses.age).abs() <= 10).all()
    gap = (frame.head_age - frame.age)[frame.relation == "child"]
    assert gap.between(18, 45).all()
    assert gap.median() > 24


# ---------------------------------------------------------------- households and links


def test_exactly_one_householder_per_occupied_household(households, links):
    residence, registered = links
    occupied = households.loc[households.occupancy.isin(["self_occupied", "rented"]),
                              "household_id"]
    heads = residence[residence.relation == "householder"]["household_id"].value_counts()
    assert heads.reindex(occupied, fill_value=0).eq(1).all()
    # the registration side never has two householders either
    assert registered[registered.relation == "householder"]["household_id"].is_unique


def test_no_one_in_vacant_or_commercial_households(households, tables):
    empty = households.loc[households.occupancy.isin(["vacant", "commercial"]), "household_id"]
    assert not tables.person_household["household_id"].isin(empty).any()


def test_link_structure(persons, tables, links):
    residence, registered = links
    ph = tables.person_household
    assert set(ph.kind) == {"registered", "residence"}
    assert set(ph.relation) <= set(RELATIONS)
    assert not ph.duplicated(["person_id", "kind"]).any()
    assert residence.index.sort_values().tolist() == persons["id"].tolist()
    by_type = persons.set_index("id")["population_type"]
    assert set(registered.index) == set(by_type[by_type == "registered"].index)
    floating = persons[persons.population_type == "floating"]
    assert floating["registered_address"].str.len().gt(6).all()
    assert persons.loc[persons.population_type != "floating", "registered_address"].isna().all()


def test_share_living_apart_from_registration(persons, links):
    residence, registered = links
    citizens = persons.loc[persons.population_type != "foreign", "id"]
    same = (registered["household_id"].reindex(citizens).to_numpy()
            == residence["household_id"].reindex(citizens).to_numpy())
    assert 0.13 <= 1 - same.mean() <= 0.20
    # both kinds occur: registered elsewhere in the district, and outside it
    apart_inside = registered["household_id"].reindex(citizens).notna() & ~same
    assert apart_inside.mean() > 0.03
    assert (persons.population_type == "floating").mean() > 0.03


def test_dates_are_sane(persons, tables):
    born = persons.set_index("id")["birth_date"]
    for frame in (tables.person_household, tables.person_tag, tables.person_sensitive_tag):
        since = frame["since"]
        assert (since <= pd.Timestamp(TODAY)).all()
        assert (since >= frame["person_id"].map(born)).all()


# ---------------------------------------------------------------- tags


def test_sensitive_tags_only_in_sensitive_table(tables):
    assert set(tables.person_sensitive_tag["tag"]) == SENSITIVE
    assert not set(tables.person_tag["tag"]) & SENSITIVE
    assert set(tables.person_tag["tag"]) <= set(PERSON_TAGS) - SENSITIVE
    for frame in (tables.person_tag, tables.person_sensitive_tag):
        assert not frame.duplicated(["person_id", "tag"]).any()


def test_key_health_share(persons, tables):
    tags = tables.person_tag
    share = tags.loc[tags.tag.isin(KEY_HEALTH_TAGS), "person_id"].nunique() / len(persons)
    assert 0.08 <= share <= 0.14


def test_tag_rates(persons, tables, links):
    n = len(persons)
    counts = tables.person_tag["tag"].value_counts()
    assert 0.05 <= counts["disabled"] / n <= 0.07
    assert 0.015 <= counts["low_income"] / n <= 0.025
    assert 0 < counts["left_behind_child"] / n < 0.01
    men = ((persons.gender == "M") & (persons.age >= 18)).sum()
    assert 0.01 <= counts["veteran"] / men <= 0.02
    sensitive = tables.person_sensitive_tag["tag"].value_counts()
    assert 0.002 <= sensitive["severe_mental_disorder"] / n <= 0.006
    assert 0 < sensitive["community_correction"] / n <= 0.001


def test_elderly_alone_means_60_plus_living_alone(persons, tables, links):
    residence, _ = links
    size = residence["household_id"].map(residence["household_id"].value_counts())
    alone_old = set(persons.loc[(persons.age >= 60).to_numpy()
                                & (size.reindex(persons.id) == 1).to_numpy(), "id"])
    tagged = set(tables.person_tag.loc[tables.person_tag.tag == "elderly_alone", "person_id"])
    assert tagged == alone_old and tagged


# ---------------------------------------------------------------- determinism and scale


def test_same_seed_same_tables(households, tables):
    again = run(households, seed=2024)
    for a, b in zip((tables.persons, tables.person_household, tables.person_tag,
                     tables.person_sensitive_tag),
                    (again.persons, again.person_household, again.person_tag,
                     again.person_sensitive_tag)):
        pd.testing.assert_frame_equal(a, b)


def test_other_seed_other_tables(households, tables):
    other = run(households, seed=2025)
    assert not tables.persons["id_number"].equals(other.persons["id_number"])
    assert not tables.persons["name"].equals(other.persons["name"])


def test_rejects_impossible_targets(households):
    with pytest.raises(ValueError):
        run(households, seed=1, target=100)
    with pytest.raises(ValueError):
        generate_people(households, rng=np.random.default_rng(1), target_people=TARGET,
                        district_code="010103", today=TODAY)


def test_two_hundred_thousand_people():
    # a correctness run at a larger scale; deliberately no wall-clock assertion
    target = 200_000
    households = make_households(88_000, seed=3, grids=150)
    tables = run(households, seed=9, target=target)
    p = tables.persons
    assert abs(len(p) - target) <= 0.03 * target
    assert p["id_number"].dropna().is_unique
    assert p["phone"].dropna().is_unique
    res = tables.person_household[tables.person_household.kind == "residence"]
    occupied = households.loc[households.occupancy.isin(["self_occupied", "rented"]),
                              "household_id"]
    heads = res.loc[res.relation == "householder", "household_id"]
    assert heads.is_unique and set(heads) == set(occupied)
    sample = p["id_number"].dropna().sample(2_000, random_state=0)
    assert all(idcard.validate(i, today=TODAY) is None for i in sample)


# ---------------------------------------------------------------- names.py


def test_person_names_vectorised():
    rng = np.random.default_rng(0)
    genders = rng.choice(["M", "F"], 50_000)
    full = names.person_names(rng, genders, rng.integers(1930, 2025, 50_000))
    assert all(HAN.match(x) for x in full)
    surnames = {s for s, _ in names.SURNAMES}
    assert all(x[:2] in surnames or x[:1] in surnames for x in full)
    lengths = pd.Series(full).str.len().value_counts(normalize=True)
    assert 0.15 <= lengths.get(2, 0) <= 0.35  # about a quarter have a one-character given name
    top = pd.Series([x[0] for x in full]).value_counts(normalize=True)
    assert set(top.index[:3]) == {"王", "李", "张"}
    assert any(x.startswith(("欧阳", "司马", "上官", "诸葛")) for x in full)


def test_given_names_lean_on_sex():
    rng = np.random.default_rng(1)
    male = names.given_names(rng, np.full(20_000, "M"))
    female = names.given_names(rng, np.full(20_000, "F"))
    in_pool = lambda arr, pool: np.mean([x[-1] in pool for x in arr])  # noqa: E731
    assert in_pool(male, set(names.MALE_CHARS) | set("国建德福永宝山忠义贵")) > 0.5
    assert in_pool(female, set(names.FEMALE_CHARS) | set("淑秀桂凤玉兰英珍芬")) > 0.5


def test_mobile_numbers_unique_with_real_prefixes():
    numbers = names.mobile_numbers(np.random.default_rng(2), 200_000)
    s = pd.Series(numbers)
    assert s.is_unique
    assert s.str.match(MOBILE_RE).all()
    assert not s.str[:3].isin(["170", "171", "140", "154", "174"]).any()

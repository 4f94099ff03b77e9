"""The demo district's enterprises (法人): credit codes, names, industries and where they sit."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from onemap.domain import uscc

from .names import SHENYANG_DISTRICTS, company_names, person_names

__all__ = ["INDUSTRIES", "generate_enterprises"]

# (industry, share of market entities, share of those that are individual businesses 个体工商户).
# A city-centre district: shops and restaurants dominate the counts, offices the head counts.
INDUSTRIES: list[tuple[str, float, float]] = [
    ("批发和零售业", 0.36, 0.78),
    ("住宿和餐饮业", 0.13, 0.85),
    ("租赁和商务服务业", 0.11, 0.15),
    ("居民服务修理和其他服务业", 0.08, 0.85),
    ("信息传输软件和信息技术服务业", 0.06, 0.05),
    ("科学研究和技术服务业", 0.04, 0.05),
    ("建筑业", 0.04, 0.05),
    ("制造业", 0.03, 0.3),
    ("房地产业", 0.03, 0.1),
    ("文化体育和娱乐业", 0.03, 0.45),
    ("交通运输仓储和邮政业", 0.025, 0.5),
    ("金融业", 0.02, 0.0),
    ("教育", 0.02, 0.1),
    ("卫生和社会工作", 0.02, 0.35),
]
COOP_INDUSTRY = "农、林、牧、渔业"
COOP_SHARE = 0.003  # farmer cooperatives registered in an urban district are rare

# Which buildings host whom: weights per building use for shops, offices and works.
_USES = ("residential", "commercial", "mixed", "public", "industrial")
_SITE_WEIGHTS = {
    "shop": (0.8, 6.0, 8.0, 0.3, 0.5),     # individual businesses: street fronts, 网点 below flats
    "office": (0.3, 10.0, 4.0, 0.5, 1.0),  # companies: office and commercial blocks
    "works": (0.2, 3.0, 1.0, 0.2, 10.0),   # manufacturing, building, transport: industrial land
}
_WORKS = {"制造业", "建筑业", "交通运输仓储和邮政业"}
# Head-count multipliers for companies of industries that run big offices.
_BIG = {"金融业": 4.0, "信息传输软件和信息技术服务业": 2.0, "房地产业": 2.0, "建筑业": 2.5,
        "制造业": 3.0, "卫生和社会工作": 2.0, "教育": 1.5}
_STATUS = np.array(["active", "suspended", "deregistered"])
_STATUS_P = np.array([0.87, 0.05, 0.08])
_CHARSET = np.array(list(uscc.CHARSET))
_JITTER_M = 8.0  # stays under 10 m from the building's point
_M_PER_DEG_LAT = 111_320.0


def _org_bodies(rng: np.random.Generator, org_types: np.ndarray) -> np.ndarray:
    """Distinct 8-character organisation-code bodies (new 'MA…' style or legacy digits)."""
    n = len(org_types)

    def draft(m: int) -> np.ndarray:
        chars = _CHARSET[rng.integers(0, len(_CHARSET), (m, 8))]
        legacy = rng.random(m) < 0.25  # pre-2015 entities kept their old numeric org code
        chars[:, :2] = np.where(legacy[:, None], chars[:, :2], np.array(["M", "A"]))
        chars[legacy] = _CHARSET[rng.integers(0, 10, (int(legacy.sum()), 8))]
        return np.array(["".join(row) for row in chars])

    bodies = draft(n)
    while True:
        dup = np.flatnonzero(pd.Series(np.strings.add(org_types.astype(str), bodies))
                             .duplicated().to_numpy())
        if not len(dup):
            return bodies
        bodies[dup] = draft(len(dup))


def _employees(rng: np.random.Generator, org_types: np.ndarray, industries: np.ndarray,
               status: np.ndarray) -> np.ndarray:
    """Heavy-tailed head counts: a shop has a few, a company a lognormal tail into thousands."""
    n = len(org_types)
    factor = np.array([_BIG.get(i, 1.0) for i in industries])
    company = np.clip(np.round(rng.lognormal(np.log(7), 1.3, n) * factor), 1, 20_000)
    shop = np.minimum(rng.geometric(0.45, n), 30)
    coop = 4 + rng.geometric(0.2, n)
    heads = np.select([org_types == "1", org_types == "2"], [company, shop], default=coop)
    return np.where(status == "deregistered", 0, heads).astype(np.int64)


def _site_suffix(rng: np.random.Generator, uses: np.ndarray, org_types: np.ndarray) -> np.ndarray:
    """Room, shop or works number to append to the building's address."""
    n = len(uses)
    floor = rng.integers(1, 21, n)
    room = np.strings.add(np.strings.add(floor.astype(str), np.char.zfill(
        rng.integers(1, 30, n).astype(str), 2)), " 室")
    k = rng.integers(1, 40, n).astype(str)
    shop = np.strings.add(k, " 号商铺")
    front = np.strings.add(k, " 号网点")
    works = np.strings.add(rng.integers(1, 12, n).astype(str), " 号厂房")
    street_level = org_types != "1"
    return np.select(
        [uses == "industrial", uses == "residential",
         street_level & (uses == "mixed"), street_level],
        [works, front, front, shop], default=room)


def generate_enterprises(buildings: pd.DataFrame, *, rng: np.random.Generator, n: int,
                         district_code: str, people_names_rng_ok: bool = True) -> pd.DataFrame:
    """n enterprises with valid unique credit codes, placed in the district's buildings.

    people_names_rng_ok: when False the legal representatives' names come from a child
    generator spawned from rng, so adding or dropping names does not shift the other draws.
    """
    if not re.fullmatch(r"\d{6}", district_code):
        raise ValueError(f"district code must be 6 digits, got {district_code!r}")
    if not len(buildings):
        raise ValueError("no buildings to place enterprises in")

    names_of = [i for i, _, _ in INDUSTRIES]
    shares = np.array([s for _, s, _ in INDUSTRIES])
    individual_p = np.array([p for _, _, p in INDUSTRIES])
    pick = rng.choice(len(INDUSTRIES), size=n, p=shares / shares.sum())
    industry = np.asarray(names_of, dtype=object)[pick]
    org_type = np.where(rng.random(n) < individual_p[pick], "2", "1").astype(object)
    coop = rng.random(n) < COOP_SHARE
    org_type[coop] = "3"
    industry[coop] = COOP_INDUSTRY

    # where: each kind of entity draws a building from its own use weights
    uses = buildings["use"].to_numpy()
    kind = np.where(org_type == "2", "shop",
                    np.where(np.isin(industry, list(_WORKS)) | coop, "works", "office"))
    site = np.empty(n, dtype=np.int64)
    for k, weights in _SITE_WEIGHTS.items():
        idx = np.flatnonzero(kind == k)
        w = np.select([uses == u for u in _USES], weights, default=0.0)
        w = w if w.sum() > 0 else np.ones(len(uses))
        site[idx] = rng.choice(len(uses), size=len(idx), p=w / w.sum())
    chosen = buildings.iloc[site]

    status = _STATUS[rng.choice(len(_STATUS), size=n, p=_STATUS_P)]
    bodies = _org_bodies(rng, org_type)
    credit_code = [uscc.make("9", t, district_code, b) for t, b in zip(org_type, bodies)]
    name = company_names(rng, n, industry, org_types=org_type,
                         district_name=SHENYANG_DISTRICTS.get(district_code, ""))

    name_rng = rng if people_names_rng_ok else rng.spawn(1)[0]
    rep_gender = np.where(name_rng.random(n) < 0.62, "M", "F")
    representative = person_names(name_rng, rep_gender, name_rng.integers(1955, 2001, n))

    lat = chosen["lat"].to_numpy(dtype=float)
    lon = chosen["lon"].to_numpy(dtype=float)
    r = _JITTER_M * np.sqrt(rng.random(n))
    angle = rng.uniform(0, 2 * np.pi, n)
    lat_j = lat + r * np.sin(angle) / _M_PER_DEG_LAT
    lon_j = lon + r * np.cos(angle) / (_M_PER_DEG_LAT * np.cos(np.radians(lat)))

    address = np.strings.add(np.strings.add(chosen["address"].to_numpy().astype(str), " "),
                             _site_suffix(rng, uses[site], org_type))
    return pd.DataFrame({
        "credit_code": credit_code,
        "name": name,
        "legal_representative": representative,
        "industry": industry.astype(str),
        "employees": _employees(rng, org_type, industry, status),
        "status": status,
        "address": address,
        "grid_code": chosen["grid_code"].to_numpy(),
        "building_id": chosen["building_id"].to_numpy(),
        "lon": lon_j,
        "lat": lat_j,
    })

"""Key places (重点场所): the 13 kinds patrolled with priority, on buildings that suit them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .geo import jitter
from .names import mobile_numbers, person_names

# kind: (share, building uses it sits on, name pattern, risk level 1 high .. 4 low)
KINDS = {
    "school": (0.10, ("public",), "沈阳市第{n}中学", 2),
    "kindergarten": (0.12, ("public", "mixed"), "{w}幼儿园", 2),
    "hospital": (0.05, ("public",), "{w}医院", 2),
    "nursing_home": (0.07, ("public", "mixed"), "{w}养老院", 2),
    "market": (0.12, ("commercial",), "{w}商场", 3),
    "hotel": (0.12, ("commercial", "mixed"), "{w}宾馆", 3),
    "internet_cafe": (0.07, ("commercial", "mixed"), "{w}网咖", 3),
    "entertainment": (0.07, ("commercial",), "{w}KTV", 3),
    "parcel_logistics": (0.08, ("commercial", "industrial"), "中通快递{w}网点", 3),
    "gas_station": (0.04, ("commercial", "industrial"), "中石油{w}加油站", 1),
    "oil_depot": (0.01, ("industrial",), "{w}油库", 1),
    "hazardous_chemicals": (0.02, ("industrial",), "{w}化工仓储", 1),
    "construction_site": (0.03, ("residential", "commercial"), "{w}项目工地", 2),
}
WORDS = ["和平", "光明", "幸福", "团结", "兴隆", "富民", "建设", "育才", "永安", "长春", "顺通",
         "振兴", "安乐", "友爱", "新华", "泰山", "玉泉", "银杏", "丁香", "海棠", "松花", "盛京",
         "故宫", "方城", "怀远", "天佑", "德胜", "万柳", "南湖", "金廊"]


def generate_key_places(buildings: pd.DataFrame, rng: np.random.Generator, n: int,
                        district_code: str) -> pd.DataFrame:
    """Key places on suitable buildings; `buildings` has id, use, grid_code, lon, lat, address."""
    shares = np.array([k[0] for k in KINDS.values()])
    counts = np.floor(shares / shares.sum() * n).astype(int)
    counts[np.argmax(shares)] += n - counts.sum()
    rows = []
    for (kind, (_share, uses, pattern, risk)), count in zip(KINDS.items(), counts):
        candidates = buildings[buildings["use"].isin(uses)]
        if candidates.empty:
            candidates = buildings
        picked = candidates.iloc[rng.choice(len(candidates), count, replace=count > len(candidates))]
        for k, (_, b) in enumerate(picked.iterrows(), start=1):
            rows.append({
                "kind": kind,
                "name": pattern.format(n=k, w=WORDS[rng.integers(len(WORDS))]),
                "risk_level": int(np.clip(risk + rng.integers(-1, 2), 1, 4)),
                "address": b["address"], "grid_code": b["grid_code"], "building_id": b["id"],
                "lon": b["lon"], "lat": b["lat"],
            })
    places = pd.DataFrame(rows)
    places["name"] = _unique(places["name"])
    places.insert(0, "id", np.arange(1, len(places) + 1))
    places["code"] = [f"KP{district_code}{i:05d}" for i in places["id"]]
    places["contact_name"] = person_names(rng, rng.choice(np.array(["M", "F"]), len(places)))
    places["contact_phone"] = mobile_numbers(rng, len(places))
    # the entrance, a few metres from the building's centre, still inside its grid's street
    places["lon"], places["lat"] = jitter(places["lon"].to_numpy(), places["lat"].to_numpy(), 3, rng)
    return places


def _unique(names: pd.Series) -> pd.Series:
    """Suffix repeats with 分店/二部 numbering so every name is distinct."""
    seen = names.groupby(names).cumcount()
    return names.where(seen == 0, names + "(" + (seen + 1).astype(str) + ")")

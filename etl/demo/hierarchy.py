"""Streets, communities, grids and pieces for the demo district, and buildings filed under grids.

Everything here is in the metric CRS; `district.py` projects the result back to WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .partition import allocate, reading_order, split

# Street names of Shenhe (real ones first), then generic ones for larger scales.
STREET_NAMES = [
    "大西", "皇城", "山东庙", "万莲", "滨河", "风雨坛", "朱剪炉", "北站", "南塔", "五里河",
    "泉园", "马官桥", "东陵", "南市场", "热闹路", "大南", "小北", "文艺", "长青", "东塔",
]
COMMUNITY_WORDS = [
    "和平", "光明", "幸福", "团结", "兴隆", "富民", "建设", "育才", "永安", "长春", "顺通", "振兴",
    "安乐", "友爱", "新华", "泰山", "玉泉", "银杏", "丁香", "海棠", "松花", "榆林", "惠工", "文化",
    "正阳", "朝阳", "青年", "先锋", "和睦", "春晖", "盛京", "故宫", "方城", "怀远", "天佑", "抚近",
    "德胜", "小河沿", "八王寺", "万柳", "南湖", "翠湖", "金廊", "银河", "锦绣", "新兴", "红旗", "胜利",
]


@dataclass
class Hierarchy:
    """Areas per level and the pieces grouping grids."""

    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    pieces: pd.DataFrame


def _children(parent_code: str, parent_geom, parts: list, name_of) -> list[dict]:
    order = reading_order(parts)
    return [
        {"code": f"{parent_code}{seq:03d}", "parent_code": parent_code, "name": name_of(seq),
         "geometry": parts[i]}
        for seq, i in enumerate(order, start=1)
    ]


def build(district_code: str, area, buildings: gpd.GeoDataFrame, *, streets: int,
          communities: int, grids: int, rng: np.random.Generator, crs,
          given: dict[str, gpd.GeoDataFrame] | None = None) -> Hierarchy:
    """Partition the area into streets, communities and grids, weighted by households.

    `buildings` needs a `households` column; counts per level follow the households, so a
    busy street gets more communities and a dense community more grids. Levels in `given`
    (code, parent_code, name, metric geometry; real boundaries already in the database) are
    kept as they are, and only the levels below them are generated.
    """
    given = given or {}
    homes = np.column_stack([buildings.geometry.centroid.x, buildings.geometry.centroid.y])
    home_weight = buildings["households"].to_numpy(dtype=float) + 5.0  # offices count too
    # land counts as well as people (a quarter of the weight, spread on a lattice), so parts
    # stay compact where few live instead of stretching out from the busy core
    land = _lattice(area, spacing=250.0)
    points = np.vstack([homes, land])
    weight = np.concatenate([home_weight,
                             np.full(len(land), 0.25 * home_weight.sum() / max(len(land), 1))])
    words = iter(rng.permutation(COMMUNITY_WORDS * (communities // len(COMMUNITY_WORDS) + 1)))
    namers = {
        "street": lambda s: f"{STREET_NAMES[(s - 1) % len(STREET_NAMES)]}街道"
                            + ("" if s <= len(STREET_NAMES) else str(s)),
        "community": lambda s: f"{next(words)}社区",
        "grid": lambda s: f"第{s}网格",
    }
    parents = [{"code": district_code, "geometry": area}]
    parent_of = np.zeros(len(points), dtype=int)
    levels: dict[str, list[dict]] = {}
    for level, total in (("street", streets), ("community", communities), ("grid", grids)):
        if level in given:
            rows = given[level][["code", "parent_code", "name", "geometry"]].to_dict("records")
        else:
            parent_weight = np.array([weight[parent_of == i].sum() for i in range(len(parents))])
            per_parent = allocate(total, parent_weight)
            rows = []
            for i, parent in enumerate(parents):
                mine = parent_of == i
                parts = split(parent["geometry"], points[mine], weight[mine], int(per_parent[i]), rng)
                rows += _children(parent["code"], parent["geometry"], parts, namers[level])
        levels[level] = rows
        parents = rows
        parent_of = locate(points, [r["geometry"] for r in rows])

    frames = {level: gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
              for level, rows in levels.items()}
    return Hierarchy(
        streets=frames["street"],
        communities=frames["community"],
        grids=frames["grid"],
        pieces=_pieces(frames["grid"]),
    )


def _lattice(area, spacing: float) -> np.ndarray:
    minx, miny, maxx, maxy = area.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, spacing), np.arange(miny, maxy, spacing))
    xy = np.column_stack([xs.ravel(), ys.ravel()])
    return xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]


def locate(points: np.ndarray, areas: list) -> np.ndarray:
    """Index of the area covering each point (-1 for none): first hit wins on shared edges."""
    tree = shapely.STRtree(areas)
    point_geoms = shapely.points(points)
    hit_points, hit_areas = tree.query(point_geoms, predicate="covered_by")
    found = np.full(len(points), -1)
    first = np.unique(hit_points, return_index=True)[1]
    found[hit_points[first]] = hit_areas[first]
    return found


def _pieces(grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """片区: runs of three neighbouring grids (in numbering order) of a community; ids 1..n."""
    rows = []
    for community, group in grids.groupby("parent_code", sort=True):
        codes = sorted(group["code"])
        if len(codes) < 3:
            continue
        for k, start in enumerate(range(0, len(codes), 3), start=1):
            rows.append({"community_code": community, "name": f"第{k}片区",
                         "grid_codes": codes[start:start + 3]})
    frame = pd.DataFrame(rows, columns=["community_code", "name", "grid_codes"])
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame

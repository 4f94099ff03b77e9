"""Floors, units and rooms of the demo buildings, and their road addresses.

Shenyang's housing stock: old 5-7 storey walk-ups of 2-6 units with two flats per landing,
and newer towers of 11-33 storeys with three or four; shops on the ground floor of mixed
blocks. Floors are scaled so the district holds the households its people need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from .layout import Road

PEOPLE_PER_HOUSEHOLD = 2.55  # Shenyang's 7th census average is about 2.4-2.6
OCCUPIED_SHARE = 0.91


def attributes(buildings: pd.DataFrame, rng: np.random.Generator, *, people: int) -> pd.DataFrame:
    """Add floors_above, floors_below, unit_count, per_floor, households and built_year."""
    frame = buildings.copy()
    n = len(frame)
    style = frame["style"].to_numpy()
    width = np.array([g.bounds[2] - g.bounds[0] for g in frame.geometry])  # rough length
    floors = np.select(
        [style == "slab", style == "tower", style == "commercial", style == "public"],
        [rng.choice([5, 6, 6, 7, 7, 9, 11], n), rng.choice([11, 18, 24, 26, 30, 33], n),
         rng.choice([2, 3, 4, 6, 12, 20, 28], n), rng.integers(2, 7, n)],
        default=rng.integers(1, 4, n),
    ).astype(float)
    units = np.select(
        [style == "slab", style == "tower"],
        [np.clip(np.round(width / 17), 2, 6), rng.integers(1, 3, n)],
        default=rng.integers(1, 3, n),
    ).astype(int)
    per_floor = np.where(style == "tower", rng.choice([3, 4], n), 2)
    residential = np.isin(frame["use"].to_numpy(), ["residential", "mixed"])

    target = people / PEOPLE_PER_HOUSEHOLD / OCCUPIED_SHARE
    for _ in range(3):  # scale residential floors until capacity meets the people's needs
        capacity = (units * floors * per_floor)[residential].sum()
        factor = target / capacity
        floors = np.where(residential, np.clip(floors * factor, 2, 34), floors)
    floors = np.round(floors).astype(int)

    frame["floors_above"] = floors
    frame["floors_below"] = np.where(style == "tower", 1, rng.choice([0, 0, 1], n))
    frame["unit_count"] = units
    frame["per_floor"] = np.where(residential, per_floor, 0)
    frame["households"] = units * floors * frame["per_floor"].to_numpy()
    frame["built_year"] = np.where(style == "tower", rng.integers(2000, 2023, n),
                                   rng.integers(1958, 2005, n))
    return frame


def addresses(buildings: pd.DataFrame, roads: list[Road]) -> pd.DataFrame:
    """Road, house number (odd on one side, even on the other) per block, and 'N 栋' per building."""
    frame = buildings.copy()
    lines = [r.line for r in roads]
    tree = shapely.STRtree(lines)
    block_centres = frame.groupby("block").geometry.apply(
        lambda g: shapely.centroid(shapely.union_all(list(g)))
    )
    nearest = tree.nearest(list(block_centres))
    numbers = {}
    for block, centre, road_index in zip(block_centres.index, block_centres, nearest):
        line = lines[road_index]
        along = line.project(centre)
        (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
        left = (x1 - x0) * (centre.y - y0) - (y1 - y0) * (centre.x - x0) > 0
        number = int(along // 40) * 2 + (1 if left else 2)
        numbers[block] = (roads[road_index].name, number)
    frame["road"] = [numbers[b][0] for b in frame["block"]]
    frame["house_number"] = [f"{numbers[b][1]}号" for b in frame["block"]]
    frame["building_number"] = frame.groupby("block").cumcount() + 1
    frame["name"] = frame["building_number"].astype(str) + " 栋"
    frame["address"] = (frame["road"] + " " + frame["house_number"].str[:-1] + " 号 "
                        + frame["name"])
    return frame


def rooms(buildings: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, ...]:
    """Unit, floor and household tables for buildings with ids (column `id`).

    Returns (units, floors, households) with ids 1..n; households carry grid_code, the
    building's number and a label like 3-2-501 for the people generator and the import tests.
    """
    b_id = buildings["id"].to_numpy()
    unit_count = buildings["unit_count"].to_numpy()
    unit_building = np.repeat(b_id, unit_count)
    unit_number = np.concatenate([np.arange(1, u + 1) for u in unit_count])
    units = pd.DataFrame({"id": np.arange(1, len(unit_building) + 1),
                          "building_id": unit_building, "number": unit_number})

    by_building = buildings.set_index("id")
    above = by_building.loc[unit_building, "floors_above"].to_numpy()
    below = by_building.loc[unit_building, "floors_below"].to_numpy()
    levels = [np.concatenate([-np.arange(1, b + 1)[::-1], np.arange(1, a + 1)])
              for a, b in zip(above, below)]
    floor_unit = np.repeat(units["id"].to_numpy(), [len(x) for x in levels])
    floors = pd.DataFrame({
        "id": np.arange(1, len(floor_unit) + 1),
        "unit_id": floor_unit,
        "building_id": np.repeat(unit_building, [len(x) for x in levels]),
        "number": np.concatenate(levels),
    })

    per_floor = by_building.loc[floors["building_id"], "per_floor"].to_numpy()
    per_floor = np.where(floors["number"].to_numpy() > 0, per_floor, 0)
    uses = by_building.loc[floors["building_id"], "use"].to_numpy()
    # a mixed block's ground floor is shops: two per unit whatever the flats above
    ground_shop = (uses == "mixed") & (floors["number"].to_numpy() == 1)
    per_floor = np.where(ground_shop, 2, per_floor)
    h_floor = np.repeat(floors.index.to_numpy(), per_floor)
    door = np.concatenate([np.arange(1, k + 1) for k in per_floor]) if len(h_floor) else []
    f = floors.iloc[h_floor]
    room = f["number"].to_numpy() * 100 + np.asarray(door)
    households = pd.DataFrame({
        "id": np.arange(1, len(f) + 1),
        "floor_id": f["id"].to_numpy(),
        "unit_id": f["unit_id"].to_numpy(),
        "building_id": f["building_id"].to_numpy(),
        "room_number": room.astype(str),
    })
    shop = ground_shop[h_floor]
    style = by_building.loc[households["building_id"], "style"].to_numpy()
    old = style == "slab"
    draw = rng.random(len(households))
    occupancy = np.where(draw < np.where(old, 0.21, 0.14), "rented",
                         np.where(draw > np.where(old, 0.94, 0.91), "vacant", "self_occupied"))
    households["occupancy"] = np.where(shop, "commercial", occupancy)
    area = np.where(old, rng.lognormal(np.log(62), 0.22, len(households)),
                    rng.lognormal(np.log(105), 0.25, len(households)))
    households["area_m2"] = np.round(np.clip(area, 25, 400), 2)
    households["grid_code"] = by_building.loc[households["building_id"], "grid_code"].to_numpy()
    unit_of = units.set_index("id").loc[households["unit_id"], "number"].to_numpy()
    number_of = by_building.loc[households["building_id"], "building_number"].to_numpy()
    households["label"] = [f"{b}-{u}-{r}" for b, u, r in
                           zip(number_of, unit_of, households["room_number"])]
    return units, floors, households

"""Grid staff (1+X+N): each grid's workers, piece leaders, inspectors, department responders."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from .geo import points_in
from .names import mobile_numbers, person_names

INSPECTORS_PER_PERSON = 130 / 811_000  # Shenhe: 130 inspectors for 811 k residents


def generate_staff(grids, pieces: pd.DataFrame, departments: pd.DataFrame,
                   rng: np.random.Generator, *, people: int, now: datetime) -> pd.DataFrame:
    """Staff rows with ids 1..n; `grids` is a GeoDataFrame (code, WGS84 geometry), `pieces`
    has id and grid_codes."""
    rows: list[dict] = []
    for code in grids["code"]:
        rows.append({"tier": "grid_worker", "grid_code": code, "department_code": None})
        for _ in range(rng.integers(1, 3)):
            rows.append({"tier": "part_time", "grid_code": code, "department_code": None})
        if rng.random() < 0.6:
            rows.append({"tier": "volunteer", "grid_code": code, "department_code": None})
    for grid_codes in pieces["grid_codes"]:
        rows.append({"tier": "piece_leader", "grid_code": grid_codes[0], "department_code": None})
    inspectors = max(5, round(people * INSPECTORS_PER_PERSON))
    for code in rng.choice(grids["code"].to_numpy(), inspectors):
        rows.append({"tier": "inspector", "grid_code": code, "department_code": None})
    for department in departments["code"]:
        for _ in range(rng.integers(4, 10)):
            rows.append({"tier": "department", "grid_code": None, "department_code": department})

    staff = pd.DataFrame(rows)
    n = len(staff)
    staff.insert(0, "id", np.arange(1, n + 1))
    staff["code"] = [f"S{i:06d}" for i in staff["id"]]
    genders = rng.choice(np.array(["M", "F"]), n)
    staff["name"] = person_names(rng, genders)
    staff["phone"] = mobile_numbers(rng, n)
    # a day shift: most field staff are out, some of them on a case
    on_duty = rng.random(n) < np.where(staff["tier"] == "volunteer", 0.3, 0.75)
    staff["on_duty"] = on_duty
    staff["status"] = np.where(on_duty, np.where(rng.random(n) < 0.3, "busy", "available"),
                               "off_duty")

    geometry_of = dict(zip(grids["code"], grids["geometry"]))
    district = grids.geometry.union_all()  # department staff roam the whole district
    areas = [geometry_of[g] if isinstance(g, str) else district for g in staff["grid_code"]]
    xy = points_in(areas, np.ones(n, dtype=int), rng)
    staff["lon"], staff["lat"] = xy[:, 0], xy[:, 1]
    seen = pd.Series(pd.Timestamp(now) - pd.to_timedelta(rng.exponential(4, n), unit="min"))
    staff["last_seen_at"] = seen.where(on_duty, pd.Timestamp(now) - timedelta(hours=14))
    return staff

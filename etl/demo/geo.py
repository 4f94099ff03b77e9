"""Small spatial helpers for the demo generator: metric jitter, random points, grid lookup."""

from __future__ import annotations

import numpy as np
import shapely

METRES_PER_DEGREE = 111_320.0


def jitter(lon: np.ndarray, lat: np.ndarray, metres: float | np.ndarray,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Move points by a normal offset of `metres` standard deviation in each direction."""
    n = len(lon)
    dx = rng.normal(0, 1, n) * metres
    dy = rng.normal(0, 1, n) * metres
    return (lon + dx / (METRES_PER_DEGREE * np.cos(np.radians(lat))),
            lat + dy / METRES_PER_DEGREE)


def points_in(areas: list, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`counts[i]` uniform random points inside `areas[i]` (rejection sampling), as n×2 lon/lat."""
    out = []
    for area, count in zip(areas, counts):
        if count == 0:
            continue
        minx, miny, maxx, maxy = area.bounds
        shapely.prepare(area)
        got = np.empty((0, 2))
        while len(got) < count:
            need = (count - len(got)) * 3 + 8
            xy = np.column_stack([rng.uniform(minx, maxx, need), rng.uniform(miny, maxy, need)])
            inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
            got = np.vstack([got, xy[inside]])
        out.append(got[:count])
    return np.vstack(out) if out else np.empty((0, 2))


class GridIndex:
    """Which grid covers a point: the same rule the database's `onemap db check` applies."""

    def __init__(self, codes: np.ndarray, geometries: list) -> None:
        self.codes = np.asarray(codes)
        self.geometries = geometries
        self.tree = shapely.STRtree(geometries)

    def lookup(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Grid code per point, or None where no grid covers it."""
        points = shapely.points(np.column_stack([lon, lat]))
        hit_point, hit_grid = self.tree.query(points, predicate="covered_by")
        result = np.full(len(points), None, dtype=object)
        first = np.unique(hit_point, return_index=True)[1]
        result[hit_point[first]] = self.codes[hit_grid[first]]
        return result

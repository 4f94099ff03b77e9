"""Partitions tile their parent exactly, number their parts in reading order, and share fairly."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from etl.demo.partition import allocate, reading_order, split


def test_parts_tile_the_parent_without_overlap():
    rng = np.random.default_rng(3)
    parent = box(0, 0, 4000, 3000).difference(box(3000, 2000, 4000, 3000))  # an L shape
    points = rng.uniform([0, 0], [3000, 3000], (2000, 2))
    points = points[shapely.contains_xy(parent, points[:, 0], points[:, 1])]
    parts = split(parent, points, np.ones(len(points)), 7, rng)
    assert len(parts) == 7
    assert abs(sum(p.area for p in parts) - parent.area) < 1e-3
    assert abs(shapely.union_all(parts).area - parent.area) < 1e-3
    for i, a in enumerate(parts):
        for b in parts[i + 1:]:
            assert a.intersection(b).area < 1e-6


def test_weights_pull_parts_towards_where_people_live():
    rng = np.random.default_rng(5)
    parent = box(0, 0, 1000, 1000)
    dense = rng.uniform([0, 0], [200, 200], (900, 2))  # 90 % of the weight in one corner
    sparse = rng.uniform([200, 200], [1000, 1000], (100, 2))
    points = np.vstack([dense, sparse])
    parts = split(parent, points, np.ones(len(points)), 10, rng)
    in_corner = sum(1 for p in parts if p.centroid.x < 400 and p.centroid.y < 400)
    assert in_corner >= 5


def test_reading_order_runs_west_to_east_in_rows_from_north_to_south():
    cells = [box(x, y, x + 1, y + 1) for y in (2, 1, 0) for x in (0, 1, 2)]
    shuffled = [cells[i] for i in (4, 8, 0, 2, 6, 1, 7, 3, 5)]
    ordered = [shuffled[i] for i in reading_order(shuffled)]
    assert [(c.bounds[0], c.bounds[1]) for c in ordered] == [
        (0, 2), (1, 2), (2, 2), (0, 1), (1, 1), (2, 1), (0, 0), (1, 0), (2, 0)]


def test_allocate_hands_out_exactly_the_total():
    counts = allocate(111, np.array([5.0, 1.0, 1.0, 0.0, 3.0]))
    assert counts.sum() == 111 and counts.min() >= 1
    assert counts[0] > counts[4] > counts[1]

"""Split an area into k compact parts that share its buildings' weight fairly.

Weighted k-means on the building centroids finds k centres where people live; the Voronoi
cells of those centres, clipped to the parent, tile the parent exactly, so every child lies
inside its parent and siblings never overlap.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon


def weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator,
                    iterations: int = 30) -> np.ndarray:
    """k centres (k×2) minimising weighted squared distance (Lloyd's algorithm, k-means++ start)."""
    n = len(points)
    if n <= k:
        # fewer points than parts: spread the centres over the points with tiny offsets
        extra = points[rng.integers(0, n, k - n)] + rng.normal(0, 5.0, (k - n, 2))
        return np.vstack([points, extra])
    probabilities = weights / weights.sum()
    centres = [points[rng.choice(n, p=probabilities)]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
        p = d2 * weights
        centres.append(points[rng.choice(n, p=p / p.sum())])
    centres = np.array(centres)
    for _ in range(iterations):
        labels = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        moved = centres.copy()
        for j in range(k):
            mine = labels == j
            if mine.any():
                moved[j] = np.average(points[mine], axis=0, weights=weights[mine])
        if np.allclose(moved, centres, atol=0.5):
            break
        centres = moved
    return centres


def _as_multi(geometry) -> MultiPolygon:
    polygons = [g for g in getattr(geometry, "geoms", [geometry]) if isinstance(g, Polygon)]
    return MultiPolygon(polygons)


def voronoi_split(parent: Polygon | MultiPolygon, centres: np.ndarray) -> list[MultiPolygon]:
    """Cells of the centres clipped to the parent, in the order of the centres."""
    # a tiny jitter-free envelope margin so every cell reaches the parent's edge
    cells = shapely.voronoi_polygons(MultiPoint(centres), extend_to=parent.envelope.buffer(1000))
    by_centre: list[MultiPolygon] = []
    cell_list = list(cells.geoms)
    tree = shapely.STRtree(cell_list)
    for x, y in centres:
        hits = tree.query(shapely.Point(x, y), predicate="intersects")
        cell = cell_list[hits[0]]
        by_centre.append(_as_multi(cell.intersection(parent)))
    return by_centre


def split(parent, points: np.ndarray, weights: np.ndarray, k: int,
          rng: np.random.Generator) -> list[MultiPolygon]:
    """Partition `parent` into k parts balanced by the weighted points inside it."""
    if k == 1:
        return [_as_multi(parent)]
    centres = weighted_kmeans(points, weights, k, rng)
    parts = voronoi_split(parent, centres)
    return [p for p in parts if not p.is_empty]


def reading_order(parts: list) -> list[int]:
    """Indices in GB/T 30428.1 order: rows north to south, west to east within a row."""
    centroids = np.array([[p.centroid.x, p.centroid.y] for p in parts])
    n = len(parts)
    if n == 0:
        return []
    rows = max(1, int(round(np.sqrt(n))))
    by_north = np.argsort(-centroids[:, 1], kind="stable")
    order: list[int] = []
    for chunk in np.array_split(by_north, rows):
        order.extend(chunk[np.argsort(centroids[chunk, 0], kind="stable")].tolist())
    return order


def allocate(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Split an integer total across weights (largest remainder), each share >= minimum."""
    weights = np.asarray(weights, dtype=float)
    if total < minimum * len(weights):
        raise ValueError(f"cannot give {len(weights)} parts at least {minimum} of {total}")
    spare = total - minimum * len(weights)
    share = weights / weights.sum() * spare if weights.sum() > 0 else np.full(len(weights), spare / len(weights))
    counts = np.floor(share).astype(int)
    remainder = spare - counts.sum()
    counts[np.argsort(-(share - counts))[:remainder]] += 1
    return counts + minimum

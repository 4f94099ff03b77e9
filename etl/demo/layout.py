"""Roads, blocks and building footprints for the demo district, in a metric CRS.

A city's core is a slightly rotated grid of main roads with lanes between them; blocks are
what the roads leave; a block is a residential compound (rows of slabs facing south, or
towers), a commercial block, a public site (school, hospital) or, rarely, industry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon

# Real road names of central Shenyang, used for the main roads (街 north-south, 路 east-west).
NS_MAIN_ROADS = [
    "青年大街", "南京街", "北京街", "正阳街", "朝阳街", "大南街", "小南街", "风雨坛街",
    "万柳塘路", "东陵路", "长青街", "文艺路", "大东路", "小什字街", "惠工街", "文化路",
]
EW_MAIN_ROADS = [
    "市府大路", "中街路", "北站路", "北顺城路", "南顺城路", "五爱街", "小河沿路", "热闹路",
    "文化东路", "万柳塘西路", "沈州路", "东滨河路", "团结路", "南五马路", "先农坛路", "三好街",
]
LANE_WORDS = [
    "和平", "光明", "幸福", "团结", "兴隆", "富民", "建设", "育才", "永安", "长春", "顺通",
    "振兴", "安乐", "友爱", "新华", "泰山", "玉泉", "银杏", "丁香", "海棠", "松花", "榆林",
]

BLOCK_USES = ("residential", "commercial", "mixed", "public", "industrial")


@dataclass(frozen=True)
class Road:
    """A named road centre line in metres."""

    name: str
    kind: str  # 'main' or 'lane'
    line: LineString


def _lines(extent: float, spacing: float, jitter: float, rng: np.random.Generator) -> np.ndarray:
    """Offsets of parallel roads across [-extent, extent], evenly spaced with jitter."""
    n = int(2 * extent // spacing) + 1
    base = -extent + spacing / 2 + spacing * np.arange(n)
    return base + rng.uniform(-jitter, jitter, n)


def road_network(area: Polygon, rng: np.random.Generator, *, angle_deg: float,
                 main_spacing: float = 820.0, lane_spacing: float = 270.0) -> list[Road]:
    """Main roads on a rotated grid and lanes between them, clipped to the area."""
    centre = area.centroid
    minx, miny, maxx, maxy = area.bounds
    extent = max(maxx - minx, maxy - miny)
    roads: list[Road] = []
    lane_names = iter(f"{w}{s}" for s in ("路", "街", "巷", "里") for w in LANE_WORDS)
    for axis, main_names in (("ns", NS_MAIN_ROADS), ("ew", EW_MAIN_ROADS)):
        mains = _lines(extent, main_spacing, main_spacing * 0.15, rng)
        lanes = np.concatenate([
            np.arange(a + lane_spacing, b - lane_spacing * 0.6, lane_spacing)
            + rng.uniform(-30, 30)
            for a, b in zip(mains[:-1], mains[1:])
        ])
        for kind, offsets in (("main", mains), ("lane", lanes)):
            for k, offset in enumerate(offsets):
                if axis == "ns":
                    line = LineString([(offset, -extent), (offset, extent)])
                else:
                    line = LineString([(-extent, offset), (extent, offset)])
                line = affinity.translate(affinity.rotate(line, angle_deg, origin=(0, 0)),
                                          centre.x, centre.y)
                clipped = line.intersection(area)
                if clipped.is_empty or clipped.length < 200:
                    continue
                if kind == "main":
                    name = main_names[k % len(main_names)]
                else:
                    name = next(lane_names, f"{axis}{k}路")
                for part in getattr(clipped, "geoms", [clipped]):
                    roads.append(Road(name, kind, part))
    return roads


def blocks(area: Polygon, roads: list[Road]) -> list[Polygon]:
    """The land between the roads (main roads 30 m wide, lanes 14 m), without slivers."""
    widths = np.array([15.0 if r.kind == "main" else 7.0 for r in roads])
    corridors = shapely.union_all(shapely.buffer([r.line for r in roads], widths, cap_style="flat"))
    land = area.difference(corridors)
    parts = [g for g in getattr(land, "geoms", [land]) if g.area > 4_000]
    return parts


@dataclass(frozen=True)
class Pattern:
    """How a kind of block is filled: footprint size, gaps, floors."""

    width: tuple[float, float]   # along the road grid's x axis, metres
    depth: tuple[float, float]
    gap_x: float
    gap_y: float


PATTERNS = {
    "slab": Pattern((44, 88), (11, 13), 14, 30),  # 2-6 unit walk-ups and slab blocks
    "tower": Pattern((24, 30), (20, 24), 28, 34),
    "commercial": Pattern((30, 70), (25, 45), 18, 20),
    "public": Pattern((50, 90), (20, 40), 30, 30),
    "industrial": Pattern((60, 110), (30, 50), 25, 25),
}


def _fill(block: Polygon, pattern: Pattern, angle_deg: float, origin: Point,
          rng: np.random.Generator, density: float) -> list[Polygon]:
    """Footprints laid in rows inside the block, aligned with the road grid."""
    upright = affinity.rotate(block, -angle_deg, origin=origin)
    inner = upright.buffer(-8)
    if inner.is_empty:
        return []
    minx, miny, maxx, maxy = inner.bounds
    width = rng.uniform(*pattern.width)
    depth = rng.uniform(*pattern.depth)
    xs = np.arange(minx, maxx - width, width + pattern.gap_x / density)
    ys = np.arange(maxy - depth, miny, -(depth + pattern.gap_y / density))
    if len(xs) == 0 or len(ys) == 0:
        return []
    gx, gy = np.meshgrid(xs, ys)
    candidates = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + width, gy.ravel() + depth)
    shapely.prepare(inner)
    kept = candidates[shapely.contains(inner, candidates)]
    return [affinity.rotate(b, angle_deg, origin=origin) for b in kept]


def _block_use(distance_to_centre: float, radius: float, rng: np.random.Generator) -> str:
    # the old core is busier: more shops and offices near the centre, housing further out
    closeness = max(0.0, 1.0 - distance_to_centre / radius)
    weights = np.array([0.70 - 0.25 * closeness, 0.08 + 0.20 * closeness, 0.10 + 0.05 * closeness,
                        0.09, 0.03 * (1 - closeness)])
    return str(rng.choice(BLOCK_USES, p=weights / weights.sum()))


def buildings(area: Polygon, block_list: list[Polygon], rng: np.random.Generator, *,
              target: int, angle_deg: float) -> pd.DataFrame:
    """`target` footprints, filling blocks from the centre outwards.

    Columns: geometry (metric Polygon), use, style ('slab', 'tower', …), block (index).
    A smaller target leaves outer blocks empty, as a young district's fringe would be; a
    target the blocks cannot hold at the usual spacing packs buildings closer together.
    """
    for density in (1.0, 1.25, 1.6, 2.0, 2.6):
        frame = _buildings_at(area, block_list, np.random.default_rng(rng.integers(2**63)),
                              target=target, angle_deg=angle_deg, density=density)
        if len(frame) >= target:
            return frame
    raise ValueError(
        f"the boundary holds only {len(frame)} buildings at the densest spacing; "
        f"{target} were asked for: give a larger boundary or a smaller scale"
    )


def _buildings_at(area: Polygon, block_list: list[Polygon], rng: np.random.Generator, *,
                  target: int, angle_deg: float, density: float) -> pd.DataFrame:
    origin = area.centroid
    radius = max(area.bounds[2] - area.bounds[0], area.bounds[3] - area.bounds[1]) / 2
    centre = Point(origin.x + rng.uniform(-0.1, 0.1) * radius,
                   origin.y + rng.uniform(-0.1, 0.1) * radius)
    distance = np.array([centre.distance(b.centroid) for b in block_list])
    # development order: near the centre first, with noise so the edge is ragged
    order = np.argsort(distance * rng.uniform(0.4, 1.6, len(block_list)))
    rows: list[tuple] = []
    for index in order:
        block = block_list[index]
        use = _block_use(distance[index], radius, rng)
        if use in ("residential", "mixed"):
            style = "tower" if rng.random() < 0.3 else "slab"
        elif use == "commercial":
            style = "commercial"
        else:
            style = use
        footprints = _fill(block, PATTERNS[style], angle_deg, origin, rng, density)
        if use == "public" and len(footprints) > 4:
            # a school or hospital campus: a few large buildings and open ground
            footprints = list(rng.choice(np.array(footprints, dtype=object), 4, replace=False))
        for footprint in footprints:
            building_use = use
            if use == "residential" and rng.random() < 0.06:
                building_use = "mixed"  # shops on the ground floor of a housing block
            rows.append((footprint, building_use, style, int(index)))
        if len(rows) >= target:
            break
    frame = pd.DataFrame(rows[:target], columns=["geometry", "use", "style", "block"])
    return frame

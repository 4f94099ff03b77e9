"""How big a demo district is: counts per scale, from the seeds' figures for Shenhe."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Target counts for one scale of the demo district."""

    name: str
    streets: int
    communities: int
    grids: int
    buildings: int
    people: int
    cameras: int
    sensors: int
    key_places: int
    enterprises: int
    events: int


# Shenhe: 15 streets, 111 communities, 429 grids, 811 k residents, 5,500 linked cameras.
DISTRICT = Scale(
    "district", streets=15, communities=111, grids=429, buildings=15_000, people=800_000,
    cameras=5_500, sensors=12_000, key_places=650, enterprises=24_000, events=300_000,
)
# The same densities at an eighth of the people, in the same boundary's built-up core.
DEMO = Scale(
    "demo", streets=5, communities=40, grids=150, buildings=3_000, people=100_000,
    cameras=700, sensors=1_500, key_places=120, enterprises=3_000, events=30_000,
)

SCALES = {s.name: s for s in (DEMO, DISTRICT)}

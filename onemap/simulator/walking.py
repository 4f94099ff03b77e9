"""Where a walking grid worker is: along the district's streets, which run on a slightly
rotated grid (etl/demo/layout.py), in L-shaped legs from building to building or to a case.

The demo keeps no road table, only building footprints, and footprints face the streets: the
rotation is read from them (the mean direction of their longest edges, modulo 90 degrees).
Pure: metres in a local flat frame about the district's centre, good to a metre or so over a
district.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Frame:
    """A flat frame in metres about (lon0, lat0), x east and y north."""

    lon0: float
    lat0: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.lon0) * METRES_PER_DEGREE * math.cos(math.radians(self.lat0)),
                (lat - self.lat0) * METRES_PER_DEGREE)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return (self.lon0 + x / (METRES_PER_DEGREE * math.cos(math.radians(self.lat0))),
                self.lat0 + y / METRES_PER_DEGREE)


def street_angle(footprints: Iterable[Sequence[tuple[float, float]]], frame: Frame) -> float:
    """The streets' rotation from east, in radians within ±45°, from the longest edge of each
    footprint (a ring of lon/lat points); 0 when there are none."""
    sin4 = cos4 = 0.0
    for ring in footprints:
        points = [frame.xy(lon, lat) for lon, lat in ring]
        edges = [(b[0] - a[0], b[1] - a[1]) for a, b in zip(points, points[1:])]
        if not edges:
            continue
        dx, dy = max(edges, key=lambda e: math.hypot(*e))
        angle = math.atan2(dy, dx)
        # four times the angle: a street and its cross street are one direction
        sin4 += math.sin(4 * angle)
        cos4 += math.cos(4 * angle)
    if sin4 == cos4 == 0.0:
        return 0.0
    return math.atan2(sin4, cos4) / 4


@dataclass(frozen=True)
class Walk:
    """From `origin` to `target` (lon/lat) along one street axis, then the other, at `speed`
    metres a second, setting off at `start`."""

    frame: Frame
    angle: float
    origin: tuple[float, float]
    target: tuple[float, float]
    speed: float
    start: datetime
    along_first: bool = True  # which axis the first leg follows

    def _legs(self) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        (ax, ay), (bx, by) = self.frame.xy(*self.origin), self.frame.xy(*self.target)
        ux, uy = math.cos(self.angle), math.sin(self.angle)  # along the street axis
        vx, vy = -uy, ux  # across it
        dx, dy = bx - ax, by - ay
        along, across = dx * ux + dy * uy, dx * vx + dy * vy
        if self.along_first:
            corner = (ax + along * ux, ay + along * uy)
        else:
            corner = (ax + across * vx, ay + across * vy)
        return (ax, ay), corner, (bx, by)

    @property
    def metres(self) -> float:
        a, corner, b = self._legs()
        return math.dist(a, corner) + math.dist(corner, b)

    @property
    def arrival(self) -> datetime:
        return self.start + timedelta(seconds=self.metres / self.speed)

    def at(self, when: datetime) -> tuple[float, float]:
        """Where the walker is at `when` (lon/lat): at the origin before setting off, at the
        target once arrived."""
        a, corner, b = self._legs()
        walked = max(0.0, (when - self.start).total_seconds()) * self.speed
        first = math.dist(a, corner)
        if walked <= first:
            share = walked / first if first else 1.0
            x, y = a[0] + (corner[0] - a[0]) * share, a[1] + (corner[1] - a[1]) * share
        else:
            second = math.dist(corner, b)
            share = min(1.0, (walked - first) / second) if second else 1.0
            x, y = corner[0] + (b[0] - corner[0]) * share, corner[1] + (b[1] - corner[1]) * share
        return self.frame.lonlat(x, y)

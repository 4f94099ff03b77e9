"""The district as the map's API shows it, read once at the start: grid labels (their code,
name, community, and a point inside) and building footprints. Each caller sees what its
token's scope lets it see (row-level security): the district for the officers, its own grid
for a grid worker, which is where a worker reports and patrols.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from geobuf import geobuf_pb2
from geobuf.decode import Decoder
from shapely.geometry import shape

from .client import Api
from .scenario import Place

WHOLE_WORLD = "-180,-90,180,90"
CLOSE_UP = 16  # the zoom at which grid labels and buildings are served (layers/)
PAD_DEGREES = 0.01


class PlacesError(RuntimeError):
    """The API would not give the district's layers; the message says what it answered."""


@dataclass(frozen=True)
class Label:
    code: str
    name: str  # the grid's or, for a grid, "community grid"
    lon: float
    lat: float


@dataclass(frozen=True)
class Building:
    id: int
    use: str
    lon: float  # a point inside the footprint
    lat: float
    ring: tuple[tuple[float, float], ...]  # the footprint's outline


class _Decoder(Decoder):
    """geobuf's decoder, reading a missing precision as the format's default of 6 decimal
    places (as the JavaScript decoder does): PostGIS leaves the field out at 6, and geobuf
    2.0's proto3 message reads it as 0. (A written 0 would mean whole degrees: no district's
    coordinates.)"""

    def decode(self, payload: bytes) -> dict:
        data = self.data = geobuf_pb2.Data()
        data.ParseFromString(payload)
        self.e = 10 ** (data.precision or 6)
        self.dim = data.dimensions or 2
        kind = data.WhichOneof("data_type")
        return getattr(self, f"decode_{kind}")(getattr(data, kind))


def decode(payload: bytes) -> dict:
    """A layer's geobuf answer as GeoJSON."""
    return _Decoder().decode(payload)


def _layer(api: Api, token: str, name: str, bbox: str) -> list[dict]:
    answer = api.call(token, "GET", f"/api/layers/{name}", params={"bbox": bbox,
                                                                   "zoom": CLOSE_UP})
    if answer.status != 200 or not isinstance(answer.body, bytes):
        raise PlacesError(f"GET /api/layers/{name}: {answer.status or answer.error}"
                          f" {str(answer.body)[:300]}")
    return decode(answer.body).get("features", [])


def grid_labels(api: Api, token: str) -> list[Label]:
    """Every grid's label point (boundaries are visible to every scope)."""
    labels = []
    for feature in _layer(api, token, "labels", WHOLE_WORLD):
        props = feature["properties"]
        if props.get("level") != "grid":
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        labels.append(Label(props["code"], f"{props.get('parent', '')}{props['name']}",
                            lon, lat))
    return labels


def extent(labels: list[Label]) -> str:
    """A bounding box around the grids, padded: west,south,east,north."""
    if not labels:
        raise PlacesError("the labels layer shows no grid: is a district loaded?")
    lons, lats = [b.lon for b in labels], [b.lat for b in labels]
    return (f"{min(lons) - PAD_DEGREES},{min(lats) - PAD_DEGREES},"
            f"{max(lons) + PAD_DEGREES},{max(lats) + PAD_DEGREES}")


def buildings(api: Api, token: str, bbox: str) -> list[Building]:
    """The footprints the token's scope sees inside `bbox`."""
    found = []
    for feature in _layer(api, token, "buildings", bbox):
        geometry = shape(feature["geometry"])
        if geometry.is_empty:
            continue
        inside = geometry.representative_point()
        polygon = max(getattr(geometry, "geoms", [geometry]), key=lambda g: g.area)
        found.append(Building(int(feature["properties"]["id"]),
                              feature["properties"].get("use", "residential"), inside.x,
                              inside.y, tuple(polygon.exterior.coords)))
    return sorted(found, key=lambda b: b.id)


def as_places(found: list[Building], labels: list[Label]) -> list[Place]:
    """Buildings as places to report from, each named after the nearest grid label."""
    if not found:
        return []
    points = np.array([(b.lon, b.lat) for b in found])
    marks = np.array([(m.lon, m.lat) for m in labels])
    nearest = np.concatenate([  # a thousand buildings at a time: a district has 15,000
        ((chunk[:, None, :] - marks[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        for chunk in np.array_split(points, max(1, len(points) // 1000))])
    return [Place(b.lon, b.lat, b.use, labels[i].name) for b, i in zip(found, nearest)]

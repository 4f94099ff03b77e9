"""A viewport layer's features as geobuf, encoded by PostGIS (ST_AsGeobuf).

The caller passes a scoped connection (geodata/scope.py): what a user receives is what
row-level security lets their scope see, whatever viewport they ask for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geobuf
from sqlalchemy import Connection, text

from .base import Layer

MIN_ZOOM, MAX_ZOOM = 0, 22
HEAT_CELL_PX = 28
_EARTH_CIRCUMFERENCE_M = 40_075_016.686
# geobuf.encode leaves an empty collection without its (empty) feature_collection field, which
# decoders then read as nothing at all: write the field (4, length 0) explicitly
EMPTY = geobuf.encode({"type": "FeatureCollection", "features": []}) + b"\x22\x00"


class BadRequest(ValueError):
    """A viewport or option the layer cannot answer; the message says which and why."""


@dataclass(frozen=True)
class Viewport:
    """A WGS84 box and the zoom it is drawn at."""

    west: float
    south: float
    east: float
    north: float
    zoom: int

    @classmethod
    def parse(cls, bbox: str | None, zoom: str | int | None) -> Viewport:
        """From `bbox=west,south,east,north` and `zoom=z` as a URL gives them."""
        try:
            west, south, east, north = (float(v) for v in (bbox or "").split(","))
        except ValueError:
            raise BadRequest("bbox must be west,south,east,north in degrees") from None
        try:
            z = int(zoom)
        except (TypeError, ValueError):
            raise BadRequest("zoom must be a whole number") from None
        return cls(west, south, east, north, z).checked()

    def checked(self) -> Viewport:
        values = (self.west, self.south, self.east, self.north)
        if not all(math.isfinite(v) for v in values):
            raise BadRequest("bbox values must be finite numbers")
        if not (-180 <= self.west < self.east <= 180 and -90 <= self.south < self.north <= 90):
            raise BadRequest("bbox must satisfy -180 <= west < east <= 180"
                             " and -90 <= south < north <= 90")
        if not MIN_ZOOM <= self.zoom <= MAX_ZOOM:
            raise BadRequest(f"zoom must be between {MIN_ZOOM} and {MAX_ZOOM}")
        return self

    def padded(self, fraction: float) -> Viewport:
        """Grown by `fraction` of its size on each side (features just off screen come along)."""
        dx, dy = (self.east - self.west) * fraction, (self.north - self.south) * fraction
        return Viewport(max(self.west - dx, -180), max(self.south - dy, -90),
                        min(self.east + dx, 180), min(self.north + dy, 90), self.zoom)

    def snapped(self) -> Viewport:
        """Grown outwards to the next half tile of its zoom (a 256-px tile spans 360 / 2^z
        degrees): views a few pixels apart become one question, whose answer screens can
        share (geodata/shared_answers.py), at the cost of at most half a tile a side."""
        step = 180 / 2 ** self.zoom
        down = lambda v, low: max(math.floor(v / step) * step, low)  # noqa: E731
        up = lambda v, high: min(math.ceil(v / step) * step, high)  # noqa: E731
        return Viewport(down(self.west, -180), down(self.south, -90), up(self.east, 180),
                        up(self.north, 90), self.zoom)

    def params(self) -> dict:
        metres_per_px = _EARTH_CIRCUMFERENCE_M / (256 * 2 ** self.zoom)
        return {"west": self.west, "south": self.south, "east": self.east, "north": self.north,
                "zoom": self.zoom, "px_deg": 360 / (256 * 2 ** self.zoom),
                "cell_m": HEAT_CELL_PX * metres_per_px}


def option_params(layer: Layer, given: dict[str, str | None]) -> dict[str, str]:
    """The layer's query options from a request, each checked against its allowed values."""
    params = {}
    for option in layer.query_options():
        value = given.get(option.name) or option.default
        if value not in option.choices:
            raise BadRequest(f"{option.name} must be one of {', '.join(option.values())}")
        params[option.name] = value
    return params


# PostGIS 3.3's ST_AsGeobuf picks its precision by raising it one decimal per coordinate value
# it reads that needs more, so a result of one or two points goes out with 2-4 decimals (up to
# a kilometre off). Results with fewer vertices than this are encoded here at 6 decimals
# instead; bigger ones reach 6 decimals (or the few their coordinates need) inside PostGIS.
FEW_VERTICES = 16


def features_geobuf(conn: Connection, layer: Layer, viewport: Viewport,
                    options: dict[str, str] | None = None) -> bytes:
    """The layer's features in the viewport, as geobuf bytes (an empty collection when none,
    and below the layer's minimum zoom); options are checked at every zoom."""
    if layer.features_sql is None:
        raise BadRequest(f"{layer.name} is not a viewport layer")
    params = {**viewport.params(), **option_params(layer, options or {})}
    if viewport.zoom < layer.min_zoom:  # the one place a layer's minimum zoom is kept
        return EMPTY
    payload, vertices = conn.execute(text(
        f"SELECT ST_AsGeobuf(f, 'geom'), coalesce(sum(ST_NPoints(f.geom)), 0)"
        f" FROM ({layer.features_sql}) AS f"), params).one()
    if not payload:
        return EMPTY
    if vertices < FEW_VERTICES:
        return _few_features_geobuf(conn, layer, params)
    return bytes(payload)


def _few_features_geobuf(conn: Connection, layer: Layer, params: dict) -> bytes:
    collection = conn.execute(text(
        "SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg("
        "  json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(f.geom, 7)::json,"
        "                    'properties', to_jsonb(f) - 'geom')))"
        f" FROM ({layer.features_sql}) AS f"), params).scalar_one()
    return geobuf.encode(collection, 6)

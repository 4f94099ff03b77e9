"""Every viewport layer by name, in drawing order (bottom first), and every layer source the
exports, the OGC API and the tiles give out."""

from __future__ import annotations

from .admin import COMMUNITY_SOURCE, DISTRICT_SOURCE, GRID_SOURCE, STREET_SOURCE
from .base import Layer, Source
from .buildings import BUILDINGS, BUILDINGS_SOURCE, ROOMS_SOURCE
from .devices import CAMERAS, CAMERAS_SOURCE, SENSORS, SENSORS_SOURCE
from .enterprises import ENTERPRISES, ENTERPRISES_SOURCE
from .events import DISPATCH, EVENTS, EVENTS_SOURCE, HEAT_GRID_SOURCE, HEATMAP
from .labels import LABELS
from .people import PERSONS_SOURCE
from .places import KEY_PLACES, KEY_PLACES_SOURCE
from .staff import STAFF, STAFF_SOURCE

VIEWPORT_LAYERS: dict[str, Layer] = {layer.name: layer for layer in (
    HEATMAP, BUILDINGS, LABELS, ENTERPRISES, KEY_PLACES, CAMERAS, SENSORS, DISPATCH, STAFF,
    EVENTS,
)}

# in the order the export page offers them
SOURCES: dict[str, Source] = {source.name: source for source in (
    DISTRICT_SOURCE, STREET_SOURCE, COMMUNITY_SOURCE, GRID_SOURCE, BUILDINGS_SOURCE,
    ROOMS_SOURCE, PERSONS_SOURCE, CAMERAS_SOURCE, SENSORS_SOURCE, KEY_PLACES_SOURCE,
    ENTERPRISES_SOURCE, STAFF_SOURCE, EVENTS_SOURCE, HEAT_GRID_SOURCE,
)}

"""Every viewport layer by name, in drawing order (bottom first)."""

from __future__ import annotations

from .base import Layer
from .buildings import BUILDINGS
from .devices import CAMERAS, SENSORS
from .enterprises import ENTERPRISES
from .events import DISPATCH, EVENTS, HEATMAP
from .labels import LABELS
from .places import KEY_PLACES
from .staff import STAFF

VIEWPORT_LAYERS: dict[str, Layer] = {layer.name: layer for layer in (
    HEATMAP, BUILDINGS, LABELS, ENTERPRISES, KEY_PLACES, CAMERAS, SENSORS, DISPATCH, STAFF,
    EVENTS,
)}

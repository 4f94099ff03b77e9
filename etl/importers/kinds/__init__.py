"""One loader per import kind."""

from __future__ import annotations

from . import boundaries, buildings, households, persons, points, staff
from .common import Loader

LOADERS: dict[str, Loader] = {
    "boundaries": boundaries.LOADER,
    "buildings": buildings.LOADER,
    "households": households.LOADER,
    "persons": persons.LOADER,
    "cameras": points.CAMERAS,
    "sensors": points.SENSORS,
    "places": points.PLACES,
    "enterprises": points.ENTERPRISES,
    "staff": staff.LOADER,
}

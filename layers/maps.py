"""Which layers each map page offers: one `MapSpec` per page, read by its layout
(pages/viewport_map.py) and its callbacks (callbacks/viewport_map.py).

Every component id of a map is prefixed with the page's name, so several maps can live in one
app (as dash-leaflet-docs prefixes its examples' ids).
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Layer, Option
from .registry import VIEWPORT_LAYERS


@dataclass(frozen=True)
class MapSpec:
    """A map page's layers (drawing order from the registry), those shown by default, and the
    prefix of its component ids."""

    prefix: str
    layer_names: tuple[str, ...]
    default_layers: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = set(self.layer_names) - set(VIEWPORT_LAYERS)
        if unknown:
            raise ValueError(f"{self.prefix}: no such viewport layer {sorted(unknown)}")
        names = [option.name for option in self.options()]
        if len(names) != len(set(names)):  # each is one key of the page's URL
            raise ValueError(f"{self.prefix}: two layers share an option name: {names}")

    @property
    def layers(self) -> list[Layer]:
        return [layer for name, layer in VIEWPORT_LAYERS.items() if name in self.layer_names]

    def options(self) -> list[Option]:
        return [option for layer in self.layers for option in layer.options]

    def id(self, part: str) -> str:
        return f"{self.prefix}-{part}"

    def request_id(self, name: str) -> dict:
        """The store through which the browser asks for a layer's features."""
        return {"type": self.id("request"), "name": name}

    def layer_id(self, name: str) -> dict:
        """The component id of a layer's GeoJSON."""
        return {"type": self.id("layer"), "name": name}

    def option_id(self, name: str) -> dict:
        return {"type": self.id("option"), "name": name}


WALL = MapSpec(
    "wall",
    layer_names=("heatmap", "buildings", "labels", "enterprises", "places", "cameras",
                 "sensors", "dispatch", "staff", "events"),
    default_layers=("district", "street", "community", "labels", "heatmap", "sensors",
                    "events"),
)

# the dispatch desk (pages/desk.py): close up around one case, who and what can reach it
DESK = MapSpec(
    "desk",
    layer_names=("buildings", "labels", "places", "cameras", "sensors", "dispatch", "staff",
                 "events"),
    default_layers=("district", "street", "community", "grid", "buildings", "labels", "cameras",
                    "staff", "dispatch", "events"),
)

# the look-up (pages/lookup.py): buildings to pick, and what stands around them
LOOKUP = MapSpec(
    "lookup",
    layer_names=("buildings", "labels", "enterprises", "places", "cameras"),
    default_layers=("district", "street", "community", "grid", "buildings", "labels"),
)

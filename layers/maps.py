"""Which layers each map page offers: one `MapSpec` per page, read by its layout
(pages/viewport_map.py) and its callbacks (callbacks/viewport_map.py).

Every component id of a map is prefixed with the page's name, so several maps can live in one
app (as dash-leaflet-docs prefixes its examples' ids).
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Layer, Option
from .registry import VIEWPORT_LAYERS


# How a page draws the layers it may take from vector tiles: as GeoJSON of the viewport through
# a Dash callback, or from /tiles/ through Leaflet.VectorGrid (assets/map.js, vectorTiles)
DRAW_MODES = ("geojson", "tiles")
# what a VectorGrid can draw of a layer's functions: a path's style, or a point function of
# assets/map.js that makes a circle (not an icon)
CIRCLE_MARKERS = ("pointMarker", "eventMarker", "sensorMarker")


@dataclass(frozen=True)
class MapSpec:
    """A map page's layers (drawing order from the registry), those shown by default, and the
    prefix of its component ids.

    `tile_layers` may be drawn from the vector tiles (/tiles/) instead of the viewport's
    features; `draw` says whether they are ("tiles") or not ("geojson"), unless the URL's
    `draw=` chooses for that view (bench/wall_screen.py measures both). Over a GCJ-02 basemap
    they are always GeoJSON: tiles cannot be shifted onto it.

    `replica`: the page's map reads (its layout's outlines, its layers) go to the read replica
    when there is one (ONEMAP_READ_DATABASE_URL, geodata/scope.py's scoped_read): the wall,
    which only watches; the desk and the look-up read what their user has just written.
    """

    prefix: str
    layer_names: tuple[str, ...]
    default_layers: tuple[str, ...]
    tile_layers: tuple[str, ...] = ()
    draw: str = "geojson"
    replica: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.layer_names) - set(VIEWPORT_LAYERS)
        if unknown:
            raise ValueError(f"{self.prefix}: no such viewport layer {sorted(unknown)}")
        if not set(self.tile_layers) <= set(self.layer_names):
            raise ValueError(f"{self.prefix}: tile layers must be the page's layers")
        for name in self.tile_layers:
            drawing = VIEWPORT_LAYERS[name].display.draw
            if "style" not in drawing and drawing.get("pointToLayer") not in CIRCLE_MARKERS:
                raise ValueError(f"{self.prefix}: {name} is drawn by neither a style nor a"
                                 " circle, so not from tiles")
        if self.draw not in DRAW_MODES:
            raise ValueError(f"{self.prefix}: draw must be one of {', '.join(DRAW_MODES)}")
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
        """The component id of a layer's GeoJSON, or of the LayerGroup its vector tiles are
        drawn in."""
        return {"type": self.id("layer"), "name": name}

    def option_id(self, name: str) -> dict:
        return {"type": self.id("option"), "name": name}


WALL = MapSpec(
    "wall",
    layer_names=("heatmap", "buildings", "labels", "enterprises", "places", "cameras",
                 "sensors", "dispatch", "staff", "events"),
    default_layers=("district", "street", "community", "labels", "heatmap", "sensors",
                    "events"),
    # the densest layers (issue 14): BENCHMARKS.md, "Wall layers: GeoJSON against vector tiles"
    tile_layers=("buildings", "cameras"),
    draw="tiles",
    replica=True,
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

"""Pieces every map page shares: boundary overlays, the basemap, the initial view."""

from __future__ import annotations

import dash_leaflet as dl

from layers.admin import BOUNDARY_LAYERS
from layers.basemaps import BASEMAPS
from onemap.settings import get_settings

DEFAULT_CENTER = [41.80, 123.43]
GCJ02_LATLNG = {"variable": "onemap.map.gcj02LatLng"}


def overlays_need_gcj02() -> bool:
    """Whether the configured basemap is drawn in GCJ-02, so overlays must be shifted onto it."""
    return BASEMAPS[get_settings().basemap].datum == "gcj02"


def coordinate_options() -> dict:
    """GeoJSON props that shift WGS84 features onto a GCJ-02 basemap (none otherwise)."""
    return {"coordsToLatLng": GCJ02_LATLNG} if overlays_need_gcj02() else {}


def boundary_panes() -> list[dl.Pane]:
    """One pane per level, higher levels above lower ones, so a district's edge is never hidden
    under the community outlines that share it."""
    return [dl.Pane(name=f"boundary-{layer.name}", style={"zIndex": 440 - 10 * rank})
            for rank, layer in enumerate(BOUNDARY_LAYERS)]


def boundary_overlays(boundaries: list, id_prefix: str, checked: set[str] | None = None) -> list:
    """An Overlay per boundary level; `checked` names the levels shown (all when None)."""
    return [
        dl.Overlay(dl.GeoJSON(data=data, style=layer.style, pane=f"boundary-{layer.name}",
                              id=f"{id_prefix}-{layer.name}", interactive=False,
                              **coordinate_options()),
                   name=layer.title, checked=checked is None or layer.name in checked)
        for layer, data in boundaries
    ]


def basemap_layers() -> list[dl.TileLayer]:
    """The configured basemap's tile layers (none by default: the centre has no internet, and
    the outlines read well on the dark background)."""
    settings = get_settings()
    basemap = BASEMAPS[settings.basemap]
    return [
        dl.TileLayer(url=url, attribution=basemap.attribution, subdomains=basemap.subdomains,
                     maxZoom=19)
        for url in basemap.tile_urls(settings.basemap_url, settings.tianditu_key)
    ]


def initial_view(bounds: list | None, query: dict) -> dict:
    """Map props for the first view: the URL's lat/lng/z when given, else the unit's bounds.

    dash-leaflet compares the viewport with `center` after every move, so `center` must be set
    even when `bounds` decides the view.
    """
    try:
        lat, lng, zoom = float(query["lat"]), float(query["lng"]), float(query["z"])
        if -90 <= lat <= 90 and -180 <= lng <= 180 and 0 <= zoom <= 20:
            return {"center": [lat, lng], "zoom": zoom}
    except (KeyError, TypeError, ValueError):
        pass
    if bounds:
        (south, west), (north, east) = bounds
        return {"center": [(south + north) / 2, (west + east) / 2], "zoom": 12,
                "viewport": {"bounds": bounds}}
    return {"center": DEFAULT_CENTER, "zoom": 12}

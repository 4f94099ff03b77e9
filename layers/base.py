"""What a layer declaration holds: one declaration serves the map, the layer API and exports."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    """One map layer: where its rows come from, what it shows, and how it looks.

    `features_sql` selects the features inside a viewport. It may use the parameters
    :west :south :east :north (WGS84 degrees), :zoom, :px_deg (a pixel's size in degrees at
    that zoom) and :cell_m (a heat cell's size in metres), plus the layer's own `options`.
    It never filters by scope: row-level security does (geodata/scope.py). Booleans go out as
    0/1 (ST_AsGeobuf would write them as the strings 't' and 'f', and 'f' is true in JS).
    """

    name: str
    title_zh: str
    title_en: str
    table: str
    fields: tuple[str, ...]
    geometry: str = "geom"
    personal_fields: tuple[str, ...] = ()  # masked or withheld by role (issue #4)
    min_zoom: int = 0
    style: dict = field(default_factory=dict)
    features_sql: str | None = None
    live_topic: str | None = None  # reload when this topic of the live clock moves
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> allowed values

    @property
    def title(self) -> str:
        """Chinese first, English second."""
        return f"{self.title_zh} {self.title_en}"

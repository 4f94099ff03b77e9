"""What a layer declaration holds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    """One map layer: where its rows come from, what it shows, and how it looks."""

    name: str
    title_zh: str
    title_en: str
    table: str
    fields: tuple[str, ...]
    geometry: str = "geom"
    personal_fields: tuple[str, ...] = ()  # masked or withheld by role (issue #4)
    min_zoom: int = 0
    style: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """Chinese first, English second."""
        return f"{self.title_zh} {self.title_en}"

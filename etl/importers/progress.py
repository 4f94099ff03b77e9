"""How the importers report progress: a tiny protocol the CLI backs with a rich progress bar."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives one stage at a time (reading, validating, loading) and advances within it."""

    def stage(self, description: str, total: int | None = None) -> None:
        """Start a new stage; `total` steps, or None when unknown."""

    def advance(self, steps: int = 1) -> None:
        """Mark `steps` more steps of the current stage as done."""


class NoProgress:
    """Progress that shows nothing (library calls and tests)."""

    def stage(self, description: str, total: int | None = None) -> None:
        """Ignore the stage."""

    def advance(self, steps: int = 1) -> None:
        """Ignore the step."""

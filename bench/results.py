"""BENCHMARKS.md, one section per benchmark script: each run replaces only its own section."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def write_section(title: str, section: str) -> None:
    """Replace the section headed `title` (or append it), keeping the others as they are."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\n"
    if title in text:
        head, rest = text.split(title, 1)
        tail = rest.split("\n## ", 1)
        text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


def publish(title: str, section: str, *, dry_run: bool = False) -> None:
    """Print the section (dry run) or write it into BENCHMARKS.md, saying so."""
    if dry_run:
        print(section)
    else:
        write_section(title, section)
        print(f"written to {RESULTS}")

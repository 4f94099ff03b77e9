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


def write_first_section(title: str, section: str) -> None:
    """Replace the section headed `title`, or put it first, under the file's own title."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\n"
    if title in text:
        write_section(title, section)
        return
    head, rest = text.split("\n## ", 1) if "\n## " in text else (text.rstrip() + "\n", "")
    RESULTS.write_text(head.rstrip() + "\n\n" + section.rstrip() + "\n"
                       + ("\n## " + rest if rest else ""))


def publish(title: str, section: str, *, dry_run: bool = False) -> None:
    """Print the section (dry run) or write it into BENCHMARKS.md, saying so."""
    if dry_run:
        print(section)
    else:
        write_section(title, section)
        print(f"written to {RESULTS}")

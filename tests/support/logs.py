"""What a server's log must never hold, whatever a test sent it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# SQLAlchemy's bound values, a mainland mobile number or a citizen ID (personal data), an
# unhandled exception
LOG_LEAKS = re.compile(r"\[parameters:|(?<![0-9])1[3-9][0-9]{9}(?![0-9])"
                       r"|(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|Traceback \(most recent call")


def assert_clean_text(text: str, where: str) -> None:
    """Fail when `text` (a log) holds personal data, bound parameters or a traceback."""
    for number, line in enumerate(text.splitlines(), 1):
        found = LOG_LEAKS.search(line)
        assert found is None, f"{where}:{number}: the log holds {found.group(0)[:4]!r}…"


def assert_clean_log(path: Path) -> None:
    """Fail when the server's log file holds personal data, bound parameters or a traceback."""
    assert_clean_text(path.read_text(errors="replace"), str(path))


@contextmanager
def captured_log(path: Path) -> Iterator[Path]:
    """Everything logged in this process while the block runs, tracebacks included, written
    to `path` as a server would write its log; checked with `assert_clean_log` at the end."""
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
    assert_clean_log(path)

"""Component ids the dispatch desk's layout (pages/desk.py) and its callbacks (callbacks/desk.py)
both name, beyond plain strings."""

from __future__ import annotations

# Only roles that approve extensions have this button; the case view reaches it by a pattern
# (ALL), which matches nothing on other roles' pages instead of failing there.
EXTEND_BUTTON = {"type": "desk-gated", "name": "extend"}

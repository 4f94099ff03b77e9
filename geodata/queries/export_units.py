"""The units an export can be narrowed to: the user's own and the streets and communities
within it, by name (boundaries are open to every role; the scope's code bounds the list)."""

from __future__ import annotations

from sqlalchemy import Connection

from ..db import statement

# grids are too many to choose from by name; a drawn area narrows further
_UNITS = """
SELECT a.code, a.level, a.name, p.name AS parent_name
  FROM onemap.admin_unit a LEFT JOIN onemap.admin_unit p ON p.code = a.parent_code
 WHERE starts_with(a.code, :scope)
   AND (a.code = :scope OR a.level IN ('street', 'community'))
 ORDER BY a.code
"""


def units_within(conn: Connection, scope_code: str) -> list[dict]:
    """(code, level, name, parent_name) of the scope's own unit (first) and the streets and
    communities inside it, in code order (a street before its communities)."""
    return [dict(row) for row in conn.execute(statement(_UNITS), {"scope": scope_code})
            .mappings()]

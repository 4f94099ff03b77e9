"""Checks that the hierarchy holds across the whole database (`onemap db check`).

Triggers guard each row as it is written; these queries also catch what triggers cannot:
a parent boundary edited after its children were loaded, siblings that overlap, and point
features filed under a grid they are not in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

# (child table, parent table, foreign key column)
AREA_NESTING = [
    ("street", "district", "district_code"),
    ("community", "street", "street_code"),
    ("grid", "community", "community_code"),
]
# (table, grouping column) for siblings that must not overlap
SIBLINGS = [("street", "district_code"), ("community", "street_code"), ("grid", "community_code")]
POINT_TABLES = ["camera", "sensor", "key_place", "enterprise", "event"]

# Same tolerance as the triggers: 1 m², or 0.1 % of the child's area.
_OUTSIDE = """
SELECT c.code, p.code AS parent, ST_Area(ST_Difference(c.geom, p.geom)::geography) AS outside_m2
FROM onemap.{child} c JOIN onemap.{parent} p ON p.code = c.{fk}
WHERE NOT ST_CoveredBy(c.geom, p.geom)
  AND ST_Area(ST_Difference(c.geom, p.geom)::geography)
      > greatest(1.0, 0.001 * ST_Area(c.geom::geography))
ORDER BY c.code
"""

_OVERLAP = """
SELECT a.code, b.code AS other, ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS overlap_m2
FROM onemap.{table} a JOIN onemap.{table} b
  ON a.{group_col} = b.{group_col} AND a.code < b.code AND a.geom && b.geom
WHERE ST_Overlaps(a.geom, b.geom)
  AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1.0
ORDER BY a.code, b.code
"""

_BUILDING_OUTSIDE_GRID = """
SELECT b.code, b.grid_code
FROM onemap.building b JOIN onemap.grid g ON g.code = b.grid_code
WHERE NOT ST_Covers(g.geom, ST_PointOnSurface(b.geom))
ORDER BY b.code
"""

_POINT_OUTSIDE_GRID = """
SELECT t.id, t.grid_code
FROM onemap.{table} t JOIN onemap.grid g ON g.code = t.grid_code
WHERE NOT ST_Covers(g.geom, t.geom)
ORDER BY t.id
"""


@dataclass(frozen=True)
class Problem:
    """One broken rule: what kind, which row, and the details."""

    rule: str
    table: str
    key: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.table} {self.key} — {self.detail}"


def check_hierarchy(conn: Connection) -> list[Problem]:
    """Every place where the hierarchy does not hold; an empty list means it does."""
    problems: list[Problem] = []
    for child, parent, fk in AREA_NESTING:
        for code, parent_code, outside in conn.execute(
            text(_OUTSIDE.format(child=child, parent=parent, fk=fk))
        ):
            problems.append(Problem(
                "outside_parent", child, code,
                f"{outside:.1f} m² outside {parent} {parent_code}",
            ))
    for table, group_col in SIBLINGS:
        for code, other, overlap in conn.execute(
            text(_OVERLAP.format(table=table, group_col=group_col))
        ):
            problems.append(Problem(
                "overlaps_sibling", table, code, f"overlaps {table} {other} by {overlap:.1f} m²"
            ))
    for code, grid_code in conn.execute(text(_BUILDING_OUTSIDE_GRID)):
        problems.append(Problem("outside_grid", "building", code, f"not inside grid {grid_code}"))
    for table in POINT_TABLES:
        for row_id, grid_code in conn.execute(text(_POINT_OUTSIDE_GRID.format(table=table))):
            problems.append(Problem(
                "outside_grid", table, str(row_id), f"not inside grid {grid_code}"
            ))
    return problems

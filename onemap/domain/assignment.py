"""Where a case goes when it arrives (no Dash, no SQL): the handling department by the
national routing rule, and how near a report must be to a grid or to another case to count.

部件先属主后属地, 事件先属地后属主 (GB/T 30428): a component (部件: a manhole cover, a street
lamp) goes to the department that owns it, and to the territory only when it has no owner; a
matter (事件: rubbish, an illegal structure, a dispute) goes to the territory — the street
office and its grids — and to the owning department only when it is too big for the territory
(a district-tier case: 难事不出区).
"""

from __future__ import annotations

# the territory's own office (geodata/reference/departments.csv: 街道办事处)
TERRITORY_DEPARTMENT = "JD"

# a point on a boundary, or in a sliver between two grids, belongs to the nearest grid this
# close (a phone's fix is good to 5–20 m; boundaries drawn from different maps disagree by more)
GRID_SNAP_METRES = 50

# a report this close to an open case of the same category, this soon after it, is flagged as
# a possible duplicate (疑似重复) for the officer to merge or dismiss
DUPLICATE_METRES = 50
DUPLICATE_HOURS = 24


def handling_department(kind: str, owner: str | None, tier: str) -> str:
    """The department that handles a case of this category kind, owner and tier."""
    if kind == "component":
        return owner or TERRITORY_DEPARTMENT
    if tier == "district":
        return owner or TERRITORY_DEPARTMENT
    return TERRITORY_DEPARTMENT

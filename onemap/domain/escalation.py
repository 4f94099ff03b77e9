"""Who handles a case, and where it goes when it runs out of time (no Dash, no SQL).

琐事不出网格, 小事不出社区, 大事不出街道, 难事不出区: trivial matters stay in the grid,
small ones in the community, big ones in the street, hard ones in the district. A case starts
at the tier its level gives and moves one tier up each time one of its stages runs past its
limit.
"""

from __future__ import annotations

TIERS = ("grid", "community", "street", "district")
TIER_NAMES = {"grid": ("网格", "grid"), "community": ("社区", "community"),
              "street": ("街道", "street"), "district": ("区", "district")}
INITIAL_TIER = {1: "district", 2: "street", 3: "community", 4: "grid", 5: "grid"}


def initial_tier(level: int) -> str:
    return INITIAL_TIER.get(level, "grid")


def next_tier(tier: str) -> str:
    """One tier up; the district is the top (an overdue case there stays there, flagged)."""
    return TIERS[min(TIERS.index(tier) + 1, len(TIERS) - 1)]

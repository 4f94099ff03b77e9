"""绩效考评 The appraisal: a composite score per street, community, grid, department and grid
worker from the KPIs of a month (onemap/domain/kpi.py), weighted by a versioned scheme.

Weights differ by city (DOMAIN.md: e.g. 50 % on-time closure + 30 % closure + 10 % (1 −
rework) + 10 points supervision), so they are configuration: a scheme is a numbered set of
weights, a change of weights is a new scheme, and a frozen month names the scheme it was
scored by (geodata/appraisal.py keeps both; `onemap appraisal` changes them).

Each component is a rate in per cent where more is better: a rate where less is better (rework,
extension) counts as 100 minus the rate; `supervision` is the share of the unit's cases due
that needed no supervision notice (督办), so the notices a unit drew cost it points. A unit
with no case due in the month has no score and no rank (nothing to judge it by).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .kpi import KPIS

LEVELS = {"street": ("街道", "streets"), "community": ("社区", "communities"),
          "grid": ("网格", "grids"), "department": ("部门", "departments"),
          "staff": ("网格员", "grid workers")}
SUPERVISION = "supervision"
# what a weight may be put on: the rates, and the supervision points
COMPONENTS = (*(key for key, item in KPIS.items() if item.is_rate), SUPERVISION)
# a rate where less is better counts as 100 minus the rate, and is named so
COMPONENT_NAMES = {**{key: KPIS[key].zh if KPIS[key].higher_is_better is not False
                      else f"100−{KPIS[key].zh}" for key in COMPONENTS if key in KPIS},
                   SUPERVISION: "未被督办率"}
DEFAULT_WEIGHTS = {"on_time_closure_rate": 0.5, "closure_rate": 0.3, "rework_rate": 0.1,
                   SUPERVISION: 0.1}


class BadWeights(ValueError):
    """Weights that do not make a scheme; the message says which and why."""


def checked_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights, if they make a scheme: known components, each above 0, summing to 1."""
    if not weights:
        raise BadWeights("a scheme needs at least one weight")
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise BadWeights(f"unknown component(s) {', '.join(unknown)}: choose from "
                         f"{', '.join(COMPONENTS)}")
    for key, weight in weights.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool) or not weight > 0:
            raise BadWeights(f"weight of {key} must be a number above 0, not {weight!r}")
    total = sum(weights.values())
    if abs(total - 1) > 1e-6:
        raise BadWeights(f"weights must add up to 1, these add up to {total:g}")
    return {key: float(weight) for key, weight in weights.items()}


@dataclass(frozen=True)
class Scheme:
    version: int
    weights: dict[str, float]
    note: str = ""


def component(key: str, values: Mapping[str, float | None],
              supervised: int = 0, due: int = 0) -> float | None:
    """One component in per cent, more being better; None when it cannot be measured."""
    if key == SUPERVISION:
        return None if not due else (1 - min(supervised, due) / due) * 100
    value = values.get(key)
    if value is None:
        return None
    return value if KPIS[key].higher_is_better is not False else 100 - value


def score(scheme: Scheme, values: Mapping[str, float | None], supervised: int = 0,
          due: int = 0) -> float | None:
    """The composite score (0–100) by the scheme; None when the unit had no case due or a
    weighted component cannot be measured."""
    if not due:
        return None
    parts = [(weight, component(key, values, supervised, due))
             for key, weight in scheme.weights.items()]
    if any(part is None for _weight, part in parts):
        return None
    return sum(weight * part for weight, part in parts)


def ranked(scores: Iterable[tuple[str, float | None]]) -> dict[str, int | None]:
    """Rank by score, best first; equal scores share a rank (1, 2, 2, 4); no score, no rank."""
    scored = sorted(((key, round(value, 2)) for key, value in scores if value is not None),
                    key=lambda item: -item[1])
    ranks: dict[str, int | None] = {}
    for position, (key, value) in enumerate(scored, start=1):
        previous = scored[position - 2] if position > 1 else None
        ranks[key] = ranks[previous[0]] if previous and previous[1] == value else position
    return ranks

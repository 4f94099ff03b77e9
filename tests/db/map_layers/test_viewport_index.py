"""Viewport queries keep their spatial index under row-level security, as the app's role."""

from __future__ import annotations

import pytest
from layers.features import Viewport, option_params
from layers.registry import VIEWPORT_LAYERS
from sqlalchemy import text

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.world import point


@pytest.mark.parametrize("name, table", [("buildings", "building"), ("cameras", "camera"),
                                         ("sensors", "sensor"), ("places", "key_place"),
                                         ("staff", "staff"), ("enterprises", "enterprise")])
def test_viewport_queries_use_an_index_as_the_app_role(conn, world, name, table):
    """Row-level security must not switch off the spatial index: PostGIS's && is not
    leakproof, so `geom && bbox` under the scope policy scanned the whole table."""
    layer = VIEWPORT_LAYERS[name]
    x, y = point(conn, world["a"])
    params = {**Viewport(x - 0.01, y - 0.01, x + 0.01, y + 0.01, 18).checked().params(),
              **option_params(layer, {})}
    with as_app(conn, world["a"][:6]):
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # tables this small would scan
        plan = "\n".join(conn.execute(text("EXPLAIN " + layer.features_sql), params).scalars())
        conn.execute(text("SET LOCAL enable_seqscan = on"))
    # an index condition on the table's own scan narrows the rows before the policy runs;
    # without one the whole table is read (the scope policy first, then the bounding box)
    assert _scan_is_narrowed(plan, table), plan


def _scan_is_narrowed(plan: str, table: str) -> bool:
    """Whether the plan's scan of `table` has an index condition of its own."""
    lines = plan.splitlines()
    for number, line in enumerate(lines):
        if f" on {table} " in line + " " and "Scan" in line:
            details = []
            for following in lines[number + 1:]:
                if "->" in following:
                    break
                details.append(following)
            return any(("Index Cond" in d or "Recheck Cond" in d) for d in details)
    return False

"""The heatmap layer: events reported in a window, binned coarser when zoomed out."""

from __future__ import annotations

import pytest

from tests.db.map_layers.app_role import as_app
from tests.db.map_layers.geobuf_reading import layer_features
from tests.db.map_layers.world import add_event, point
from tests.fixtures.hierarchy import DISTRICT


@pytest.mark.parametrize("window, expected_ages", [
    ("1h", ("10 minutes", "50 minutes")),
    ("24h", ("10 minutes", "50 minutes", "3 hours", "23 hours")),
    ("7d", ("10 minutes", "50 minutes", "3 hours", "23 hours", "3 days")),
])
def test_heatmap_counts_the_events_reported_in_the_window(conn, world, window, expected_ages):
    a, d = world["a"], world["d"]
    ages = ("10 minutes", "50 minutes", "3 hours", "23 hours", "3 days", "30 days")
    for n, age in enumerate(ages):
        for g in (a, d):
            add_event(conn, f"H-{g[6:]}-{n}", g, point(conn, g, 0.002 * n, 0.001), age=age,
                      state="closed" if n % 2 else "reported")
    # the world's events (an open and a closed case per grid) are new: in every window
    expected = 2 * len(expected_ages) + 2 * len(world["grids"])
    for zoom in (13, 16, 18):
        with as_app(conn, DISTRICT):
            cells = layer_features(conn, "heatmap", zoom, window=window)
        counts = [f["properties"]["n"] for f in cells]
        assert all(n > 0 for n in counts)
        assert sum(counts) == expected, (zoom, counts)
        assert all(f["geometry"]["type"] == "Point" for f in cells)


def test_heatmap_bins_fewer_cells_when_zoomed_out(conn, world):
    a = world["a"]
    for n in range(10):
        add_event(conn, f"H-{n}", a, point(conn, a, 0.0015 * n, 0.0015 * n))
    with as_app(conn, DISTRICT):
        near = layer_features(conn, "heatmap", 18)
        far = layer_features(conn, "heatmap", 12)
    assert len(far) < len(near)
    total = 10 + 2 * len(world["grids"])
    assert sum(f["properties"]["n"] for f in far) == total
    assert sum(f["properties"]["n"] for f in near) == total

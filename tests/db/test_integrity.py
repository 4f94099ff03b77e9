"""`onemap db check` finds what row triggers cannot see."""

from __future__ import annotations

import subprocess

from sqlalchemy import text

from geodata.integrity import check_hierarchy
from tests.conftest import onemap_command
from tests.fixtures.hierarchy import _mp, grid_box, insert_building, insert_hierarchy


def test_a_consistent_hierarchy_has_no_problems(conn):
    codes = insert_hierarchy(conn)
    insert_building(conn, codes["grid"][0], "B-1")
    assert check_hierarchy(conn) == []


def test_shrinking_a_parent_after_its_children_were_loaded_is_found(conn):
    codes = insert_hierarchy(conn)
    community = codes["community"][0]
    # the community loses its western half; its first grid now lies outside it
    conn.execute(text(
        "UPDATE community SET geom = ST_Multi(ST_Intersection(geom,"
        " (SELECT geom FROM grid WHERE code = :g2))) WHERE code = :c"),
        {"c": community, "g2": codes["grid"][1]})
    problems = check_hierarchy(conn)
    assert [(p.rule, p.table, p.key) for p in problems] == [
        ("outside_parent", "grid", codes["grid"][0])
    ]
    assert f"outside community {community}" in problems[0].detail


def test_overlapping_sibling_grids_and_misfiled_points_are_found(conn):
    codes = insert_hierarchy(conn)
    g1, g2 = codes["grid"][0], codes["grid"][1]
    x0, y0, x1, y1 = grid_box(conn, g1)
    conn.execute(text("UPDATE grid SET geom = ST_GeomFromText(:g, 4326) WHERE code = :c"),
                 {"c": g1, "g": _mp(x0, y0, x1 + 0.002, y1)})  # reaches into g2
    conn.execute(text(
        "INSERT INTO camera (code, name, owner, kind, fov_deg, range_m, status, grid_code, geom)"
        " VALUES ('21010300001310000001', '青年大街口', 'police', 'hd_dome', 360, 80, 'online',"
        " :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"),
        {"g": g1, "x": x1 + 0.005, "y": (y0 + y1) / 2})
    rules = {(p.rule, p.table) for p in check_hierarchy(conn)}
    assert ("overlaps_sibling", "grid") in rules
    assert ("outside_grid", "camera") in rules
    assert g2 in " ".join(p.detail for p in check_hierarchy(conn) if p.rule == "overlaps_sibling")


def test_the_cli_exits_non_zero_and_names_each_problem(engine, cli_env):
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        conn.execute(text("UPDATE community SET geom = ST_Multi(ST_Intersection(geom,"
                          " (SELECT geom FROM grid WHERE code = :g2))) WHERE code = :c"),
                     {"c": codes["community"][0], "g2": codes["grid"][1]})
    try:
        result = subprocess.run([onemap_command(), "db", "check"], env=cli_env,
                                capture_output=True, text=True)
        assert result.returncode == 1
        assert f"grid {codes['grid'][0]}" in result.stdout
        assert "1 problem(s) found" in result.stderr
    finally:
        with engine.begin() as conn:
            for table in ("grid", "community", "street", "district"):
                conn.execute(text(f"DELETE FROM {table}"))
    ok = subprocess.run([onemap_command(), "db", "check"], env=cli_env,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "hierarchy consistent" in ok.stdout

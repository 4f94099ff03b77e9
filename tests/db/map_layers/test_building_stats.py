"""Building counts (residents, key groups): refreshed by the owner, read by the app in scope."""

from __future__ import annotations

from geodata.building_stats import refresh_building_stats
from geodata.queries.details import card
from sqlalchemy import text

from tests.db.map_layers.app_role import as_app, refused
from tests.db.map_layers.geobuf_reading import layer_features
from tests.db.map_layers.world import add_person
from tests.fixtures.hierarchy import insert_building, insert_household


def test_building_counts_residents_and_key_groups(conn, world):
    a = world["a"]
    building = world["building"][a]
    room1 = insert_household(conn, building, "101", floor=1)
    room2 = insert_household(conn, building, "102", floor=1)
    add_person(conn, 1, room1, tag="elderly_alone")
    add_person(conn, 2, room2)
    add_person(conn, 3, room2, kind="registered", tag="disabled")  # lives elsewhere
    # a sensitive tag is never counted: the count would disclose it to every role
    other = insert_building(conn, a, "B-OTHER", inset=0.004)
    add_person(conn, 4, insert_household(conn, other, "201"), sensitive_tag="community_correction")
    counted = refresh_building_stats(conn)
    total = conn.execute(text("SELECT count(*) FROM building")).scalar_one()
    assert counted == total == len(world["grids"]) + 1
    stats = {row.building_id: (row.residents, row.key_group, row.grid_code) for row in conn.execute(
        text("SELECT building_id, residents, key_group, grid_code FROM building_stat"))}
    assert stats[building] == (2, 1, a)
    assert stats[other] == (1, 0, a)
    assert stats[world["building"][world["b"]]] == (0, 0, world["b"])
    with as_app(conn, a):
        shown = {int(f["properties"]["id"]): f["properties"]
                 for f in layer_features(conn, "buildings", 16)}
        assert shown[building]["residents"] == 2 and shown[building]["key_group"] == 1
        assert shown[other]["residents"] == 1 and shown[other]["key_group"] == 0
        assert set(shown) == {building, other}
        assert card(conn, "buildings", building)["residents"] == 2
        assert card(conn, "buildings", building)["households"] == 2


def test_refreshing_again_replaces_the_counts(conn, world):
    a = world["a"]
    building = world["building"][a]
    room = insert_household(conn, building, "101")
    refresh_building_stats(conn)
    assert conn.execute(text("SELECT residents FROM building_stat WHERE building_id = :b"),
                        {"b": building}).scalar_one() == 0
    add_person(conn, 5, room, tag="veteran")
    refresh_building_stats(conn)
    assert conn.execute(text("SELECT residents, key_group FROM building_stat"
                             " WHERE building_id = :b"), {"b": building}).one() == (1, 1)
    assert conn.execute(text("SELECT count(*) FROM building_stat")).scalar_one() == len(
        world["grids"])


def test_the_app_reads_building_counts_in_scope_but_never_writes_them(conn, world):
    a, b = world["a"], world["b"]
    refresh_building_stats(conn)
    with as_app(conn, a):
        assert list(conn.execute(text("SELECT building_id FROM building_stat")).scalars()) == [
            world["building"][a]]
        refused(conn, "INSERT INTO onemap.building_stat (building_id, grid_code, residents,"
                      " key_group) VALUES (:b, :g, 99, 99)",
                {"b": world["building"][b], "g": b})
        refused(conn, "UPDATE onemap.building_stat SET residents = 99")
        refused(conn, "DELETE FROM onemap.building_stat")
        refused(conn, "SELECT onemap.refresh_building_stats()")

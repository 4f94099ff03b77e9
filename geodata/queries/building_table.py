"""The building table (楼盘表) and the household card (以房找人), on a scoped connection.

Row-level security decides what the caller sees: a building or room outside the scope is None,
exactly like a missing one, and tags the caller may not see (person_sensitive_tag without
VIEW_SENSITIVE_TAGS) are simply absent from the rows the database returns.

How the data model numbers rooms: a room (household) belongs to one unit (单元, 1..n) and one
floor of it (basements negative); its `room_number` is unique within the unit and, as housing
registers and the demo write it, floor × 100 + door ("501" is door 1 on floor 5). A room's
label is "<unit>-<room_number>" ("2-501"); with the building's address in front it is the
room's full address ("和平路 206 号 6 栋 2-501").

When an event is "at" an address. An event has a point, an address text and a grid; nothing
links it to a room. The rule here:
- at the building: the event's point lies within `AT_BUILDING_M` metres of the footprint, or its
  address text names the building (the building's address, alone, followed by "附近" as
  reports word it, or followed by a room of it), provided its point lies within `NAMED_NEAR_M`
  metres of the footprint (the event's address has no index, so candidates come by place: a
  case named after a building but geocoded farther away, or outside every grid, is not counted);
- at a room: the address text names the building and then the room: after the building's
  address, ignoring spaces, "2-501", "2单元501" or "2单元501室" (optionally with "附近").
  A point cannot tell floors apart, so nothing is put at a room by its point alone.
`open_cases` of the building counts every open case at it, those at its rooms included.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

AT_BUILDING_M = 10      # a point this close to the footprint is at the building
NAMED_NEAR_M = 100      # how far a case named after the building may lie from its footprint
CASE_HISTORY_LIMIT = 50
# a box in degrees holding NAMED_NEAR_M around the footprint at the district's latitude (the
# index's first cut; the exact distance in metres follows)
_NEAR_DEGREES = 0.0015

# The part of an event's address after the building's own, normalised to a room label:
# '' = the building itself, '2-501' = a room, anything else (or NULL) = another place.
_ROOM_KEY = r"""
CASE WHEN starts_with(e.address, b.address) THEN
  regexp_replace(
    replace(regexp_replace(substr(e.address, length(b.address) + 1), '\s+', '', 'g'),
            '单元', '-'),
    '室?(附近)?$', '')
END"""

_LABEL = "^[0-9]+-[0-9A-Za-z]+$"  # a room key that names a room, "2-501"

# The building `b` with the grids within reach of it (materialised: the planner must not fold
# it into the event scan, which loses the grid index)
_THE_BUILDING = f"""
WITH b AS MATERIALIZED (
    SELECT b.*, ARRAY(SELECT g.code FROM onemap.grid g
                      WHERE g.geom && ST_Expand(b.geom, {_NEAR_DEGREES})) AS near_grids
    FROM onemap.building b WHERE b.id = :id
)"""

# Cases near the building, each with its room key; `b` is _THE_BUILDING. Candidates come by
# the grids within reach (an equality on the event's grid code is leakproof, so the index serves
# it under row-level security, where PostGIS's && is not and would check every event's scope
# first), then the box, then the exact distance in metres.
def _cases_near(*, open_only: bool, named_only: bool = False) -> str:
    return f"""
SELECT e.id, e.code, e.title, e.state, e.reported_at, e.category_code, e.geom,
       {_ROOM_KEY} AS room_key
FROM onemap.event e
WHERE e.grid_code = ANY (CAST((SELECT near.near_grids FROM b AS near) AS varchar[]))
  {"AND onemap.event_is_open(e.state)" if open_only else ""}
  {"AND starts_with(e.address, b.address)" if named_only else ""}
  AND e.geom && ST_Expand(b.geom, {_NEAR_DEGREES})
  AND ST_DWithin(e.geom::geography, b.geom::geography, {NAMED_NEAR_M})
"""


BUILDING = f"""{_THE_BUILDING}
SELECT b.id, b.code, b.name, b.address, b.road, b.house_number, b.use, b.floors_above,
       b.floors_below, b.unit_count, b.grid_code,
       ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
       ST_YMin(b.geom) AS south, ST_XMin(b.geom) AS west,
       ST_YMax(b.geom) AS north, ST_XMax(b.geom) AS east,
       (SELECT coalesce(json_object_agg(k.at, k.n), '{{}}')
        FROM (SELECT a.at, count(*) AS n
              FROM ({_cases_near(open_only=True)}) c,
                   LATERAL (SELECT CASE
                       WHEN c.room_key ~ '{_LABEL}' THEN c.room_key
                       WHEN c.room_key = ''
                            OR ST_DWithin(c.geom::geography, b.geom::geography,
                                          {AT_BUILDING_M}) THEN ''
                   END AS at) a
              WHERE a.at IS NOT NULL
              GROUP BY a.at) k) AS open_by_room
FROM b, ST_PointOnSurface(b.geom) AS p(geom)
"""

# Every room with its counts and the key-group tags of the people living there (residents:
# the badges are for whoever a visit would find); sensitive tags come only from rows the
# database lets this session read.
CELLS = """
WITH rooms AS (
    SELECT h.id, u.number AS unit, f.number AS floor, h.room_number, h.occupancy, h.area_m2
    FROM onemap.household h
    JOIN onemap.unit u ON u.id = h.unit_id
    JOIN onemap.floor f ON f.id = h.floor_id
    WHERE h.building_id = :id
), links AS (
    SELECT ph.household_id, ph.person_id, ph.kind
    FROM onemap.person_household ph
    WHERE ph.household_id IN (SELECT id FROM rooms)
), counts AS (
    SELECT household_id, count(*) FILTER (WHERE kind = 'residence') AS residents,
           count(*) FILTER (WHERE kind = 'registered') AS registered
    FROM links GROUP BY household_id
), tagged AS (
    SELECT l.household_id, t.tag, count(*) AS n
    FROM links l
    JOIN (SELECT person_id, tag FROM onemap.person_tag
          UNION ALL SELECT person_id, tag FROM onemap.person_sensitive_tag) t
      ON t.person_id = l.person_id
    WHERE l.kind = 'residence'
    GROUP BY l.household_id, t.tag
), badges AS (
    SELECT t.household_id,
           json_agg(json_build_object('code', k.code, 'name_zh', k.name_zh,
                                      'name_en', k.name_en, 'sensitive', k.sensitive,
                                      'count', t.n) ORDER BY k.sensitive, k.code) AS badges
    FROM tagged t JOIN onemap.tag_kind k ON k.code = t.tag
    GROUP BY t.household_id
)
SELECT r.id AS household_id, r.unit, r.floor, r.room_number, r.occupancy, r.area_m2,
       coalesce(c.residents, 0) AS residents, coalesce(c.registered, 0) AS registered,
       coalesce(bd.badges, '[]') AS badges
FROM rooms r
LEFT JOIN counts c ON c.household_id = r.id
LEFT JOIN badges bd ON bd.household_id = r.id
ORDER BY r.unit, r.floor DESC, r.room_number
"""

ROOM = """
SELECT h.id AS household_id, u.number AS unit, f.number AS floor, h.room_number,
       h.occupancy, h.area_m2, b.id AS building_id, b.code AS building_code,
       b.name AS building_name, b.address AS building_address, b.grid_code
FROM onemap.household h
JOIN onemap.unit u ON u.id = h.unit_id
JOIN onemap.floor f ON f.id = h.floor_id
JOIN onemap.building b ON b.id = h.building_id
WHERE h.id = :id
"""

# One row a person linked to the room: how (lives here, registered here, or both), the
# relation to the householder (the residence's when both), the other home the database lets
# this session see, and the tags it may see. Ordered by relation and id, never by birth date
# (the order would tell the masked birth dates apart).
MEMBERS = """
WITH here AS (
    SELECT ph.person_id,
           bool_or(ph.kind = 'residence') AS lives_here,
           bool_or(ph.kind = 'registered') AS registered_here,
           (array_agg(ph.relation ORDER BY ph.kind = 'residence' DESC))[1] AS relation
    FROM onemap.person_household ph
    WHERE ph.household_id = :id
    GROUP BY ph.person_id
)
SELECT p.id AS person_id, p.name, p.gender, p.birth_date, p.id_number, p.passport_number,
       p.phone, p.population_type, here.relation, here.lives_here, here.registered_here,
       other.kind AS other_kind, other.household_id AS other_household_id,
       other.building_id AS other_building_id, other.label AS other_label,
       other.address AS other_address,
       (SELECT coalesce(json_agg(json_build_object(
                    'code', k.code, 'name_zh', k.name_zh, 'name_en', k.name_en,
                    'sensitive', k.sensitive) ORDER BY k.sensitive, k.code), '[]')
        FROM (SELECT tag FROM onemap.person_tag WHERE person_id = p.id
              UNION ALL SELECT tag FROM onemap.person_sensitive_tag WHERE person_id = p.id) t
        JOIN onemap.tag_kind k ON k.code = t.tag) AS tags
FROM here
JOIN onemap.person p ON p.id = here.person_id
LEFT JOIN LATERAL (
    SELECT ph.kind, h.id AS household_id, h.building_id,
           u.number || '-' || h.room_number AS label, b.address
    FROM onemap.person_household ph
    JOIN onemap.household h ON h.id = ph.household_id
    JOIN onemap.unit u ON u.id = h.unit_id
    JOIN onemap.building b ON b.id = h.building_id
    WHERE ph.person_id = p.id AND ph.household_id <> :id
    LIMIT 1
) other ON true
ORDER BY array_position(ARRAY['householder', 'spouse', 'child', 'parent', 'grandchild',
                              'grandparent', 'sibling', 'other_relative', 'tenant', 'other'],
                        here.relation::text),
         p.id
"""

ROOM_CASES = f"""{_THE_BUILDING}
SELECT c.id, c.code, c.title, c.state, c.reported_at, c.category_code AS category
FROM b, LATERAL ({_cases_near(open_only=False, named_only=True)}) c
WHERE c.room_key = :label
ORDER BY c.reported_at DESC, c.id DESC
LIMIT {CASE_HISTORY_LIMIT}
"""


def room_label(unit: int, room_number: str) -> str:
    """A room's label within its building: "<unit>-<room_number>", e.g. "2-501"."""
    return f"{unit}-{room_number}"


def _floors(building: dict, cells: list[dict]) -> list[int]:
    """Every storey the building declares, and any a room stands on, top first."""
    declared = set(range(1, building["floors_above"] + 1))
    declared |= {-n for n in range(1, building["floors_below"] + 1)}
    return sorted(declared | {c["floor"] for c in cells}, reverse=True)


def _units(building: dict, cells: list[dict]) -> list[int]:
    return sorted(set(range(1, building["unit_count"] + 1)) | {c["unit"] for c in cells})


def building_table(conn: Connection, building_id: int) -> dict | None:
    """The building as a unit × floor matrix of its rooms (see the module's docstring for how
    rooms are numbered and which cases count as at a room), or None when the building does not
    exist or is outside the caller's scope. Two round trips whatever the building's size."""
    row = conn.execute(text(BUILDING), {"id": building_id}).mappings().one_or_none()
    if row is None:
        return None
    building = dict(row)
    open_by_room: dict[str, int] = building.pop("open_by_room")  # '' = the building itself
    south, west, north, east = (building.pop(k) for k in ("south", "west", "north", "east"))
    building["bounds"] = [[south, west], [north, east]]
    cells = []
    for r in conn.execute(text(CELLS), {"id": building_id}).mappings():
        label = room_label(r["unit"], r["room_number"])
        cells.append({
            "unit": r["unit"], "floor": r["floor"], "household_id": r["household_id"],
            "room_number": r["room_number"], "label": label, "occupancy": r["occupancy"],
            "area_m2": float(r["area_m2"]) if r["area_m2"] is not None else None,
            "residents": r["residents"], "registered": r["registered"],
            "badges": r["badges"], "open_cases": open_by_room.get(label, 0),
        })
    return {"building": building, "units": _units(building, cells),
            "floors": _floors(building, cells), "cells": cells,
            "open_cases": sum(open_by_room.values())}


def _other_home(row: dict) -> dict | None:
    if row["other_household_id"] is None:
        return None
    return {"kind": row["other_kind"], "household_id": row["other_household_id"],
            "building_id": row["other_building_id"], "label": row["other_label"],
            "address": row["other_address"]}


def household_card(conn: Connection, household_id: int) -> dict | None:
    """One room with its members and its cases, or None when the room does not exist or is
    outside the caller's scope.

    A member's `kind` is "residence" when they live here (whether or not registered here too)
    and "registered" when they are registered here but live elsewhere; `registered_here` says
    which residents are registered here as well. `other_home` is the person's other household:
    their registered one for a resident living apart from their registration (人户分离), their
    actual residence for one registered here who lives elsewhere. It is null both when that
    home is this room and when it is outside the caller's scope: the database hides such a
    home, and does not say whether one exists. Members are unmasked here: the API masks them.
    """
    room = conn.execute(text(ROOM), {"id": household_id}).mappings().one_or_none()
    if room is None:
        return None
    card = dict(room)
    card["label"] = room_label(card["unit"], card["room_number"])
    card["area_m2"] = float(card["area_m2"]) if card["area_m2"] is not None else None
    members = []
    for r in conn.execute(text(MEMBERS), {"id": household_id}).mappings():
        members.append({
            "person_id": r["person_id"], "name": r["name"], "gender": r["gender"],
            "birth_date": r["birth_date"].isoformat(), "id_number": r["id_number"],
            "passport_number": r["passport_number"], "phone": r["phone"],
            "population_type": r["population_type"], "relation": r["relation"],
            "kind": "residence" if r["lives_here"] else "registered",
            "registered_here": r["registered_here"], "other_home": _other_home(r),
            "tags": r["tags"],
        })
    card["members"] = members
    cases = conn.execute(text(ROOM_CASES),
                         {"id": card["building_id"], "label": card["label"]})
    card["cases"] = [dict(c, reported_at=c["reported_at"].isoformat())
                     for c in cases.mappings()]
    return card

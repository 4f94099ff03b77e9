"""The one search box's queries (issue 12): people, rooms, buildings, enterprises, key places.

Everything runs on a scoped connection (geodata/scope.py). People are matched by
`onemap.lookup_person_ids` (migrations 0021, 0022: through the indexes, kept to the session's
scope) and then read here by id through row-level security again, so the database decides what
is seen twice over; enterprises by name likewise (`onemap.lookup_enterprise_ids`). The other
kinds filter with equality first (leakproof: row-level security checks only what the index
finds) or scan tables small enough to scan (key places).
No query text ever becomes a LIKE pattern: `%`, `_` and `\\` match themselves.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.domain.lookup_query import Kind, LookupQuery, after, room_label
from geodata.pinyin import query_pinyin

# each person kind with the database function's kinds that answer it, in order: a name with a
# wrong character is first its homophones (the pinyin input method's usual slip: the same
# pinyin), then names sharing its other characters (trigrams of the characters)
_PERSON_SEARCHES = (
    (Kind.ID_NUMBER, ("id_number",)), (Kind.PHONE, ("phone",)), (Kind.ID_SUFFIX, ("id_suffix",)),
    (Kind.NAME, ("name",)), (Kind.PINYIN, ("pinyin",)), (Kind.NAME_PREFIX, ("name_prefix",)),
    (Kind.PINYIN_PREFIX, ("pinyin_prefix",)), (Kind.INITIALS, ("initials",)),
    (Kind.NAME_FUZZY, ("pinyin", "name_fuzzy")), (Kind.PINYIN_FUZZY, ("fuzzy",)),
)
_FUZZY = (Kind.NAME_FUZZY, Kind.PINYIN_FUZZY)

PERSON_IDS = "SELECT onemap.lookup_person_ids(:kind, :q, :after, :limit)"

# the people found, read through row-level security, each with the home the map goes to
# (where they live, else where they are registered)
PEOPLE = """
SELECT p.id, p.name, p.gender, p.birth_date, p.id_number, p.phone, p.population_type,
       home.household_id, home.building_id, home.building_name, home.unit, home.room_number,
       home.address, home.grid_code
FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS found (id, rank)
JOIN onemap.person p ON p.id = found.id
LEFT JOIN LATERAL (
  SELECT h.id AS household_id, h.building_id, b.name AS building_name, u.number AS unit,
         h.room_number, b.address, b.grid_code
  FROM onemap.person_household ph
  JOIN onemap.household h ON h.id = ph.household_id
  JOIN onemap.unit u ON u.id = h.unit_id
  JOIN onemap.building b ON b.id = h.building_id
  WHERE ph.person_id = p.id
  ORDER BY ph.kind = 'residence' DESC
  LIMIT 1
) home ON true
ORDER BY found.rank
"""

_ROOM_COLUMNS = """
SELECT h.id AS household_id, h.building_id, b.name AS building_name, u.number AS unit,
       h.room_number, h.occupancy, b.address, b.grid_code
FROM onemap.building b
JOIN onemap.unit u ON u.building_id = b.id AND u.number = :unit
JOIN onemap.household h ON h.unit_id = u.id AND h.room_number = :room
"""
_BUILDING_NUMBER = "substring(b.name from '^\\s*([0-9]+)') = :number"
ROOMS = {
    # the chosen building itself
    "building": _ROOM_COLUMNS + "WHERE b.id = :building_id ORDER BY b.id LIMIT :limit",
    # building 3 of the chosen building's compound (same road and house number)
    "compound": _ROOM_COLUMNS + f"""
JOIN onemap.building chosen ON chosen.id = :building_id
 AND (b.id = chosen.id OR (b.road = chosen.road AND b.house_number = chosen.house_number))
WHERE {_BUILDING_NUMBER} ORDER BY b.address, b.id LIMIT :limit""",
    # inside a community (or the caller's own community or grid)
    "area": _ROOM_COLUMNS + """
WHERE b.grid_code IN (SELECT g.code FROM onemap.grid g WHERE starts_with(g.code, :area))
  AND (CAST(:number AS text) IS NULL OR """ + _BUILDING_NUMBER + """)
ORDER BY b.address, b.id LIMIT :limit""",
}

_BUILDING_COLUMNS = """
SELECT b.id, b.name, b.address, b.grid_code, ST_X(pt.geom) AS lon, ST_Y(pt.geom) AS lat
FROM onemap.building b CROSS JOIN LATERAL ST_PointOnSurface(b.geom) AS pt (geom)
"""
_HOUSE_NUMBER = "substring(b.house_number from '[0-9]+')"
BUILDINGS = {
    "road": _BUILDING_COLUMNS + "WHERE b.road = :road",
    "number": _BUILDING_COLUMNS
    + "WHERE b.road = :road AND b.house_number IN (:house, :house_no)",
    "building": _BUILDING_COLUMNS
    + "WHERE b.road = :road AND b.house_number IN (:house, :house_no) AND "
    + _BUILDING_NUMBER,
}
_BUILDING_ORDER = (f" ORDER BY length({_HOUSE_NUMBER}), {_HOUSE_NUMBER},"
                   " length(b.name), b.name, b.id LIMIT :limit")

# enterprises: by credit code (equality, leakproof: row-level security checks only what the
# index finds), or by part of the name through onemap.lookup_enterprise_ids (migration 0022:
# matched as the owner, kept to the session's scope) and read through row-level security again
_ENTERPRISE_COLUMNS = """
SELECT e.id, e.name, e.credit_code, e.address, e.grid_code, e.building_id,
       ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat
"""
ENTERPRISES = {
    "credit_code": _ENTERPRISE_COLUMNS + """
FROM onemap.enterprise e WHERE e.credit_code = :code LIMIT :limit""",
    "name": _ENTERPRISE_COLUMNS + """
FROM onemap.lookup_enterprise_ids(:q, :limit) WITH ORDINALITY AS found (id, rank)
JOIN onemap.enterprise e ON e.id = found.id
ORDER BY found.rank""",
}
# a few hundred places: a scan is cheaper than any index under RLS
PLACES = """
SELECT k.id, k.name, k.kind, k.risk_level, k.address, k.grid_code, k.building_id,
       ST_X(k.geom) AS lon, ST_Y(k.geom) AS lat
FROM onemap.key_place k
WHERE strpos(k.name, :q) > 0
ORDER BY k.name <> :q, length(k.name), k.name, k.id
LIMIT :limit
"""


def search(conn: Connection, query: LookupQuery, *, building_id: int | None = None,
           community: str | None = None, limit: int = 20) -> dict[str, list[dict]]:
    """What the query finds in the caller's scope, grouped "people", "rooms", "buildings",
    "enterprises", "places" (empty groups left out), each at most `limit` long. Rooms are
    looked for inside the chosen building's compound or the chosen community, else inside the
    caller's own community or grid (a district has thousands of 3-2-501s)."""
    groups = {
        "people": people(conn, query, limit) if query.finds_people else [],
        "rooms": rooms(conn, query, building_id, community, limit)
        if Kind.ROOM in query.kinds else [],
        "buildings": buildings(conn, query, limit) if Kind.ADDRESS in query.kinds else [],
        "enterprises": enterprises(conn, query, limit)
        if {Kind.ENTERPRISE, Kind.CREDIT_CODE} & set(query.kinds) else [],
        "places": places(conn, query, limit) if Kind.PLACE in query.kinds else [],
    }
    return {name: rows for name, rows in groups.items() if rows}


def people(conn: Connection, query: LookupQuery, limit: int) -> list[dict]:
    """People of every person kind the query is, exact kinds first; fuzzy matching only when
    nothing else matched (a typo finds nothing else, and near misses cost the most)."""
    found: dict[int, str] = {}
    for kind, function_kinds in _PERSON_SEARCHES:
        if kind not in query.kinds or (kind in _FUZZY and found):
            continue
        for function_kind in function_kinds:
            value = _person_value(query, kind, function_kind)
            if value is None or len(found) >= limit:
                continue
            ids = conn.execute(text(PERSON_IDS), {"kind": function_kind, "q": value,
                                                  "after": after(value), "limit": limit})
            for (person_id,) in ids:
                found.setdefault(person_id, kind.value)
    if not found:
        return []
    ids = list(found)[:limit]
    rows = conn.execute(text(PEOPLE), {"ids": ids}).mappings()
    return [_person(dict(row), found[row["id"]]) for row in rows]


def _person_value(query: LookupQuery, kind: Kind, function_kind: str) -> str | None:
    if kind == Kind.ID_NUMBER:
        return query.id_number
    if kind == Kind.PHONE:
        return query.phone
    if kind == Kind.ID_SUFFIX:  # the ID read backwards: its end is a prefix of the index
        return query.id_suffix[::-1] if query.id_suffix else None
    if kind in (Kind.PINYIN, Kind.PINYIN_PREFIX, Kind.INITIALS, Kind.PINYIN_FUZZY):
        return query.pinyin
    if kind == Kind.NAME_FUZZY:
        # a one-character name has no near misses worth showing
        if len(query.text) < 2:
            return None
        return query_pinyin(query.text) if function_kind == "pinyin" else query.text
    return query.text


def _person(row: dict, matched: str) -> dict:
    row["birth_date"] = row["birth_date"].isoformat()
    row["matched"] = matched
    row["room"] = (room_label(row["building_name"], row["unit"], row["room_number"])
                   if row["household_id"] is not None else None)
    return row


def rooms(conn: Connection, query: LookupQuery, building_id: int | None,
          community: str | None, limit: int) -> list[dict]:
    room = query.room
    params = {"unit": room.unit, "room": room.room, "number": room.building,
              "building_id": building_id, "limit": limit}
    if building_id is not None:
        sql = ROOMS["building" if room.building is None else "compound"]
    else:
        area = community
        if area is None:
            scope = conn.execute(text("SELECT onemap.current_scope()")).scalar()
            area = scope if scope and len(scope) >= 12 else None
        if area is None:
            return []
        sql, params["area"] = ROOMS["area"], area
    rows = conn.execute(text(sql), params).mappings()
    return [dict(r, room=room_label(r["building_name"], r["unit"], r["room_number"]))
            for r in rows]


def buildings(conn: Connection, query: LookupQuery, limit: int) -> list[dict]:
    road = query.road
    which = "road" if road.number is None else "number" if road.building is None else "building"
    rows = conn.execute(text(BUILDINGS[which] + _BUILDING_ORDER),
                        {"road": road.road, "house": road.number, "house_no": f"{road.number}号",
                         "number": road.building,
                         "limit": limit})
    return [dict(r) for r in rows.mappings()]


def enterprises(conn: Connection, query: LookupQuery, limit: int) -> list[dict]:
    sql = ENTERPRISES["credit_code" if query.credit_code else "name"]
    rows = conn.execute(text(sql), {"code": query.credit_code, "q": query.text, "limit": limit})
    return [dict(r) for r in rows.mappings()]


def places(conn: Connection, query: LookupQuery, limit: int) -> list[dict]:
    rows = conn.execute(text(PLACES), {"q": query.text, "limit": limit})
    return [dict(r) for r in rows.mappings()]

"""Looking people up (以人找房): one person with their homes and tags, or a name/ID search.

Every query here runs on a scoped connection (geodata/scope.py): the database decides which
people, homes and tags the caller may see.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from onemap.domain.masking import SearchMode

PERSON = """
SELECT p.id, p.name, p.gender, p.birth_date, p.id_number, p.passport_number, p.phone,
       p.population_type, p.ethnicity, p.registered_address
FROM onemap.person p WHERE p.id = :id
"""

HOMES = """
SELECT ph.kind, ph.relation, h.id AS household_id, h.room_number, u.number AS unit,
       b.code AS building_code, b.address, b.grid_code
FROM onemap.person_household ph
JOIN onemap.household h ON h.id = ph.household_id
JOIN onemap.unit u ON u.id = h.unit_id
JOIN onemap.building b ON b.id = h.building_id
WHERE ph.person_id = :id
ORDER BY ph.kind
"""

TAGS = """
SELECT k.code, k.name_zh, k.name_en, k.sensitive
FROM (SELECT tag FROM onemap.person_tag WHERE person_id = :id
      UNION ALL SELECT tag FROM onemap.person_sensitive_tag WHERE person_id = :id) t
JOIN onemap.tag_kind k ON k.code = t.tag
ORDER BY k.sensitive, k.code
"""

# Only leakproof comparisons (=, >=, <): row-level security lets those run first, through the
# indexes, and checks the scope on what they find; LIKE would make it check every person in
# the district first. Which of these a caller may use is decided in onemap/domain/masking.py.
_SEARCH_COLUMNS = "p.id, p.name, p.gender, p.birth_date, p.id_number, p.population_type"
SEARCHES = {
    SearchMode.ID_NUMBER: f"""
SELECT {_SEARCH_COLUMNS} FROM onemap.person p WHERE p.id_number = upper(:q)
UNION
SELECT {_SEARCH_COLUMNS} FROM onemap.person p WHERE p.passport_number = upper(:q)
ORDER BY name, id LIMIT :limit
""",
    SearchMode.NAME_PREFIX: f"""
SELECT {_SEARCH_COLUMNS} FROM onemap.person p WHERE p.name >= :q AND p.name < :after
ORDER BY name, id LIMIT :limit
""",
    SearchMode.WHOLE_NAME: f"""
SELECT {_SEARCH_COLUMNS} FROM onemap.person p WHERE p.name = :q
ORDER BY name, id LIMIT :limit
""",
}


def person(conn: Connection, person_id: int) -> dict | None:
    """One person with homes and tags, or None when they do not exist or are out of scope."""
    row = conn.execute(text(PERSON), {"id": person_id}).mappings().one_or_none()
    if row is None:
        return None
    record = dict(row)
    record["birth_date"] = record["birth_date"].isoformat()
    record["homes"] = [dict(r) for r in conn.execute(text(HOMES), {"id": person_id}).mappings()]
    record["tags"] = [dict(r) for r in conn.execute(text(TAGS), {"id": person_id}).mappings()]
    return record


def search(conn: Connection, query: str, mode: SearchMode, limit: int = 50) -> list[dict]:
    """People matching the query as `mode` says (names sort by code point)."""
    after = query[:-1] + chr(ord(query[-1]) + 1)  # the first string past every "query…"
    rows = conn.execute(text(SEARCHES[mode]), {"q": query, "after": after, "limit": limit})
    return [dict(r, birth_date=r["birth_date"].isoformat()) for r in rows.mappings()]

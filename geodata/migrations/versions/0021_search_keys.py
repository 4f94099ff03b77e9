"""Search keys for the one search box: names in pinyin, ID endings, phone digits, roads.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

Under row-level security PostgreSQL checks the scope policy on a row before any condition that
is not leakproof (LIKE, pg_trgm's %, functions such as reverse()), so such a condition on
`person` cannot use an index: a one-character name prefix checked the policy on every one of
800 k people (1.3-2 s). Equality and range comparisons are leakproof and do use indexes, but
a range over a common surname still walks tens of thousands of people to find the twenty a
grid worker may see.

So the search asks `onemap.lookup_person_ids(kind, q, q_after, lim)` for ids first. It runs
as the owner, matches through the indexes below, and keeps only people the caller's session
scope holds (the person policy's own rule, applied explicitly to the session's scope): it
starts from the match when the scope is a district or a street, and from the scope's own
people when it is a community or a grid (a few thousand people: cheaper than walking a
district's 张). The app then reads those ids through row-level security again (`id = ANY`,
leakproof), so the database still decides what is seen. Kinds that would confirm a guess at a
masked value (an ID, its end, a phone, part of a name) need the session's unmask right here
as well as in the app (onemap/domain/lookup_query.py).

`onemap.name_pinyin` holds each distinct name's pinyin and initials, computed by pypinyin when
people are loaded (geodata/pinyin.py), never per search. A name alone is nobody, so the table
has no row-level security. Fuzzy matching (a typo in pinyin, a wrong character in a name)
compares pinyin by trigrams (pg_trgm): a wrong character shares most of the name's letters.
"""

from alembic import op

from geodata.pinyin import fill_name_pinyin

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"

TABLES = r"""
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE onemap.name_pinyin (
  name varchar(64) PRIMARY KEY,
  pinyin text COLLATE "C" NOT NULL,    -- zhangsan
  initials text COLLATE "C" NOT NULL   -- zs
);
COMMENT ON TABLE onemap.name_pinyin IS
  'Each distinct person name in pinyin and initials (filled at load time: geodata/pinyin.py).';
GRANT SELECT ON onemap.name_pinyin TO {app};

-- the digits a phone is searched by: +86 138-1234-5678 and 13812345678 alike
CREATE FUNCTION onemap.phone_digits(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT right(regexp_replace(phone, '[^0-9]', '', 'g'), 11)
$$;
"""

INDEXES = r"""
CREATE INDEX ix_name_pinyin_pinyin ON onemap.name_pinyin (pinyin, name);
CREATE INDEX ix_name_pinyin_initials ON onemap.name_pinyin (initials, name);
CREATE INDEX ix_name_pinyin_trgm ON onemap.name_pinyin USING gin (pinyin public.gin_trgm_ops);
CREATE INDEX ix_person_id_reversed ON onemap.person ((reverse(id_number) COLLATE "C"));
CREATE INDEX ix_person_phone_digits ON onemap.person (onemap.phone_digits(phone));
CREATE INDEX ix_building_road_number ON onemap.building (road, house_number);
"""

# The match of each kind: p is the person, n the name's pinyin; $1 the value, $2 the first
# value past every one starting with $1 (ranges: names sort by code point, C collation).
MATCH = {
    "id_number": "p.id_number = $1",
    "id_suffix": "(reverse(p.id_number) COLLATE \"C\") >= $1"
                 " AND (reverse(p.id_number) COLLATE \"C\") < $2",
    "phone": "onemap.phone_digits(p.phone) = $1",
    "name": "p.name = $1",
    "name_prefix": "p.name >= $1 AND p.name < $2",
    "pinyin": "n.pinyin = $1",
    "pinyin_prefix": "n.pinyin >= $1 AND n.pinyin < $2",
    "initials": "n.initials >= $1 AND n.initials < $2",
    "fuzzy": "n.pinyin OPERATOR(public.%) $1",
}
ORDER = {"pinyin_prefix": "n.pinyin, n.name, p.id", "initials": "n.initials, n.name, p.id",
         "fuzzy": "public.similarity(n.pinyin, $1) DESC, n.name, p.id"}
# district-wide, the nearest names first (a few hundred), then their people
NEAREST_NAMES = """(SELECT n.name, n.pinyin FROM onemap.name_pinyin n
   WHERE n.pinyin OPERATOR(public.%) $1
   ORDER BY public.similarity(n.pinyin, $1) DESC, n.name LIMIT 200) n"""
BY_PINYIN = ("pinyin", "pinyin_prefix", "initials", "fuzzy")
# many candidates district-wide: for a community or grid, start from the scope's people
FROM_SCOPE = ("name_prefix", "pinyin_prefix", "initials", "fuzzy")
OPEN_TO_ALL = ("name", "pinyin")  # whole names: what every role that looks up may search

# the person policy's rule (migration 0004) for the session's scope `scope`
# the person policy's rule (migration 0004) for the session's scope $3, as scalar sub-selects:
# EXISTS under OR lets the planner hash all 1.6 M links for a prefix with many candidates
VISIBLE = """(coalesce((SELECT true FROM onemap.person_household ph
                  JOIN onemap.household h ON h.id = ph.household_id
                  JOIN onemap.building b ON b.id = h.building_id
                 WHERE ph.person_id = p.id AND starts_with(b.grid_code, $3) LIMIT 1), false)
         OR (length($3) = 6 AND (SELECT count(*) FROM onemap.person_household ph
                                  WHERE ph.person_id = p.id) = 0))"""
SCOPE_PEOPLE = """(SELECT DISTINCT ph.person_id AS id FROM onemap.grid g
        JOIN onemap.building b ON b.grid_code = g.code
        JOIN onemap.household h ON h.building_id = b.id
        JOIN onemap.person_household ph ON ph.household_id = h.id
       WHERE starts_with(g.code, $3))"""


def _branches() -> str:
    out = []
    for kind, match in MATCH.items():
        order = ORDER.get(kind, "p.name, p.id")
        names = NEAREST_NAMES if kind == "fuzzy" else "onemap.name_pinyin n"
        wide = (f"SELECT p.id FROM {names} JOIN onemap.person p ON p.name = n.name"
                if kind in BY_PINYIN else "SELECT p.id FROM onemap.person p")
        wide += f" WHERE {match} AND {VISIBLE} ORDER BY {order} LIMIT $4"
        run_wide = f"RETURN QUERY EXECUTE {_quoted(wide)} USING q, q_after, scope, lim;"
        if kind not in FROM_SCOPE:
            out.append(f"\n  WHEN '{kind}' THEN\n    {run_wide}")
            continue
        pinyin = " JOIN onemap.name_pinyin n ON n.name = p.name" if kind in BY_PINYIN else ""
        narrow = (f"SELECT p.id FROM {SCOPE_PEOPLE} here JOIN onemap.person p ON p.id = here.id"
                  f"{pinyin} WHERE {match} ORDER BY {order} LIMIT $4")
        out.append(f"""
  WHEN '{kind}' THEN
    IF length(scope) >= 12 THEN
      RETURN QUERY EXECUTE {_quoted(narrow)} USING q, q_after, scope, lim;
    ELSE
      {run_wide}
    END IF;""")
    return "".join(out)


def _quoted(sql: str) -> str:
    return "$q$" + " ".join(sql.split()) + "$q$"


FUNCTION = r"""
CREATE FUNCTION onemap.lookup_person_ids(kind text, q text, q_after text, lim integer)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, public, pg_temp
SET pg_trgm.similarity_threshold = 0.4 AS $$
DECLARE
  scope text := onemap.current_scope();
BEGIN
  IF scope IS NULL OR q IS NULL OR lim IS NULL OR lim < 1 THEN
    RETURN;
  END IF;
  IF NOT kind = ANY ('{open}') AND NOT onemap.session_can('unmask_person') THEN
    RAISE EXCEPTION 'this search needs the unmask right' USING ERRCODE = 'insufficient_privilege';
  END IF;
  CASE kind {branches}
  ELSE
    RAISE EXCEPTION 'no person search of this kind' USING ERRCODE = 'invalid_parameter_value';
  END CASE;
END $$;
REVOKE EXECUTE ON FUNCTION onemap.lookup_person_ids(text, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION onemap.lookup_person_ids(text, text, text, integer) TO {app};
"""


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def upgrade() -> None:
    _sql(TABLES.replace("{app}", APP_ROLE))
    fill_name_pinyin(op.get_bind())
    _sql(INDEXES)
    _sql(FUNCTION.replace("{branches}", _branches())
         .replace("{open}", "{" + ",".join(OPEN_TO_ALL) + "}").replace("{app}", APP_ROLE))
    _sql("ANALYZE onemap.name_pinyin;")


def downgrade() -> None:
    _sql("""
        DROP FUNCTION onemap.lookup_person_ids(text, text, text, integer);
        DROP INDEX onemap.ix_building_road_number;
        DROP INDEX onemap.ix_person_phone_digits;
        DROP INDEX onemap.ix_person_id_reversed;
        DROP FUNCTION onemap.phone_digits(text);
        DROP TABLE onemap.name_pinyin;
    """)

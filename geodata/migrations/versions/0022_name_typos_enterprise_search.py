"""Search: a wrong character in a Chinese name by the name's own characters; enterprises by id.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04

A name typed with a wrong character was matched by its pinyin's trigrams (0021): a district's
306 k distinct names share the letters of any pinyin ("yu", "ang", "an"), so one such search
collected thousands of candidates and took 47 ms at the median and 157 ms at worst. Two
cheaper questions answer it now, in this order (geodata/queries/lookup_search.py):
- a homophone (the pinyin input method's usual slip, 张伟 typed as 张玮): the exact pinyin,
  by the pinyin index ('pinyin' kind, 0021);
- another wrong character: trigrams of the name's own characters (`name_fuzzy`, new): 张三乙
  shares the start of 张三丰, and CJK trigrams are rare, so the index finds a few dozen
  candidates (0.8 ms). A one-character slip in a three-character name leaves a similarity of
  1/3, so this kind's threshold is 0.3 where pinyin's stays 0.4.

Enterprises: a name match (strpos, not leakproof) under row-level security checked the scope
policy on all 24 k rows before matching (10-21 ms a search); `onemap.lookup_enterprise_ids`
matches as the owner and keeps the scope's own (the enterprise policy's rule), and the app
reads those ids through row-level security again, as it does for people.
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

APP_ROLE = "onemap_app"

INDEX = """
CREATE INDEX ix_name_pinyin_name_trgm ON onemap.name_pinyin
  USING gin (name public.gin_trgm_ops);
"""

# as in 0021: p the person, n the name's pinyin row; $1 the value, $2 the first value past
# every one starting with $1, $3 the session's scope, $4 the limit
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
    "name_fuzzy": "n.name OPERATOR(public.%) $1",
}
ORDER = {"pinyin_prefix": "n.pinyin, n.name, p.id", "initials": "n.initials, n.name, p.id",
         "fuzzy": "public.similarity(n.pinyin, $1) DESC, n.name, p.id",
         "name_fuzzy": "public.similarity(n.name, $1) DESC, n.name, p.id"}
# district-wide, the nearest names first (a few hundred), then their people
NEAREST_NAMES = """(SELECT n.name, n.pinyin FROM onemap.name_pinyin n
   WHERE {match} ORDER BY {similarity} DESC, n.name LIMIT 200) n"""
NEAREST = {"fuzzy": "public.similarity(n.pinyin, $1)",
           "name_fuzzy": "public.similarity(n.name, $1)"}
BY_PINYIN = ("pinyin", "pinyin_prefix", "initials", "fuzzy", "name_fuzzy")
FROM_SCOPE = ("name_prefix", "pinyin_prefix", "initials", "fuzzy", "name_fuzzy")
OPEN_TO_ALL = ("name", "pinyin")
# a wrong character in a two- or three-character name leaves a third of its trigrams
THRESHOLD = {"name_fuzzy": "0.3"}

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
        names = (NEAREST_NAMES.format(match=match, similarity=NEAREST[kind])
                 if kind in NEAREST else "onemap.name_pinyin n")
        wide = (f"SELECT p.id FROM {names} JOIN onemap.person p ON p.name = n.name"
                if kind in BY_PINYIN else "SELECT p.id FROM onemap.person p")
        wide += f" WHERE {match} AND {VISIBLE} ORDER BY {order} LIMIT $4"
        run_wide = f"RETURN QUERY EXECUTE {_quoted(wide)} USING q, q_after, scope, lim;"
        threshold = (f"PERFORM set_config('pg_trgm.similarity_threshold', '{THRESHOLD[kind]}',"
                     " true);\n    " if kind in THRESHOLD else "")
        if kind not in FROM_SCOPE:
            out.append(f"\n  WHEN '{kind}' THEN\n    {threshold}{run_wide}")
            continue
        pinyin = " JOIN onemap.name_pinyin n ON n.name = p.name" if kind in BY_PINYIN else ""
        narrow = (f"SELECT p.id FROM {SCOPE_PEOPLE} here JOIN onemap.person p ON p.id = here.id"
                  f"{pinyin} WHERE {match} ORDER BY {order} LIMIT $4")
        out.append(f"""
  WHEN '{kind}' THEN
    {threshold}IF length(scope) >= 12 THEN
      RETURN QUERY EXECUTE {_quoted(narrow)} USING q, q_after, scope, lim;
    ELSE
      {run_wide}
    END IF;""")
    return "".join(out)


def _quoted(sql: str) -> str:
    return "$q$" + " ".join(sql.split()) + "$q$"


# the function's SET clause restores the threshold a branch changes when the call ends
PERSON_IDS = r"""
CREATE OR REPLACE FUNCTION onemap.lookup_person_ids(kind text, q text, q_after text,
                                                    lim integer)
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
"""

# the enterprise policy's rule (starts_with(grid_code, current_scope())), applied here
ENTERPRISE_IDS = r"""
CREATE FUNCTION onemap.lookup_enterprise_ids(q text, lim integer)
RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER ROWS 20
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT e.id FROM onemap.enterprise e
   WHERE strpos(e.name, q) > 0 AND starts_with(e.grid_code, onemap.current_scope())
   ORDER BY e.name <> q, length(e.name), e.name, e.id
   LIMIT lim
$$;
REVOKE EXECUTE ON FUNCTION onemap.lookup_enterprise_ids(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION onemap.lookup_enterprise_ids(text, integer) TO {app};
"""


def _sql(statements: str) -> None:
    op.get_bind().exec_driver_sql(statements.replace("%", "%%"))


def upgrade() -> None:
    _sql(INDEX)
    _sql(PERSON_IDS.replace("{branches}", _branches())
         .replace("{open}", "{" + ",".join(OPEN_TO_ALL) + "}"))
    _sql(ENTERPRISE_IDS.replace("{app}", APP_ROLE))
    _sql("ANALYZE onemap.name_pinyin;")


def downgrade() -> None:
    # lookup_person_ids keeps its name_fuzzy branch: 0021's app never asks it, and without
    # the index it would only be slow
    _sql("""
        DROP FUNCTION onemap.lookup_enterprise_ids(text, integer);
        DROP INDEX onemap.ix_name_pinyin_name_trgm;
    """)

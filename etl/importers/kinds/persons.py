"""Persons, keyed by 公民身份号码 (or 护照号码 for foreigners), with an optional link to a
household as their registered (户籍) or actual (居住) residence.

A person registered in one room and living in another (人户分离) takes two rows, one per 居住类型;
the two must agree on everything about the person. The birth date and sex must match the ID and
are taken from it when blank.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from onemap.domain.vocab import GENDERS

from ..errors import ImportRefused
from ..load import STAGE, Counts, flag, on_conflict, staged_count, upsert
from ..validate import flag_duplicates, id_birth_and_sex
from .common import Context, Loader, resolve_reference

PERSON_COLUMNS = ("id_number", "passport_number", "name", "gender", "birth_date", "phone",
                  "population_type", "ethnicity", "registered_address")
LINK_COLUMNS = ("building_code", "unit", "room")
STAGE_COLUMNS = (
    ("person_key", "text"), ("id_number", "text"), ("passport_number", "text"), ("name", "text"),
    ("gender", "text"), ("birth_date", "date"), ("phone", "text"), ("population_type", "text"),
    ("ethnicity", "text"), ("registered_address", "text"), ("building_code", "text"),
    ("unit", "smallint"), ("room", "text"), ("relation", "text"), ("residence_kind", "text"),
    ("since", "date"), ("person_id", "bigint"), ("building_id", "bigint"),
    ("household_id", "bigint"),
)
# always written on update: they are required, or follow from the ID
ALWAYS = ("name", "gender", "birth_date", "population_type")


def prepare(ctx: Context, frame: pd.DataFrame, geoms: gpd.GeoSeries | None) -> pd.DataFrame:
    """Identity, ID agreement, household-link completeness, duplicates and consistency."""
    if not ({"id_number", "passport_number"} & ctx.present):
        raise ImportRefused("a persons file needs a 公民身份号码 column (or 护照号码 for "
                            "people without a citizen ID)")
    raw = ctx.raw
    df = frame.copy()
    ids = df["id_number"]
    unidentified = raw.get("id_number", _none(df)).isna() & df["passport_number"].isna()
    ctx.error_where(unidentified, "id_number", ids, "公民身份号码 or 护照号码 required")
    _match_id(ctx, df, raw)
    without_id = raw.get("id_number", _none(df)).isna()
    for name in ("gender", "birth_date"):
        missing = without_id & df[name].isna() & raw.get(name, _none(df)).isna()
        ctx.error_where(missing & ~unidentified, name, df[name],
                        "required for a person without 公民身份号码")
    _check_link(ctx, df, raw)
    df["person_key"] = ids.where(ids.notna(), "passport:" + df["passport_number"].fillna(""))
    df.loc[ids.isna() & df["passport_number"].isna(), "person_key"] = None
    rows = ctx.rows.to_numpy()
    keyed = df.assign(kind_key=df["residence_kind"].fillna("-"))
    flag_duplicates(keyed, rows, ["person_key", "kind_key"], "id_number", ctx.log,
                    what="person and 居住类型", value_column="person_key")
    _check_consistency(ctx, df)
    for name in ("person_id", "building_id", "household_id"):
        df[name] = None
    return df[[name for name, _ in STAGE_COLUMNS]]


def _none(df: pd.DataFrame) -> pd.Series:
    return pd.Series(None, index=df.index, dtype=object)


def _match_id(ctx: Context, df: pd.DataFrame, raw: pd.DataFrame) -> None:
    """Birth date and sex must agree with the ID; blanks are filled from it."""
    born, sex = id_birth_and_sex(df["id_number"])
    given_sex, given_born = df["gender"], df["birth_date"]
    wrong_sex = given_sex.notna() & sex.notna() & (given_sex != sex)
    ctx.error_where(wrong_sex, "gender", raw.get("gender", given_sex),
                    "does not match the ID (digit 17: odd male, even female): "
                    + sex.map(lambda s: GENDERS[s][0], na_action="ignore").fillna(""))
    wrong_born = given_born.notna() & born.notna() & (given_born != born)
    ctx.error_where(wrong_born, "birth_date", raw.get("birth_date", _none(df)),
                    "does not match the birth date in the ID (digits 7-14)")
    df["gender"] = given_sex.where(given_sex.notna(), sex)
    df["birth_date"] = given_born.where(given_born.notna(), born)


def _check_link(ctx: Context, df: pd.DataFrame, raw: pd.DataFrame) -> None:
    """楼栋编码, 单元 and 房号 go together; a link needs 与户主关系; 居住类型 defaults to 居住."""
    given = pd.DataFrame({c: raw[c].notna() if c in raw else False for c in LINK_COLUMNS},
                         index=df.index)
    linked = given.any(axis=1)
    for name in LINK_COLUMNS:
        ctx.error_where(linked & ~given[name], name, df[name],
                        "required with a household link (楼栋编码, 单元, 房号)")
    ctx.error_where(linked & df["relation"].isna() & raw.get("relation", _none(df)).isna(),
                    "relation", df["relation"], "required with a household link")
    df["residence_kind"] = df["residence_kind"].where(
        df["residence_kind"].notna() | ~linked, "residence")
    loose = ~linked & (df["relation"].notna() | df["residence_kind"].notna())
    if loose.any():
        ctx.notes.append(f"{int(loose.sum())} row(s) give 与户主关系/居住类型 without a household "
                         "(楼栋编码, 单元, 房号): ignored")
        df.loc[loose, ["relation", "residence_kind"]] = None


def _check_consistency(ctx: Context, df: pd.DataFrame) -> None:
    """Rows of one person (one per 居住类型) must say the same about the person."""
    keyed = df[df["person_key"].notna()]
    repeated = keyed["person_key"].duplicated(keep=False)
    if not repeated.any():
        return
    group = keyed[repeated]
    rows = ctx.rows[group.index]
    first_index = rows.groupby(group["person_key"]).idxmin()
    for idx in group.index:
        first = first_index[group.at[idx, "person_key"]]
        if first == idx:
            continue
        for name in PERSON_COLUMNS:
            if group.at[idx, name] != df.at[first, name] and not (
                    pd.isna(group.at[idx, name]) and pd.isna(df.at[first, name])):
                ctx.log.add(ctx.rows[idx], name, group.at[idx, name],
                            f"differs from row {ctx.rows[first]} about the same person")
                break


def check(ctx: Context, conn: Connection) -> None:
    """Household links resolve to a building, unit and room; passports are not someone else's."""
    if "building_code" in ctx.present:
        _resolve_households(ctx, conn)
    if "passport_number" in ctx.present:
        flag(conn, ctx.log, "passport_number", f"""
            SELECT s.row, s.passport_number, 'this 护照号码 belongs to another person'
            FROM {STAGE} s JOIN onemap.person p ON p.passport_number = s.passport_number
            WHERE s.id_number IS NOT NULL AND p.id_number IS DISTINCT FROM s.id_number
        """)


def _resolve_households(ctx: Context, conn: Connection) -> None:
    """building → unit → room, each a row error of its own when it does not resolve."""
    resolve_reference(ctx, conn, field_name="building_code", id_column="building_id",
                      table="building", key="code", kind="buildings")
    conn.execute(text(f"""
        UPDATE {STAGE} s SET household_id = h.id
        FROM onemap.unit u JOIN onemap.household h ON h.unit_id = u.id
        WHERE u.building_id = s.building_id AND u.number = s.unit AND h.room_number = s.room
    """))
    flag(conn, ctx.log, "unit", f"""
        SELECT s.row, s.unit, 'building ' || s.building_code || ' has no unit ' || s.unit
               || ' (import households first)'
        FROM {STAGE} s
        WHERE s.building_id IS NOT NULL AND s.household_id IS NULL AND s.unit IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM onemap.unit u
                          WHERE u.building_id = s.building_id AND u.number = s.unit)
    """)
    flag(conn, ctx.log, "room", f"""
        SELECT s.row, s.room, 'unknown room: building ' || s.building_code || ' unit ' || s.unit
               || ' has no room ' || s.room || ' (import households first)'
        FROM {STAGE} s
        WHERE s.building_id IS NOT NULL AND s.household_id IS NULL
          AND s.unit IS NOT NULL AND s.room IS NOT NULL
    """)


def write(ctx: Context, conn: Connection) -> Counts:
    """Upsert persons (by ID, then passport-only ones by passport), then their household links."""
    optional = [c for c in PERSON_COLUMNS if c not in ALWAYS and c in ctx.present]
    counts = Counts()
    for key, where in (("id_number", "s.id_number IS NOT NULL"),
                       ("passport_number", "s.id_number IS NULL")):
        updatable = [*ALWAYS, *(c for c in optional if c != key and
                                not (key == "passport_number" and c == "id_number"))]
        columns = ", ".join(PERSON_COLUMNS)
        sql = f"""
            INSERT INTO onemap.person AS t ({columns})
            SELECT DISTINCT ON (s.person_key) {", ".join(f"s.{c}" for c in PERSON_COLUMNS)}
            FROM {STAGE} s WHERE s.row BETWEEN :lo AND :hi AND {where}
            ORDER BY s.person_key, s.row
            {on_conflict(key, updatable)}
        """
        counts.add(upsert(conn, ctx.log, sql, "id_number", where=where))
    counts.unchanged = (staged_count(conn, distinct="s.person_key")
                        - counts.inserted - counts.updated)
    if "building_code" in ctx.present:
        counts.extra.update(_write_links(ctx, conn))
    return counts


def _write_links(ctx: Context, conn: Connection) -> dict[str, int]:
    """person_household rows: one per person and kind; a new room for a kind moves the person."""
    conn.execute(text(f"""
        UPDATE {STAGE} s SET person_id = p.id FROM onemap.person p
        WHERE s.id_number IS NOT NULL AND p.id_number = s.id_number
    """))
    conn.execute(text(f"""
        UPDATE {STAGE} s SET person_id = p.id FROM onemap.person p
        WHERE s.id_number IS NULL AND p.passport_number = s.passport_number
    """))
    where = "s.household_id IS NOT NULL AND s.person_id IS NOT NULL"
    updatable = ["household_id", "relation"] + (["since"] if "since" in ctx.present else [])
    sql = f"""
        INSERT INTO onemap.person_household AS t (person_id, household_id, kind, relation, since)
        SELECT s.person_id, s.household_id, s.residence_kind, s.relation, s.since
        FROM {STAGE} s WHERE s.row BETWEEN :lo AND :hi AND {where}
        {on_conflict("person_id, kind", updatable)}
    """
    links = upsert(conn, ctx.log, sql, "room", where=where)
    unchanged = staged_count(conn, where=where) - links.inserted - links.updated
    return {"links inserted": links.inserted, "links updated": links.updated,
            "links unchanged": unchanged}


LOADER = Loader(STAGE_COLUMNS, prepare, check, write)

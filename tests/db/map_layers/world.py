"""Rows the map shows, added one by one inside the test's transaction."""

from __future__ import annotations

from datetime import date

from onemap.domain import idcard, uscc
from sqlalchemy import Connection, text

from tests.fixtures.hierarchy import DISTRICT, grid_box

# real coordinates are not round numbers (the geobuf encoder picks its precision from them)
JITTER = 0.0000123


def point(conn: Connection, grid: str, dx: float = 0.005, dy: float = 0.005) -> tuple[float, float]:
    """A point inside a grid, offset from its south-west corner."""
    x0, y0, _x1, _y1 = grid_box(conn, grid)
    return x0 + dx + JITTER, y0 + dy + JITTER


def projected(conn: Connection, origin: tuple[float, float], metres: float,
              azimuth_deg: float) -> tuple[float, float]:
    """The point `metres` from `origin` towards `azimuth_deg` (0 north, 90 east) on the spheroid."""
    return tuple(conn.execute(text(
        "SELECT ST_X(p::geometry), ST_Y(p::geometry) FROM (SELECT ST_Project("
        "ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, :m, radians(:a)) AS p) q"),
        {"x": origin[0], "y": origin[1], "m": metres, "a": azimuth_deg}).one())


def add_category(conn: Connection) -> None:
    conn.execute(text("INSERT INTO event_category (code, kind, name_zh)"
                      " VALUES ('X01', 'event', '暴露垃圾')"))


def add_event(conn: Connection, code: str, grid: str | None, where: tuple[float, float], *,
              state: str = "reported", staff: int | None = None, age: str = "1 second",
              level: int = 4, due: str | None = None) -> int:
    return conn.execute(text(
        "INSERT INTO event (code, title, category_code, level, channel, state, reported_at,"
        " closed_at, due_at, grid_code, assigned_staff_id, geom)"
        " VALUES (:c, :t, 'X01', :lvl, 'inspector', :s, now() - CAST(:age AS interval),"
        " CASE WHEN :closed THEN now() END, now() + CAST(:due AS interval), :g, :staff,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "t": f"事件 {code}", "lvl": level, "s": state, "closed": state == "closed",
         "age": age, "due": due,
         "g": grid, "staff": staff, "x": where[0], "y": where[1]}).scalar_one()


def add_camera(conn: Connection, code: str, grid: str, where: tuple[float, float], *,
               heading: int | None = 0, fov: int = 60, range_m: int = 100,
               status: str = "online") -> int:
    return conn.execute(text(
        "INSERT INTO camera (code, name, owner, kind, heading, fov_deg, range_m, status,"
        " grid_code, geom) VALUES (:c, :n, 'police', 'hd_bullet', :h, :f, :r, :st, :g,"
        " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "n": f"摄像机 {code}", "h": heading, "f": fov, "r": range_m, "st": status,
         "g": grid, "x": where[0], "y": where[1]}).scalar_one()


def add_sensor(conn: Connection, code: str, grid: str, where: tuple[float, float],
               status: str = "normal") -> int:
    return conn.execute(text(
        "INSERT INTO sensor (code, kind, name, status, grid_code, geom)"
        " VALUES (:c, 'gas', :n, :s, :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "n": f"燃气 {code}", "s": status, "g": grid, "x": where[0], "y": where[1]}
    ).scalar_one()


def add_staff(conn: Connection, code: str, grid: str | None,
              where: tuple[float, float] | None, *, on_duty: bool = True,
              status: str = "available") -> int:
    return conn.execute(text(
        "INSERT INTO staff (code, name, tier, grid_code, on_duty, status, last_position)"
        " VALUES (:c, :n, 'grid_worker', :g, :d, :s,"
        " CASE WHEN CAST(:x AS float8) IS NOT NULL"
        " THEN ST_SetSRID(ST_MakePoint(:x, :y), 4326) END) RETURNING id"),
        {"c": code, "n": f"网格员 {code}", "g": grid, "d": on_duty, "s": status,
         "x": where[0] if where else None, "y": where[1] if where else None}).scalar_one()


def add_place(conn: Connection, code: str, grid: str, where: tuple[float, float]) -> int:
    return conn.execute(text(
        "INSERT INTO key_place (code, name, kind, risk_level, grid_code, geom)"
        " VALUES (:c, :n, 'school', 2, :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"c": code, "n": f"学校 {code}", "g": grid, "x": where[0], "y": where[1]}).scalar_one()


def add_enterprise(conn: Connection, code: str, grid: str, where: tuple[float, float]) -> int:
    credit_code = uscc.make("9", "1", grid[:6], grid[-8:])  # one per grid
    return conn.execute(text(
        "INSERT INTO enterprise (credit_code, name, status, grid_code, geom)"
        " VALUES (:cc, :n, 'active', :g, ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
        {"cc": credit_code, "n": f"企业 {code}", "g": grid, "x": where[0], "y": where[1]}
    ).scalar_one()


def add_person(conn: Connection, n: int, household: int | None, kind: str = "residence",
               tag: str | None = None, sensitive_tag: str | None = None) -> int:
    born = date(1950 + n, 1, 1)
    pid = conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, population_type)"
        " VALUES (:i, :n, 'M', :b, 'registered') RETURNING id"),
        {"i": idcard.make(DISTRICT, born, "M", n), "n": f"居民{n:02d}", "b": born}).scalar_one()
    if household:
        conn.execute(text("INSERT INTO person_household (person_id, household_id, kind, relation)"
                          " VALUES (:p, :h, :k, 'householder')"),
                     {"p": pid, "h": household, "k": kind})
    if tag:
        conn.execute(text("INSERT INTO person_tag (person_id, tag) VALUES (:p, :t)"),
                     {"p": pid, "t": tag})
    if sensitive_tag:
        conn.execute(text("INSERT INTO person_sensitive_tag (person_id, tag) VALUES (:p, :t)"),
                     {"p": pid, "t": sensitive_tag})
    return pid


def all_rows(world: dict, layer: str) -> set[int]:
    return set().union(*(world["rows"][g][layer] for g in world["grids"]))

"""Put a generated district into the database in one transaction, and read what is there.

The generator fills what is missing below the deepest boundary level already loaded (real
street boundaries, say, with generated communities, grids and buildings inside them);
anything from buildings down must still be empty.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from geodata.bulk import copy_frame, ewkb_hex, points_hex, reset_sequence

from .district import DemoDistrict

LEVELS = ("district", "street", "community", "grid")
PARENT_COLUMN = {"street": "district_code", "community": "street_code", "grid": "community_code"}
# (departments and event categories are reference data every district has: migration 0006)
MUST_BE_EMPTY = ("building", "person", "event", "camera", "sensor", "staff", "enterprise",
                 "key_place")


class NotEmpty(RuntimeError):
    """The database already holds what the generator would make."""


def existing_boundaries(conn: Connection) -> dict[str, gpd.GeoDataFrame]:
    """Boundary levels already loaded, as (code, parent_code, name, geometry) in WGS84."""
    found: dict[str, gpd.GeoDataFrame] = {}
    for level in LEVELS:
        parent = PARENT_COLUMN.get(level, "NULL")
        frame = gpd.read_postgis(
            text(f"SELECT code, {parent} AS parent_code, name, geom FROM onemap.{level}"
                 " ORDER BY code"), conn, geom_col="geom")
        if frame.empty:
            break
        found[level] = frame.rename_geometry("geometry")
    return found


def check_empty(conn: Connection) -> None:
    """Refuse to generate over existing buildings, people, events or devices."""
    busy = [t for t in MUST_BE_EMPTY
            if conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM onemap.{t})")).scalar()]
    if busy:
        raise NotEmpty(
            f"the database already holds {', '.join(busy)}; the demo generator only fills an "
            "empty district (boundaries may be loaded). Start afresh with `onemap db reset --yes`."
        )
    districts = conn.execute(text("SELECT count(*) FROM onemap.district")).scalar()
    if districts > 1:
        raise NotEmpty(f"the database holds {districts} districts; the generator fills one")


def _boundary_rows(frame: gpd.GeoDataFrame, level: str) -> pd.DataFrame:
    rows = pd.DataFrame({"code": frame["code"], "name": frame["name"]})
    if level in PARENT_COLUMN:
        rows[PARENT_COLUMN[level]] = frame["parent_code"].to_numpy()
    if level == "grid":
        rows["piece_id"] = frame["piece_id"].to_numpy()
    rows["geom"] = ewkb_hex(frame.geometry.apply(_multi))
    return rows


def _multi(geometry):
    from shapely.geometry import MultiPolygon, Polygon

    return MultiPolygon([geometry]) if isinstance(geometry, Polygon) else geometry


def _point_rows(frame: pd.DataFrame, columns: list[str], geom: str = "geom") -> pd.DataFrame:
    rows = frame[columns].copy()
    rows[geom] = points_hex(frame["lon"], frame["lat"])
    return rows


def table_rows(district: DemoDistrict) -> list[tuple[str, pd.DataFrame]]:
    """(table, rows named as its columns) in an order the foreign keys accept."""
    t = district.tables
    out: list[tuple[str, pd.DataFrame]] = []
    for level in ("district", "street", "community"):
        if level in t:
            out.append((level, _boundary_rows(t[level], level)))
    out.append(("piece", t["piece"][["id", "community_code", "name"]]))
    if "grid" in t:
        out.append(("grid", _boundary_rows(t["grid"], "grid")))
    b = t["building"]
    buildings = b[["id", "code", "grid_code", "name", "road", "house_number", "address", "use",
                   "floors_above", "floors_below", "unit_count", "built_year"]].copy()
    buildings["geom"] = ewkb_hex(b.geometry.apply(_multi))
    out.append(("building", buildings))
    out.append(("unit", t["unit"][["id", "building_id", "number"]]))
    out.append(("floor", t["floor"][["id", "unit_id", "building_id", "number"]]))
    out.append(("household", t["household"][
        ["id", "floor_id", "unit_id", "building_id", "room_number", "area_m2", "occupancy"]]))
    out.append(("person", t["person"][
        ["id", "id_number", "passport_number", "name", "gender", "birth_date", "phone",
         "population_type", "ethnicity", "registered_address"]]))
    out.append(("person_household", t["person_household"][
        ["person_id", "household_id", "kind", "relation", "since"]]))
    out.append(("person_tag", t["person_tag"][["person_id", "tag", "since"]]))
    out.append(("person_sensitive_tag", t["person_sensitive_tag"][["person_id", "tag", "since"]]))
    out.append(("enterprise", _point_rows(t["enterprise"], [
        "credit_code", "name", "legal_representative", "industry", "employees", "status",
        "address", "grid_code", "building_id"])))
    out.append(("key_place", _point_rows(t["key_place"], [
        "id", "code", "name", "kind", "risk_level", "address", "contact_name", "contact_phone",
        "grid_code", "building_id"])))
    out.append(("staff", _point_rows(t["staff"], [
        "id", "code", "name", "phone", "tier", "grid_code", "department_code", "on_duty",
        "status", "last_seen_at"], geom="last_position")))
    out.append(("camera", _point_rows(t["camera"], [
        "id", "code", "name", "owner", "kind", "heading", "fov_deg", "range_m", "status",
        "stream_url", "grid_code"])))
    out.append(("sensor", _point_rows(t["sensor"], [
        "id", "code", "kind", "name", "unit_of_measure", "low_threshold", "high_threshold",
        "status", "last_value", "last_reading_at", "grid_code", "building_id", "person_id"])))
    out.append(("sensor_reading", t["sensor_reading"][["sensor_id", "read_at", "value"]]))
    out.append(("event", _point_rows(t["event"], [
        "id", "code", "title", "description", "category_code", "level", "channel",
        "external_ref", "state", "address", "grid_code", "reporter_name", "reporter_phone",
        "reported_at", "registered_at", "dispatched_at", "handled_at", "verified_at",
        "closed_at", "due_at", "stage_started_at", "warn_at", "department_code",
        "assigned_staff_id", "closure_kind", "handling_minutes", "sent_back_count",
        "satisfaction", "returned_count", "extended", "camera_id", "tier"])))
    out.append(("event_history", t["event_history"][
        ["id", "event_id", "at", "action", "from_state", "to_state", "actor_staff_id"]]))
    out.append(("sensor_alarm", t["sensor_alarm"][
        ["id", "sensor_id", "raised_at", "value", "threshold", "direction", "cleared_at",
         "event_id"]]))
    return out


SERIAL_TABLES = ("piece", "building", "unit", "floor", "household", "person", "enterprise",
                 "key_place", "staff", "camera", "sensor", "event", "event_history", "sensor_alarm")


def load(conn: Connection, district: DemoDistrict,
         progress: Callable[[str, int, int], None] = lambda table, done, total: None) -> dict[str, int]:
    """COPY every table in the caller's transaction; returns rows written per table."""
    written: dict[str, int] = {}
    for table, rows in table_rows(district):
        done = 0

        def step(n: int, table=table, total=len(rows)) -> None:
            nonlocal done
            done += n
            progress(table, done, total)

        progress(table, 0, len(rows))
        written[table] = copy_frame(conn, table, rows, step)
        progress(table, len(rows), len(rows))  # COPY has returned: its constraint checks are done
    pieces = district.tables["piece"][["id", "leader_staff_id"]].dropna()
    conn.execute(
        text("UPDATE onemap.piece SET leader_staff_id = :leader WHERE id = :id"),
        [{"id": int(i), "leader": int(s)} for i, s in zip(pieces["id"], pieces["leader_staff_id"])],
    )
    for table in SERIAL_TABLES:
        reset_sequence(conn, table)
    return written

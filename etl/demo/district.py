"""Build a whole demo district in memory: every table as a DataFrame, ids assigned, WGS84.

The pieces (layout, hierarchy, housing, people, places, devices, staff, events) each do one
thing; this module runs them in order with one seeded random generator, so the same seed
and boundary give the same district.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from . import devices, events, hierarchy, housing, layout, places, staff
from .enterprises import generate_enterprises
from .geo import GridIndex
from .people import generate_people
from .scales import Scale

REFERENCE = Path(__file__).resolve().parents[2] / "geodata" / "reference"
Progress = Callable[[str], None]


@dataclass
class DemoDistrict:
    """Every generated table, keyed by table name, in load order (parents first)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def count(self, table: str) -> int:
        """Rows generated for a table (0 when it was given, not generated)."""
        return len(self.tables.get(table, []))


def reference_table(name: str) -> pd.DataFrame:
    """A configuration table shipped in geodata/reference, the same file migration 0006 loads:
    read here rather than from the database because the time limits and the weights events are
    drawn with live only in the file."""
    return pd.read_csv(REFERENCE / f"{name}.csv", dtype={"code": str, "parent_code": str})


def _wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return frame.to_crs(4326)


def build_district(boundary: shapely.Polygon | shapely.MultiPolygon, *, code: str, name: str,
                   scale: Scale, seed: int, now: datetime,
                   given: dict[str, gpd.GeoDataFrame] | None = None,
                   progress: Progress = lambda step: None) -> DemoDistrict:
    """Generate the district inside `boundary` (WGS84); levels in `given` are kept, not made."""
    rng = np.random.default_rng(seed)
    outline = gpd.GeoDataFrame({"geometry": [boundary]}, crs=4326)
    metric = outline.estimate_utm_crs()
    area = outline.to_crs(metric).geometry.iloc[0]
    to_wgs84 = Transformer.from_crs(metric, 4326, always_xy=True).transform
    given_metric = {level: frame.to_crs(metric) for level, frame in (given or {}).items()}

    progress("roads and buildings")
    angle = float(rng.uniform(-8, 8))
    roads = layout.road_network(area, rng, angle_deg=angle)
    footprints = layout.buildings(area, layout.blocks(area, roads), rng,
                                  target=scale.buildings, angle_deg=angle)
    footprints = housing.attributes(footprints, rng, people=scale.people)
    footprints = housing.addresses(footprints, roads)
    footprints = gpd.GeoDataFrame(footprints, geometry="geometry", crs=metric)

    progress("streets, communities and grids")
    tiers = hierarchy.build(code, area, footprints, streets=scale.streets,
                            communities=scale.communities, grids=scale.grids, rng=rng,
                            crs=metric, given=given_metric)
    # back in WGS84, clip each level to its parent's WGS84 outline: a projection round trip
    # bends long shared edges by centimetres, which is square metres outside over kilometres
    # (levels that were given stay exactly as the database holds them)
    given = given or {}
    district_frame = gpd.GeoDataFrame({"code": [code]}, geometry=[boundary], crs=4326)
    streets = (given["street"] if "street" in given
               else _clip_to(_wgs84(tiers.streets), district_frame))
    communities = (given["community"] if "community" in given
                   else _clip_to(_wgs84(tiers.communities), streets))
    grids = (given["grid"] if "grid" in given
             else _clip_to(_wgs84(tiers.grids), communities)).copy()
    grid_index = GridIndex(grids["code"].to_numpy(), list(grids.geometry))

    buildings = _wgs84(footprints)
    # the database files a building under the grid holding its point on surface: so do we
    inside = shapely.point_on_surface(buildings.geometry.to_numpy())
    buildings["grid_code"] = grid_index.lookup(shapely.get_x(inside), shapely.get_y(inside))
    buildings = buildings[buildings["grid_code"].notna()].copy()
    buildings = buildings.sort_values(["grid_code", "block", "building_number"]).reset_index(drop=True)
    buildings.insert(0, "id", np.arange(1, len(buildings) + 1))
    buildings["code"] = buildings["grid_code"] + (
        buildings.groupby("grid_code").cumcount() + 1).astype(str).str.zfill(4)
    centre = buildings.geometry.to_crs(metric).centroid.to_crs(4326)
    buildings["lon"], buildings["lat"] = centre.x.to_numpy(), centre.y.to_numpy()

    progress("units, floors and households")
    units, floors, households = housing.rooms(buildings, rng)

    progress("people")
    today = now.date() if isinstance(now, datetime) else date.today()
    people = generate_people(households.rename(columns={"id": "household_id"}), rng=rng,
                             target_people=scale.people, district_code=code, today=today)

    progress("enterprises and key places")
    departments = reference_table("departments")
    categories = reference_table("event_categories")
    enterprises = generate_enterprises(
        pd.DataFrame(buildings.drop(columns="geometry")).rename(columns={"id": "building_id"}),
        rng=rng, n=scale.enterprises, district_code=code)
    enterprises = _in_grids(enterprises, grid_index)
    key_places = _in_grids(places.generate_key_places(buildings, rng, scale.key_places, code),
                           grid_index)

    progress("staff, cameras and sensors")
    staff_rows = staff.generate_staff(grids, tiers.pieces, departments, rng,
                                      people=scale.people, now=now)
    cameras = _in_grids(devices.generate_cameras(buildings, roads, rng, scale.cameras, code,
                                                 to_wgs84), grid_index)
    wearers = _wearers(people, households, buildings)
    sensors = _in_grids(devices.generate_sensors(buildings, roads, wearers, rng, scale.sensors,
                                                 to_wgs84), grid_index)
    readings, status = devices.readings_and_status(sensors, rng, now)
    sensors = sensors.merge(status, on="id")

    progress("a year of events")
    made = events.generate_events(n=scale.events, now=now, buildings=buildings, grids=grid_index,
                                  categories=categories, staff=staff_rows, cameras=cameras,
                                  sensors=sensors, sensor_status=status,
                                  stage_limits=reference_table("stage_limits"), rng=rng)

    pieces = tiers.pieces.copy()
    leaders = staff_rows[staff_rows["tier"] == "piece_leader"].set_index("grid_code")["id"]
    pieces["leader_staff_id"] = [leaders.get(codes[0]) for codes in pieces["grid_codes"]]
    piece_of_grid = {g: pid for pid, codes in zip(pieces["id"], pieces["grid_codes"]) for g in codes}
    grids["piece_id"] = grids["code"].map(piece_of_grid)

    district = DemoDistrict()
    if "district" not in (given or {}):
        district.tables["district"] = gpd.GeoDataFrame(
            {"code": [code], "name": [name]}, geometry=[boundary], crs=4326)
    for level, frame in (("street", streets), ("community", communities)):
        if level not in (given or {}):
            district.tables[level] = frame
    # departments and categories are not in here: migration 0006 loads them into every database
    district.tables["piece"] = pieces
    if "grid" not in (given or {}):
        district.tables["grid"] = grids
    district.tables.update({
        "building": buildings,
        "unit": units,
        "floor": floors,
        "household": households,
        "person": people.persons,
        "person_household": people.person_household,
        "person_tag": people.person_tag,
        "person_sensitive_tag": people.person_sensitive_tag,
        "enterprise": enterprises,
        "key_place": key_places,
        "staff": staff_rows,
        "camera": cameras,
        "sensor": sensors,
        "sensor_reading": readings,
        "event": made.events,
        "event_history": made.history,
        "sensor_alarm": made.alarms,
    })
    return district


def _clip_to(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each child cut to its parent (by the code prefix), as multipolygons."""
    outline = dict(zip(parents["code"], parents.geometry))
    clipped = children.copy()
    cut = [shapely.intersection(g, outline[p]) for g, p in
           zip(children.geometry, children["code"].str[:-3])]
    clipped["geometry"] = [_polygons_only(g) for g in cut]
    return clipped.set_geometry("geometry", crs=4326)


def _polygons_only(geometry):
    parts = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts)


def _in_grids(frame: pd.DataFrame, grid_index: GridIndex) -> pd.DataFrame:
    """File point rows under the grid that covers them; drop the few that fall in none."""
    frame = frame.copy()
    frame["grid_code"] = grid_index.lookup(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    return frame[frame["grid_code"].notna()].reset_index(drop=True)


def _wearers(people, households: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    """Elderly people living alone, at home: who wears the wristbands and one-touch buttons."""
    alone = people.person_tag.loc[people.person_tag["tag"] == "elderly_alone", "person_id"]
    homes = people.person_household[(people.person_household["kind"] == "residence")
                                     & people.person_household["person_id"].isin(alone)]
    located = homes.merge(households[["id", "building_id"]], left_on="household_id",
                          right_on="id").merge(buildings[["id", "lon", "lat"]],
                                               left_on="building_id", right_on="id")
    return located[["person_id", "building_id", "lon", "lat"]]

"""Vector tiles at /tiles/ (issue 14, point 5) on the demo district, as QGIS and GDAL read
them: each tile written to a file and read back with GDAL's MVT driver (pyogrio), compared
with what the database holds where the tile lies; the user's scope, HTTP Basic with a
personal token, the TileJSON, and the building tile's index path as the app's role."""

from __future__ import annotations

import base64
import math
import secrets
import subprocess

import pyogrio
import pytest
from sqlalchemy import create_engine, text

from layers.registry import SOURCES
from layers.tiles import BUFFER, EXTENT, tile_sql, tiled
from tests.conftest import onemap_command
from tests.db.map_layers.app_role import as_app
from tests.support.clients import Client, demo_client

MVT = "application/vnd.mapbox-vector-tile"
PERSONAL = {name: {f.name for f in source.fields if f.personal}
            for name, source in SOURCES.items()}
# the tile's box with ST_AsMVTGeom's buffer, in Web Mercator: what a tile holds
BUFFERED = f"ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT})"


@pytest.fixture(scope="module")
def owner(demo_district):
    """The demo database as its owner (no row-level security): what the tiles must equal."""
    engine = create_engine(demo_district[0].replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def personal_token(demo_district, username: str) -> str:
    """A personal token of a demo user, made by the CLI as a QGIS user would make one."""
    done = subprocess.run([onemap_command(), "token", "add", username, "--expires", "1"],
                          env=demo_district[1], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def tokens(demo_district) -> dict[str, str]:
    return {name: personal_token(demo_district, name) for name in ("analyst",)}


def basic(username: str, token: str) -> dict:
    pair = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def fetch(app, path: str, headers: dict | None = None):
    return Client(app).send("GET", path, headers=headers)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The z/x/y of the tile holding a WGS84 point."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def read_tile(body: bytes, tmp_path, layer: str, z: int, x: int, y: int):
    """The tile as GDAL reads it: EPSG:3857, the buffer kept (CLIP=NO), as ST_AsMVTGeom
    wrote it."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{layer}-{z}-{x}-{y}.pbf"
    path.write_bytes(body)
    assert [str(n) for n, _kind in pyogrio.list_layers(path)] == [layer]
    return pyogrio.read_dataframe(path, layer=layer, X=str(x), Y=str(y), Z=str(z), CLIP="NO")


@pytest.fixture(scope="module")
def busiest_grid(owner) -> tuple[str, float, float]:
    """The grid with the most events and a point inside it."""
    with owner.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT g.code, ST_X(ST_PointOnSurface(g.geom)), ST_Y(ST_PointOnSurface(g.geom))"
            "  FROM onemap.grid g JOIN onemap.event e ON e.grid_code = g.code"
            " GROUP BY g.code, g.geom ORDER BY count(*) DESC, g.code LIMIT 1")).one())


@pytest.fixture(scope="module")
def worker(demo_district, owner) -> dict:
    """A grid worker's token (the CLI's, as a system would get one) for the grid with the most
    buildings (the demo's own grid worker may have none at this scale), and a point on one."""
    with owner.connect() as conn:
        grid, lon, lat = conn.execute(text(
            "SELECT grid_code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
            "  FROM onemap.building WHERE grid_code = (SELECT grid_code FROM onemap.building"
            "   GROUP BY grid_code ORDER BY count(*) DESC, grid_code LIMIT 1)"
            " ORDER BY id LIMIT 1")).one()
    name = f"tiles-{secrets.token_hex(4)}"
    done = subprocess.run([onemap_command(), "token", "add", name, "--role", "grid_worker",
                           "--scope", grid, "--expires", "1"], env=demo_district[1],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return {"name": name, "token": done.stdout.strip().splitlines()[-1], "grid": grid,
            "point": (lon, lat)}


# -- 1. what a tile holds, read back with GDAL -----------------------------------------------

def test_an_event_tile_reads_back_in_gdal_as_the_database_holds_it(
        demo_app_server, tokens, owner, busiest_grid, tmp_path):
    z, x, y = tile_of(busiest_grid[1], busiest_grid[2], 15)
    reply = fetch(demo_app_server, f"/tiles/events/{z}/{x}/{y}.pbf",
                  basic("analyst", tokens["analyst"]))
    assert reply.status == 200 and reply.headers["Content-Type"] == MVT
    assert reply.headers["Cache-Control"] == "private, max-age=60"
    frame = read_tile(reply.body, tmp_path, "events", z, x, y)
    with owner.connect() as conn:
        expected = {row.id: row for row in conn.execute(text(
            "SELECT id, title, level, state, reporter_name, reporter_phone,"
            " to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
            "   || '+08:00' AS reported_at,"
            " ST_X(ST_Transform(geom, 3857)) AS mx, ST_Y(ST_Transform(geom, 3857)) AS my"
            " FROM onemap.event"
            f" WHERE ST_Intersects(ST_Transform(geom, 3857), {BUFFERED})"),
            {"z": z, "x": x, "y": y})}
    assert len(frame) > 100 and sorted(frame["id"]) == sorted(expected)
    assert {"id", "code", "title", "level", "state", "reported_at", "overdue"} <= set(frame)
    assert not PERSONAL["events"] & set(frame.columns)
    assert b"reporter" not in reply.body  # no personal key at all, not even an empty one
    pixel_m = 2 * 20037508.342789244 / 2 ** z / EXTENT
    for feature in frame.head(50).itertuples():
        row = expected[feature.id]
        assert (feature.title, feature.level, feature.state, feature.reported_at) == (
            row.title, row.level, row.state, row.reported_at)
        assert abs(feature.geometry.x - row.mx) <= pixel_m
        assert abs(feature.geometry.y - row.my) <= pixel_m
        for value in (row.reporter_name, row.reporter_phone):
            assert value is None or value.encode() not in reply.body


@pytest.mark.parametrize("layer", [name for name, s in SOURCES.items() if tiled(s)])
def test_every_tiled_layer_carries_its_non_personal_fields_only(
        demo_app_server, tokens, busiest_grid, tmp_path, layer):
    z, x, y = tile_of(busiest_grid[1], busiest_grid[2], max(14, SOURCES[layer].tile_min_zoom))
    reply = fetch(demo_app_server, f"/tiles/{layer}/{z}/{x}/{y}.pbf",
                  basic("analyst", tokens["analyst"]))
    assert reply.status == 200 and reply.headers["Content-Type"] == MVT
    frame = read_tile(reply.body, tmp_path, layer, z, x, y)
    assert len(frame) > 0, layer
    declared = SOURCES[layer].tile_fields or [f.name for f in SOURCES[layer].fields]
    allowed = {f.name for f in SOURCES[layer].fields if not f.personal and f.name in declared}
    assert set(frame.columns) - {"geometry", "mvt_id"} <= allowed
    assert SOURCES[layer].id_field in frame.columns
    for name in PERSONAL[layer]:
        assert name.encode() not in reply.body


def test_a_heat_cell_at_the_tiles_edge_counts_every_report_in_it(
        demo_app_server, tokens, owner, busiest_grid, tmp_path):
    """A cell is counted from the reports around it, beyond the tile's own buffer."""
    z, x, y = tile_of(busiest_grid[1], busiest_grid[2], 16)
    reply = fetch(demo_app_server, f"/tiles/heat_grid/{z}/{x}/{y}.pbf",
                  basic("analyst", tokens["analyst"]))
    frame = read_tile(reply.body, tmp_path, "heat_grid", z, x, y)
    assert len(frame) >= 4
    with owner.connect() as conn:
        counted = dict(conn.execute(text(
            "WITH size AS (SELECT 200 / cos(radians(ST_Y(ST_Centroid(geom)))) AS m"
            "                FROM onemap.district ORDER BY code LIMIT 1)"
            " SELECT concat(floor(ST_X(p) / m)::bigint, '_', floor(ST_Y(p) / m)::bigint),"
            "        count(*)::int"
            "   FROM (SELECT ST_Transform(geom, 3857) AS p FROM onemap.event) e, size"
            "  GROUP BY 1")).all())
    assert {cell: counted[cell] for cell in frame["cell"]} == dict(
        zip(frame["cell"], frame["reports"]))


# -- 2. the user's scope ---------------------------------------------------------------------

def test_a_grid_workers_tile_holds_their_grid_and_the_analysts_the_district(
        demo_app_server, tokens, owner, worker, tmp_path):
    z, x, y = tile_of(*worker["point"], 14)
    path = f"/tiles/buildings/{z}/{x}/{y}.pbf"
    with owner.connect() as conn:
        inside = dict(conn.execute(text(
            f"SELECT id, grid_code FROM onemap.building"
            f" WHERE ST_Intersects(ST_Transform(geom, 3857), {BUFFERED})"),
            {"z": z, "x": x, "y": y}).all())
    as_worker = fetch(demo_app_server, path, basic(worker["name"], worker["token"]))
    as_analyst = fetch(demo_app_server, path, basic("analyst", tokens["analyst"]))
    worker_sees = read_tile(as_worker.body, tmp_path / "worker", "buildings", z, x, y)
    analyst_sees = read_tile(as_analyst.body, tmp_path / "analyst", "buildings", z, x, y)
    assert set(worker_sees["grid_code"]) == {worker["grid"]}
    assert sorted(worker_sees["id"]) == sorted(
        i for i, code in inside.items() if code == worker["grid"])
    assert sorted(analyst_sees["id"]) == sorted(inside)
    assert len(analyst_sees) > len(worker_sees) > 0


# -- 3. who may read tiles -------------------------------------------------------------------

def test_basic_needs_the_tokens_own_user_and_no_credentials_get_401(
        demo_app_server, tokens, worker):
    z, x, y = tile_of(*worker["point"], 16)
    path = f"/tiles/buildings/{z}/{x}/{y}.pbf"
    assert fetch(demo_app_server, path, basic("analyst", tokens["analyst"])).status == 200
    assert fetch(demo_app_server, path, basic("leader", tokens["analyst"])).status == 401
    assert fetch(demo_app_server, path, basic("analyst", tokens["analyst"] + "x")).status == 401
    bearer = {"Authorization": f"Bearer {worker['token']}"}
    assert fetch(demo_app_server, path, bearer).status == 200
    anonymous = fetch(demo_app_server, path)
    assert anonymous.status == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert fetch(demo_app_server, "/tiles/buildings.json").status == 401
    browser = demo_client(demo_app_server, "leader")
    assert browser.get(path).status == 200


# -- 4. TileJSON and what does not exist -----------------------------------------------------

def test_the_tilejson_describes_the_layer(demo_app_server, tokens, owner):
    analyst = basic("analyst", tokens["analyst"])
    reply = fetch(demo_app_server, "/tiles/buildings.json", analyst)
    assert reply.status == 200 and reply.headers["Content-Type"] == "application/json"
    document = reply.json()
    assert document["tilejson"] == "3.0.0" and document["name"] == "buildings"
    assert document["tiles"] == ["http://localhost/tiles/buildings/{z}/{x}/{y}.pbf"]
    assert document["minzoom"] == 16 and document["maxzoom"] >= 16
    with owner.connect() as conn:
        extent = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            "  FROM (SELECT ST_Extent(geom) AS e FROM onemap.district) d")).one()
    assert document["bounds"] == pytest.approx(list(extent))
    (described,) = document["vector_layers"]
    assert described["id"] == "buildings"
    assert described["fields"]["residents"] == "实住人口 residents"
    assert set(described["fields"]) == {f.name for f in SOURCES["buildings"].fields}

    events = fetch(demo_app_server, "/tiles/events.json", analyst).json()
    # every case of the district in one low-zoom tile was tens of megabytes: tiles from z14,
    # with what a map styles a case by (its texts stay in the OGC API and the exports)
    assert events["minzoom"] == SOURCES["events"].tile_min_zoom == 14
    fields = set(events["vector_layers"][0]["fields"])
    assert "title" in fields and not fields & PERSONAL["events"]
    assert "description" not in fields
    below = fetch(demo_app_server, "/tiles/events/13/6900/3000.pbf", analyst)
    assert below.status == 404
    assert fetch(demo_app_server, "/tiles/district.json", analyst).json()["minzoom"] == 0


@pytest.mark.parametrize("path", [
    "/tiles/nothing.json", "/tiles/nothing/14/0/0.pbf",
    "/tiles/persons.json", "/tiles/persons/16/0/0.pbf",
    "/tiles/buildings/23/0/0.pbf", "/tiles/buildings/1/2/0.pbf", "/tiles/buildings/1/0/2.pbf",
    "/tiles/buildings/0/1/0.pbf", "/tiles/buildings/-1/0/0.pbf", "/tiles/buildings/1/0/-1.pbf",
])
def test_unknown_layers_people_and_tiles_outside_the_pyramid_are_404(
        demo_app_server, tokens, path):
    reply = fetch(demo_app_server, path, basic("analyst", tokens["analyst"]))
    assert reply.status == 404, reply.text
    assert b"persons" not in reply.body  # people are not listed among the tiled layers


def test_an_empty_tile_is_200_with_an_empty_body(demo_app_server, tokens):
    reply = fetch(demo_app_server, "/tiles/buildings/10/0/0.pbf",
                  basic("analyst", tokens["analyst"]))
    assert (reply.status, reply.body, reply.headers["Content-Type"]) == (200, b"", MVT)


# -- 5. the index path as the app's role -----------------------------------------------------

def test_a_building_tile_at_z16_finds_its_rows_through_an_index(owner, worker):
    z, x, y = tile_of(*worker["point"], 16)
    sql, params = tile_sql(SOURCES["buildings"], z, x, y)
    assert "viewport_ids" in sql
    with owner.connect() as conn, conn.begin() as transaction:
        district = conn.execute(text("SELECT code FROM onemap.district")).scalar_one()
        with as_app(conn, district):
            plan = "\n".join(conn.execute(text("EXPLAIN ANALYZE " + sql), params).scalars())
        transaction.rollback()
    assert "Seq Scan on building" not in plan, plan
    assert any("Index Scan" in line and " on building " in line + " "
               for line in plan.splitlines()), plan

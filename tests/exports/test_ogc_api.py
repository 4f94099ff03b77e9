"""The OGC API – Features at /ogc/ as QGIS and GDAL use it: a served OneMap on the demo
district, read with GDAL's OAPIF driver (pyogrio) and HTTP Basic (user name + personal token),
and by hand where the axis order and the paging are the point."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import urllib.error
import urllib.request
from datetime import timedelta

import pyogrio
import pytest
from sqlalchemy import text

from geodata import sessions, users
from onemap.domain.roles import ROLE_CAPABILITIES
from tests.conftest import onemap_command
from tests.support.serving import serving

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@pytest.fixture(scope="module")
def ogc(demo_district):
    """Base URL of the served /ogc/ on the demo district."""
    with serving(demo_district[1], log_prefix="onemap-test-ogc") as base:
        yield base + "/ogc"


def personal_token(demo_district, username: str) -> str:
    done = subprocess.run([onemap_command(), "token", "add", username, "--expires", "1"],
                          env=demo_district[1], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def analyst(demo_district):
    return "analyst", personal_token(demo_district, "analyst")


@pytest.fixture(scope="module")
def street_analyst(owner, street):
    name = f"ogc-{secrets.token_hex(4)}"
    with owner.begin() as conn:
        users.add(conn, username=name, display_name=name, password_hash="!token",
                  role="analyst", scope_code=street)
        user = users.by_username(conn, name)
        token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES["analyst"],
                                    lifetime=timedelta(hours=1))
    return name, token


def get(url: str, credentials=None) -> tuple[int, dict, dict | bytes]:
    request = urllib.request.Request(url)
    if credentials:
        pair = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {pair}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = answer.read()
            return answer.status, dict(answer.headers), json.loads(body)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def gdal(url: str, credentials, layer: str, **options):
    return pyogrio.read_dataframe(f"OAPIF:{url}", layer=layer,
                                  USERPWD=f"{credentials[0]}:{credentials[1]}", **options)


def test_the_landing_page_has_what_qgis_needs(ogc, analyst):
    status, _headers, landing = get(ogc + "/", analyst)
    assert status == 200
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    _s, _h, conformance = get(rels["conformance"]["href"], analyst)
    assert any(c.endswith("/conf/crs") for c in conformance["conformsTo"])
    _s, _h, described = get(rels["service-desc"]["href"], analyst)
    assert described["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items" in described["paths"]


def test_no_credentials_get_401_with_basic_never_the_sign_in_page(ogc, analyst):
    status, headers, _body = get(ogc + "/collections")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    status, headers, _body = get(ogc + "/collections", ("analyst", "not-the-token"))
    assert status == 401
    status, _h, _b = get(ogc + "/collections", ("leader", analyst[1]))  # another's token
    assert status == 401


def test_gdal_reads_the_users_scope_masked(ogc, analyst, street_analyst, owner, street):
    frame = gdal(ogc, analyst, "places")
    with owner.connect() as conn:
        everywhere = conn.execute(text("SELECT count(*) FROM onemap.key_place")).scalar()
        in_street = conn.execute(text(
            "SELECT count(*) FROM onemap.key_place WHERE starts_with(grid_code, :s)"),
            {"s": street}).scalar()
    assert len(frame) == everywhere
    assert frame["contact_name"].dropna().str.contains(r"\*").all()
    assert frame["contact_phone"].dropna().str.contains(r"\*\*\*\*").all()
    theirs = gdal(ogc, street_analyst, "places")
    assert len(theirs) == in_street < everywhere
    assert theirs["grid_code"].str.startswith(street).all()


def test_gdal_asks_for_a_gauss_kruger_zone_and_gets_postgis_coordinates(ogc, analyst, owner):
    frame = gdal(ogc, analyst, "places", CRS="EPSG:4527")
    assert frame.crs.to_epsg() == 4527
    with owner.connect() as conn:
        expected = dict((r[0], (r[1], r[2])) for r in conn.execute(text(
            "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_Transform(geom, 4527) AS p"
            " FROM onemap.key_place) t")))
    for place_id, point in zip(frame["id"], frame.geometry):
        x, y = expected[int(place_id)]
        assert abs(point.x - x) < 0.01 and abs(point.y - y) < 0.01  # GDAL: easting first


def test_epsg_4490_answers_latitude_first(ogc, analyst, owner):
    _s, headers, page = get(f"{ogc}/collections/places/items?limit=5&crs={EPSG}4490", analyst)
    assert headers["Content-Crs"] == f"<{EPSG}4490>"
    with owner.connect() as conn:
        where = dict((r[0], (r[1], r[2])) for r in conn.execute(text(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM onemap.key_place")))
    for feature in page["features"]:
        lat, lon = feature["geometry"]["coordinates"]
        x, y = where[feature["id"]]
        assert abs(lon - x) < 1e-7 and abs(lat - y) < 1e-7


def test_pages_link_on_and_count_what_matches(ogc, analyst, owner):
    _s, _h, first = get(f"{ogc}/collections/events/items?limit=50", analyst)
    with owner.connect() as conn:
        events = conn.execute(text("SELECT count(*) FROM onemap.event")).scalar()
    assert first["numberMatched"] == events and first["numberReturned"] == 50
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    last = max(f["id"] for f in first["features"])
    assert f"after={last}" in following and "offset=50" in following  # keyset, not a sort
    _s, _h, second = get(following, analyst)
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}
    assert min(f["id"] for f in second["features"]) > last and second["numberMatched"] == events
    assert "reporter_phone" in second["features"][0]["properties"]
    assert "*" in (second["features"][0]["properties"]["reporter_phone"] or "*")
    status, _h, _b = get(f"{ogc}/collections/events/items?limit=0", analyst)
    assert status == 400
    status, _h, _b = get(f"{ogc}/collections/events/items?after=1;DROP", analyst)
    assert status == 400


def test_a_bbox_in_cgcs2000_is_read_latitude_first(ogc, analyst, owner, street):
    with owner.connect() as conn:
        west, south, east, north = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom)"
            " AS e FROM onemap.street WHERE code = :s) t"), {"s": street}).one()
        inside = conn.execute(text(
            "SELECT count(*) FROM onemap.camera WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n,"
            " 4326)"), {"w": west, "s": south, "e": east, "n": north}).scalar()
    bbox = f"{south},{west},{north},{east}"
    _s, _h, page = get(f"{ogc}/collections/cameras/items?limit=1&bbox={bbox}"
                       f"&bbox-crs={EPSG}4490", analyst)
    assert page["numberMatched"] == inside > 0


def test_roles_see_only_what_they_may(ogc, demo_district, owner):
    leader = ("leader", personal_token(demo_district, "leader"))
    _s, _h, listed = get(ogc + "/collections", leader)
    ids = {c["id"] for c in listed["collections"]}
    assert "events" in ids and "persons" not in ids
    status, _h, _b = get(ogc + "/collections/persons/items", leader)
    assert status == 404
    _s, _h, page = get(ogc + "/collections/events/items?limit=3", leader)
    assert "reporter_name" not in page["features"][0]["properties"]
    grid_worker = ("gridworker", personal_token(demo_district, "gridworker"))
    status, _h, _b = get(ogc + "/collections", grid_worker)
    assert status == 403
    with owner.connect() as conn:
        pages = conn.execute(text(
            "SELECT count(*) FROM onemap.audit_log WHERE username = 'leader'"
            " AND action = 'ogc_items' AND object_id = 'events'")).scalar()
    assert pages >= 1

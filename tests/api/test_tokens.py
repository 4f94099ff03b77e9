"""API tokens for machine clients (issue 11, point 3, first part), made with the real CLI on the
demo district: a token reports without a browser's same-origin dance and is audited as its
system, stays inside its role and scope, opens no page and no Dash callback, and stops at
expiry and on revocation."""

from __future__ import annotations

import json
import secrets
import subprocess

import psycopg
import pytest

from tests.conftest import onemap_command
from tests.support.clients import Client


def _cli(env, *args) -> str:
    done = subprocess.run([onemap_command(), "token", *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def place(demo_district):
    """The district's code, the first grid and a point in it, and a point in another grid."""
    with psycopg.connect(demo_district[0]) as conn:
        district = conn.execute("SELECT code FROM onemap.district").fetchone()[0]
        grids = conn.execute(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
            " FROM onemap.grid ORDER BY code LIMIT 2 OFFSET 3").fetchall()
    return {"district": district, "grid": grids[0][0], "inside": grids[0][1:],
            "elsewhere": grids[1][1:]}


def _token(demo_district, role: str, scope: str) -> tuple[str, str]:
    name = f"system-{secrets.token_hex(4)}"
    out = _cli(demo_district[1], "add", name, "--role", role, "--scope", scope,
               "--expires", "30")
    return name, out.strip().splitlines()[-1]


def _report(client: Client, token: str, where, ref: str, extra_headers=None):
    headers = {"Authorization": f"Bearer {token}", **(extra_headers or {})}
    status, _h, body, _c = client.request(
        "POST", "/api/events", json_body={"title": "井盖缺失", "category_code": "C0101",
                                          "lon": where[0], "lat": where[1],
                                          "channel": "hotline_12345", "external_ref": ref},
        headers=headers)
    return status, json.loads(body) if body.startswith("{") else body


def test_a_token_reports_and_is_audited_as_its_system(demo_app_server, demo_district, place):
    name, token = _token(demo_district, "duty_officer", place["district"])
    client = Client(demo_app_server)  # no cookie, no Origin: a server, not a browser
    status, made = _report(client, token, place["inside"], f"HL-{secrets.token_hex(4)}")
    assert status == 201, made
    with psycopg.connect(demo_district[0]) as conn:
        audited = conn.execute(
            "SELECT a.username, u.username FROM onemap.audit_log a"
            " JOIN onemap.app_user u ON u.id = a.user_id"
            " WHERE a.action = 'event_report' AND a.object_id = %s",
            (str(made["id"]),)).fetchone()
        reporter = conn.execute(
            "SELECT u.username FROM onemap.event e JOIN onemap.app_user u"
            " ON u.id = e.reported_by_user_id WHERE e.id = %s", (made["id"],)).fetchone()[0]
    assert audited == (name, name) and reporter == name
    listed = _cli(demo_district[1], "list")
    assert name in listed and "live" in listed.split(name, 1)[1].splitlines()[0]


def test_a_token_keeps_to_its_role_and_scope(demo_app_server, demo_district, place):
    _, grid_token = _token(demo_district, "grid_worker", place["grid"])
    _, leader_token = _token(demo_district, "leader", place["district"])
    client = Client(demo_app_server)
    assert _report(client, grid_token, place["inside"], f"G-{secrets.token_hex(4)}")[0] == 201
    assert _report(client, grid_token, place["elsewhere"], f"G-{secrets.token_hex(4)}")[0] == 403
    assert _report(client, leader_token, place["inside"], f"L-{secrets.token_hex(4)}")[0] == 403


def test_a_token_opens_no_page_and_no_dash_callback(demo_app_server, demo_district, place):
    _, token = _token(demo_district, "duty_officer", place["district"])
    client = Client(demo_app_server)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.request("GET", "/api/layers", headers=bearer)[0] == 200
    page = client.request("GET", "/wall", headers=bearer)
    assert page[0] == 302 and "/login" in page[1]["Location"]
    dash = client.request("POST", "/_dash-update-component", json_body={"output": "x"},
                          headers={**bearer, **client.same_origin()})
    assert dash[0] == 401


def test_a_wrong_expired_or_revoked_token_is_401(demo_app_server, demo_district, place):
    name, token = _token(demo_district, "duty_officer", place["district"])
    client = Client(demo_app_server)
    assert _report(client, token + "x", place["inside"], "W-1")[0] == 401
    assert client.request("GET", "/api/layers", headers={"Authorization": "Bearer "})[0] == 401
    with psycopg.connect(demo_district[0]) as conn:
        conn.execute("UPDATE onemap.web_session SET expires_at = now() - interval '1 second'"
                     " WHERE user_id = (SELECT id FROM onemap.app_user WHERE username = %s)",
                     (name,))
    assert _report(client, token, place["inside"], "E-1")[0] == 401
    other_name, other = _token(demo_district, "duty_officer", place["district"])
    assert client.request("GET", "/api/layers",
                          headers={"Authorization": f"Bearer {other}"})[0] == 200
    assert "revoked 1 token" in _cli(demo_district[1], "revoke", other_name)
    assert client.request("GET", "/api/layers",
                          headers={"Authorization": f"Bearer {other}"})[0] == 401
    with psycopg.connect(demo_district[0]) as conn:
        actions = [r[0] for r in conn.execute(
            "SELECT action FROM onemap.audit_log WHERE object_id = %s AND action LIKE 'token_%%'"
            " ORDER BY id", (other_name,))]
    assert actions == ["token_add", "token_revoke"]


def test_a_token_cannot_sign_in_through_the_form_and_revoke_spares_people(demo_district,
                                                                          demo_app_server,
                                                                          place):
    name, _token_value = _token(demo_district, "duty_officer", place["district"])
    client = Client(demo_app_server)
    assert client.sign_in(name, "!token")[0] != 302  # the form refuses it
    done = subprocess.run([onemap_command(), "token", "revoke", "duty"], env=demo_district[1],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "no token named" in done.stderr


def test_a_retried_post_with_the_same_idempotency_key_is_one_case(demo_app_server,
                                                                   demo_district, place):
    _, token = _token(demo_district, "duty_officer", place["district"])
    client = Client(demo_app_server)
    key = f"retry-{secrets.token_hex(6)}"
    photo = "https://img.example.cn/12345/a.jpg"

    def post():
        status, _h, body, _c = client.request(
            "POST", "/api/events", headers={"Authorization": f"Bearer {token}",
                                            "Idempotency-Key": key},
            json_body={"title": "路灯不亮", "category_code": "C0101", "lon": place["inside"][0],
                       "lat": place["inside"][1], "channel": "hotline_12345",
                       "photos": [photo]})
        return status, json.loads(body)

    first, again = post(), post()
    assert (first[0], again[0]) == (201, 200)
    assert again[1]["id"] == first[1]["id"]
    with psycopg.connect(demo_district[0]) as conn:
        stored = conn.execute("SELECT count(*), min(photo_urls[1]) FROM onemap.event"
                              " WHERE external_ref = %s", (key,)).fetchone()
    assert stored == (1, photo)


def test_a_token_sees_people_masked_and_refused_as_its_role_would(demo_app_server,
                                                                  demo_district, place):
    """A system's token is no way around masking: an analyst's token cannot confirm a guessed
    ID number, and a name search answers masked names only, audited under the system's name."""
    name, token = _token(demo_district, "analyst", place["district"])
    client = Client(demo_app_server)
    bearer = {"Authorization": f"Bearer {token}"}
    with psycopg.connect(demo_district[0]) as conn:
        person_name, id_number = conn.execute(
            "SELECT name, id_number FROM onemap.person WHERE id_number IS NOT NULL"
            " AND char_length(name) = 3 ORDER BY id LIMIT 1").fetchone()
    refused = client.request("POST", "/api/persons/search", json_body={"q": id_number},
                             headers=bearer)
    assert refused[0] == 403 and id_number not in refused[2]
    status, _h, body, _c = client.request("POST", "/api/persons/search",
                                          json_body={"q": person_name}, headers=bearer)
    assert status == 200 and json.loads(body), body[:300]
    assert person_name not in body and id_number not in body and id_number[6:14] not in body
    with psycopg.connect(demo_district[0]) as conn:
        searched = conn.execute("SELECT count(*) FROM onemap.audit_log WHERE username = %s"
                                " AND action = 'person_search'", (name,)).fetchone()[0]
    assert searched == 1  # the refused one is audited as refused, not as a search

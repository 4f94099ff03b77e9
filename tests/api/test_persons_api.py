"""Person look-up over HTTP: scope, masking, unmasking with a purpose, and the audit log."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import text

from onemap.domain import idcard
from tests.fixtures.hierarchy import insert_building, insert_hierarchy, insert_household
from tests.support.clients import Client
from tests.support.in_process import settings_changed


def _resident(conn, n: int, building: int, room: str, surname: str) -> tuple[int, str]:
    home = insert_household(conn, building, room)
    born = date(1960, 3, n)
    id_number = idcard.make("210103", born, "F", n)
    pid = conn.execute(text(
        "INSERT INTO person (id_number, name, gender, birth_date, phone, population_type)"
        " VALUES (:i, :name, 'F', :b, :phone, 'registered') RETURNING id"),
        {"i": id_number, "name": f"{surname}秀英", "b": born, "phone": f"1391234{n:04d}"},
    ).scalar_one()
    conn.execute(text("INSERT INTO person_household (person_id, household_id, kind, relation)"
                      " VALUES (:p, :h, 'residence', 'householder')"), {"p": pid, "h": home})
    return pid, id_number


@pytest.fixture(scope="module")
def residents(engine, demo_users):
    """One resident in the grid worker's grid (with a sensitive tag), one in another community."""
    with engine.begin() as conn:
        codes = insert_hierarchy(conn)
        mine = insert_building(conn, codes["grid"][0], "B-MINE")
        theirs = insert_building(conn, codes["grid"][3], "B-THEIRS")
        p_mine, id_mine = _resident(conn, 1, mine, "501", "周")
        p_theirs, _ = _resident(conn, 2, theirs, "502", "周")
        conn.execute(text("INSERT INTO person_sensitive_tag (person_id, tag)"
                          " VALUES (:p, 'severe_mental_disorder')"), {"p": p_mine})
        conn.execute(text("INSERT INTO person_tag (person_id, tag) VALUES (:p, 'disabled')"),
                     {"p": p_mine})
    yield {"mine": p_mine, "theirs": p_theirs, "id_mine": id_mine}
    with engine.begin() as conn:
        for table in ("person_tag", "person_sensitive_tag", "person_household", "person",
                      "household", "floor", "unit", "building", "grid", "community", "street",
                      "district"):
            conn.execute(text(f"DELETE FROM {table}"))


def signed_in(base: str, username: str) -> Client:
    client = Client(base)
    assert client.sign_in(username)[0] == 302
    return client


def audit_count(engine, **where) -> int:
    clause = " AND ".join(f"{k} = :{k}" for k in where)
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM audit_log WHERE {clause}"), where).scalar()


def test_a_look_up_is_masked_and_audited_once(app_server, residents, engine):
    client = signed_in(app_server, "gridworker")
    before = audit_count(engine, action="person_lookup", object_id=str(residents["mine"]))
    status, _h, body, _ = client.request("GET", f"/api/persons/{residents['mine']}")
    assert status == 200, body
    record = json.loads(body)
    assert record["name"] == "周**"
    assert record["id_number"] == residents["id_mine"][:6] + "********" + residents["id_mine"][-4:]
    assert record["phone"] == "139****0001"
    assert residents["id_mine"] not in body
    assert record["homes"][0]["room_number"] == "501"
    # the grid worker looks after this person, so the sensitive tag is theirs to see
    assert {t["code"] for t in record["tags"]} == {"disabled", "severe_mental_disorder"}
    assert audit_count(engine, action="person_lookup",
                       object_id=str(residents["mine"])) == before + 1


def test_another_communitys_resident_is_not_there_and_the_attempt_is_recorded(
        app_server, residents, engine):
    client = signed_in(app_server, "gridworker")
    before = audit_count(engine, action="person_lookup", object_id=str(residents["theirs"]))
    status, _h, body, _ = client.request("GET", f"/api/persons/{residents['theirs']}")
    assert status == 404 and "周" not in body
    # the same answer as for an id that does not exist at all: no existence leak
    assert client.request("GET", "/api/persons/999999999")[0] == 404
    assert audit_count(engine, action="person_lookup",
                       object_id=str(residents["theirs"])) == before + 1


def test_search_keeps_to_the_scope_and_keeps_names_out_of_urls(app_server, residents):
    client = signed_in(app_server, "gridworker")
    status, _h, body, _ = client.request("POST", "/api/persons/search", json_body={"q": "周"},
                                         headers=client.same_origin())
    assert status == 200
    assert [r["id"] for r in json.loads(body)] == [residents["mine"]]
    duty = signed_in(app_server, "duty")
    _s, _h, body, _ = duty.request("POST", "/api/persons/search", json_body={"q": "周"},
                                   headers=duty.same_origin())
    assert {r["id"] for r in json.loads(body)} == {residents["mine"], residents["theirs"]}
    assert all("*" in r["name"] for r in json.loads(body))


def test_sensitive_tags_stay_hidden_from_roles_without_the_right(app_server, residents):
    duty = signed_in(app_server, "duty")
    _s, _h, body, _ = duty.request("GET", f"/api/persons/{residents['mine']}")
    assert {t["code"] for t in json.loads(body)["tags"]} == {"disabled"}
    assert "severe_mental_disorder" not in body


def test_roles_without_look_up_are_refused(app_server, residents):
    for username in ("leader", "admin"):
        client = signed_in(app_server, username)
        assert client.request("GET", f"/api/persons/{residents['mine']}")[0] == 403
        assert client.request("POST", "/api/persons/search", json_body={"q": "周"},
                              headers=client.same_origin())[0] == 403


def test_unmasking_needs_the_right_and_a_purpose_and_is_audited(app_server, residents, engine):
    analyst = signed_in(app_server, "analyst")
    assert analyst.request("POST", f"/api/persons/{residents['mine']}/unmask",
                           json_body={"purpose": "核实低保资格"},
                           headers=analyst.same_origin())[0] == 403
    duty = signed_in(app_server, "duty")
    assert duty.request("POST", f"/api/persons/{residents['mine']}/unmask", json_body={},
                        headers=duty.same_origin())[0] == 400
    before = audit_count(engine, action="unmask", object_id=str(residents["mine"]))
    status, _h, body, _ = duty.request("POST", f"/api/persons/{residents['mine']}/unmask",
                                       json_body={"purpose": "走访核实联系电话"},
                                       headers=duty.same_origin())
    assert status == 200
    assert json.loads(body)["id_number"] == residents["id_mine"]
    assert audit_count(engine, action="unmask", object_id=str(residents["mine"])) == before + 1
    with engine.connect() as conn:
        purpose = conn.execute(text("SELECT purpose FROM audit_log WHERE action = 'unmask'"
                                    " ORDER BY id DESC LIMIT 1")).scalar()
    assert purpose == "走访核实联系电话"


def test_the_api_needs_a_session(app_server, residents):
    client = Client(app_server)
    assert client.request("GET", f"/api/persons/{residents['mine']}")[0] == 401
    assert client.request("POST", "/api/persons/search", json_body={"q": "周"},
                          headers=client.same_origin())[0] == 401


# role -> (may look up and search, may unmask)
EXPECTED = {"duty": (True, True), "leader": (False, False), "analyst": (True, False),
            "gridworker": (True, True), "admin": (False, False)}


def test_the_role_matrix_for_people(app_server, residents):
    """Each role against each person endpoint, for a resident every role's scope holds."""
    for username, (may_look, may_unmask) in EXPECTED.items():
        client = signed_in(app_server, username)
        look = client.request("GET", f"/api/persons/{residents['mine']}")[0]
        found = client.request("POST", "/api/persons/search", json_body={"q": "周"},
                               headers=client.same_origin())[0]
        unmask = client.request("POST", f"/api/persons/{residents['mine']}/unmask",
                                json_body={"purpose": "矩阵测试核对"},
                                headers=client.same_origin())[0]
        assert (look, found) == ((200, 200) if may_look else (403, 403)), username
        assert unmask == (200 if may_unmask else 403), username


def test_look_ups_are_rate_limited_per_user(app_server, residents):
    with settings_changed(LOOKUP_RATE_LIMIT="3 per minute", LOGIN_RATE_LIMIT="100 per minute"):
        client = signed_in(app_server, "duty")
        codes = [client.request("GET", f"/api/persons/{residents['mine']}")[0] for _ in range(5)]
        other = signed_in(app_server, "gridworker")  # another user has a budget of their own
        assert other.request("GET", f"/api/persons/{residents['mine']}")[0] == 200
    assert codes == [200, 200, 200, 429, 429]

"""Masking that holds against combination, on the demo district (100 k people), over HTTP.

The outside test rebuilt 51 of 51 full ID numbers from a masked ID plus the birth date, and
recovered a masked name by growing a prefix one character at a time. Each is replayed here as
the analyst (a role that may look people up but not unmask), then a property test throws
random people and query sequences at the person API and checks that no answer holds any
masked value's hidden part."""

from __future__ import annotations

import json
import secrets
import subprocess
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from geodata import users
from geodata.db import make_engine
from onemap.access.passwords import hash_password
from tests.conftest import onemap_command
from tests.support.clients import Client, demo_client
from tests.support.in_process import settings_changed

GENEROUS = {"LOOKUP_RATE_LIMIT": "100000 per minute", "LOOKUP_MISS_LIMIT": "100000 per day"}


@pytest.fixture(scope="module")
def owner(demo_district):
    engine = make_engine(demo_district[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def privacy_server(demo_app_server):
    with settings_changed(**GENEROUS):
        yield demo_app_server


@pytest.fixture(scope="module")
def analyst(privacy_server):
    return demo_client(privacy_server, "analyst")


@pytest.fixture(scope="module")
def sample(owner) -> list[dict]:
    """51 people, as the outside test took them, with their true values."""
    with owner.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, name, birth_date, id_number, phone FROM onemap.person"
            " WHERE id % 1973 = 7 ORDER BY id LIMIT 51")).mappings().all()
    return [dict(r) for r in rows]


def _truth(owner, ids: set[int]) -> list[dict]:
    with owner.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "SELECT id, name, birth_date, id_number, phone FROM onemap.person"
            " WHERE id = ANY(:ids)"), {"ids": sorted(ids)}).mappings()]


def _hidden_parts(person: dict) -> list[str]:
    """What the masks hide: the ID's birth-date digits, the birth date, the whole name and
    the whole phone number."""
    parts = [person["birth_date"].isoformat(), person["birth_date"].strftime("%Y%m%d")]
    if person["id_number"]:
        parts.append(person["id_number"][6:14])
    if person["name"] and len(person["name"]) > 1:
        parts.append(person["name"])
    if person["phone"]:
        parts.append(person["phone"])
    return parts


def _search(client: Client, query: str) -> tuple[int, str]:
    status, _h, body, _c = client.request("POST", "/api/persons/search",
                                          headers=client.same_origin(), json_body={"q": query})
    return status, body


def _look_up(client: Client, person_id: int) -> tuple[int, str]:
    status, _h, body, _c = client.request("GET", f"/api/persons/{person_id}")
    return status, body


def test_the_masked_id_can_no_longer_be_completed_from_the_answer(analyst, sample):
    assert len(sample) == 51
    rebuilt = 0
    for person in sample:
        status, body = _look_up(analyst, person["id"])
        assert status == 200
        answer = json.loads(body)
        assert "birth_date" not in answer and answer["age_band"]
        masked = answer["id_number"]
        assert masked == person["id_number"][:6] + "*" * 8 + person["id_number"][-4:]
        for hidden in _hidden_parts(person):
            assert hidden not in body, (person["id"], hidden)
        rebuilt += any(v for k, v in answer.items() if k.startswith("birth"))
    assert rebuilt == 0


def test_a_full_id_search_does_not_confirm_anything_for_a_role_that_may_not_unmask(
        analyst, sample, owner):
    with owner.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM onemap.audit_log WHERE action ="
                                   " 'refused' AND object_id = 'unmask_person'")).scalar()
    for person in sample[:5]:
        status, body = _search(analyst, person["id_number"])
        assert status == 403
        assert set(json.loads(body)) == {"error"}  # nothing about anybody
    with owner.connect() as conn:
        after = conn.execute(text("SELECT count(*) FROM onemap.audit_log WHERE action ="
                                  " 'refused' AND object_id = 'unmask_person'")).scalar()
    assert after - before == 5


def test_a_growing_name_prefix_finds_nobody_until_the_name_is_whole(analyst, sample):
    for person in sample[:10]:
        name = person["name"]
        for end in range(1, len(name)):
            status, body = _search(analyst, name[:end])
            assert status == 200
            assert person["id"] not in {p["id"] for p in json.loads(body)}, (name, end)
        status, body = _search(analyst, name)
        found = {p["id"]: p for p in json.loads(body)}
        assert person["id"] in found and found[person["id"]]["name"] != name


_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@st.composite
def _queries(draw, person: dict) -> str:
    name, id_number = person["name"], person["id_number"]
    guessed_birth = draw(st.dates(date(1920, 1, 1), date(2020, 12, 31))).strftime("%Y%m%d")
    return draw(st.sampled_from([
        name[: draw(st.integers(1, len(name)))],                    # a prefix, or the name
        name[:1] + draw(_CJK),                                       # surname + a guess
        name[:2] + draw(_CJK),
        id_number,                                                   # the whole ID
        id_number[:6] + guessed_birth + id_number[-4:],              # the rebuild attempt
        id_number[:6] + person["birth_date"].strftime("%Y%m%d") + id_number[-4:],
        draw(st.text(min_size=1, max_size=8)),                       # anything at all
    ]))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_no_answer_holds_a_masked_values_hidden_part(analyst, sample, owner, data):
    person = data.draw(st.sampled_from(sample))
    queries = data.draw(st.lists(_queries(person), min_size=1, max_size=6))
    answers = [_look_up(analyst, person["id"])] + [_search(analyst, q) for q in queries]
    seen: set[int] = set()
    for status, body in answers:
        assert status in (200, 400, 403), body
        if status != 200:
            continue
        parsed = json.loads(body)
        seen |= {p["id"] for p in (parsed if isinstance(parsed, list) else [parsed])}
    for truth in _truth(owner, seen):
        for _status, body in answers:
            for hidden in _hidden_parts(truth):
                assert hidden not in body, (truth["id"], hidden)


def _names_nobody_has(owner, count: int) -> list[str]:
    """Guesses that find nobody: a surname and a character, none of them a demo resident's
    whole name (the demo's names are drawn at random, so some such pairs exist)."""
    guesses = [f"孟{chr(0x4E00 + n)}" for n in range(4 * count)]
    with owner.connect() as conn:
        taken = set(conn.execute(text("SELECT name FROM onemap.person WHERE name = ANY(:g)"),
                                 {"g": guesses}).scalars())
    return [guess for guess in guesses if guess not in taken][:count]


def test_guessing_locks_the_users_look_ups_until_an_administrator_unlocks(
        demo_district, demo_app_server, owner):
    url, env = demo_district
    username = f"guess-{secrets.token_hex(3)}"
    with owner.begin() as conn:
        district = conn.execute(text("SELECT code FROM onemap.district")).scalar_one()
        users.add(conn, username=username, display_name=username, role="analyst",
                  scope_code=district, password_hash=hash_password("guessing-2026"))
    with settings_changed(LOOKUP_MISS_LIMIT="5 per day"):
        client = Client(demo_app_server)
        assert client.sign_in(username, "guessing-2026")[0] == 302
        statuses = [_search(client, guess)[0] for guess in _names_nobody_has(owner, 8)]
        # five misses allowed, the sixth locks (it is answered: it was run and audited)
        assert statuses[:6] == [200] * 6 and statuses[6:] == [423, 423], statuses
        assert _look_up(client, 1)[0] == 423
        with owner.connect() as conn:
            alerts = conn.execute(text(
                "SELECT count(*) FROM onemap.audit_log a JOIN onemap.app_user u"
                " ON u.id = a.user_id WHERE u.username = :u AND a.action = 'lookup_locked'"),
                {"u": username}).scalar()
        assert alerts == 1
        done = subprocess.run([onemap_command(), "user", "unlock", username], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert _search(client, "孟")[0] == 200

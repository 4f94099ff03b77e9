"""/api/openapi.json: served, built from the routes and request models the code has (every
/api/ route documented, each body's schema the model that checks it), and no request that
fits — or nearly fits — the document makes the app fail with a 500 (schemathesis, through
the app's own WSGI interface, as a machine client with an API token)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from geodata import sessions, users
from geodata.db import make_engine
from onemap.domain.intake import ReportBody
from onemap.domain.roles import ROLE_CAPABILITIES
from onemap.web.openapi import build_document, undocumented
from tests.support.clients import Client


@pytest.fixture(scope="module")
def machine_token(demo_district) -> str:
    """A duty officer's API token scoped to one grid no other test reports in: whatever the
    generated requests do, they do it there (row-level security keeps the rest out of
    reach)."""
    url = demo_district[0]
    with psycopg.connect(url) as conn:
        grid = conn.execute("SELECT code FROM onemap.grid ORDER BY code LIMIT 1 OFFSET 9"
                            ).fetchone()[0]
    engine = make_engine(url)
    name = f"fuzz-{secrets.token_hex(4)}"
    with engine.begin() as conn:
        users.add(conn, username=name, display_name=name, password_hash="!token",
                  role="duty_officer", scope_code=grid)
        token = sessions.open_token(conn, users.by_username(conn, name),
                                    capabilities=ROLE_CAPABILITIES["duty_officer"],
                                    lifetime=timedelta(days=1))
    engine.dispose()
    return token


def _document(client: Client, token: str) -> tuple[int, dict]:
    status, _h, body, _c = client.request("GET", "/api/openapi.json",
                                          headers={"Authorization": f"Bearer {token}"})
    return status, json.loads(body)


def test_the_document_is_served_and_names_every_api_route(demo_app_server, machine_token):
    assert undocumented(demo_app_server) == []
    status, document = _document(Client(demo_app_server), machine_token)
    assert status == 200 and document["openapi"].startswith("3.1")
    paths = document["paths"]
    for route in ("/api/events", "/api/events/{event_id}/transitions",
                  "/api/events/{event_id}/extension", "/api/sensors/readings",
                  "/api/staff/me/position", "/api/layers/{name}", "/api/openapi.json"):
        assert route in paths, route
    report = paths["/api/events"]["post"]
    assert report["x-capability"] == "report_event"
    assert any(p["name"] == "Idempotency-Key" for p in report["parameters"])
    assert Client(demo_app_server).request("GET", "/api/openapi.json")[0] == 401


def test_a_body_is_described_by_the_model_that_checks_it(demo_app_server):
    document = build_document(demo_app_server)
    ref = document["paths"]["/api/events"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]["$ref"]
    described = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    checked = ReportBody.model_json_schema()
    assert set(described["properties"]) == set(checked["properties"])
    assert set(described["required"]) == {"title", "category_code", "lon", "lat"}
    assert described["properties"]["title"]["maxLength"] == 200


@pytest.fixture(scope="module")
def api_schema(demo_app_server, machine_token):
    return schemathesis.openapi.from_wsgi(
        "/api/openapi.json", demo_app_server,
        headers={"Authorization": f"Bearer {machine_token}"})


def test_no_request_makes_the_api_fail(api_schema, machine_token):
    """Every operation, with bodies, parameters and headers generated from the document (and
    some that break it on purpose): 4xx is fine, a 500 is a bug."""
    auth = {"Authorization": f"Bearer {machine_token}"}
    failures, calls, answered = [], [], set()
    operations = [loaded.ok() for loaded in api_schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def exercise(case):
            response = case.call(headers=auth)
            calls.append(operation.label)
            answered.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{operation.label}: {response.status_code} "
                                f"{case.as_curl_command(auth)}")

        exercise()
    assert len(set(calls)) == len(operations) >= 15, sorted(set(calls))
    assert {200, 400, 404} <= answered, answered  # it got through to real work, and was refused
    assert not failures, "\n".join(failures[:10])

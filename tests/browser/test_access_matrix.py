"""Every role against every page and endpoint, on the demo district: what the role table in
onemap/domain/roles.py allows answers, everything else is refused (and never half-done)."""

from __future__ import annotations

import pytest

from onemap.domain.roles import Capability, can
from tests.browser.conftest import Client, demo_client

pytestmark = pytest.mark.browser

ROLE_OF = {"duty": "duty_officer", "leader": "leader", "analyst": "analyst",
           "gridworker": "grid_worker", "admin": "admin"}
BBOX = "bbox=123.0,41.5,124.0,42.0&zoom=16"

# (method, path, JSON body, the capability it needs, status when allowed, when refused)
ENDPOINTS = [
    ("GET", "/api/layers", None, Capability.VIEW_MAP, 200, 403),
    ("GET", f"/api/layers/events?{BBOX}", None, Capability.VIEW_MAP, 200, 403),
    ("GET", "/api/live", None, Capability.VIEW_MAP, 200, 403),
    ("GET", "/api/persons/999999999", None, Capability.LOOKUP_PERSON, 404, 403),
    ("POST", "/api/persons/search", {"q": "zz-nobody"}, Capability.LOOKUP_PERSON, 200, 403),
    ("POST", "/api/persons/999999999/unmask", {"purpose": "matrix test"},
     Capability.UNMASK_PERSON, 404, 403),
    # an invalid report: allowed roles get as far as validation (400), nothing is stored
    ("POST", "/api/events", {"title": ""}, Capability.REPORT_EVENT, 400, 403),
    ("POST", "/api/events/999999999/transitions", {"action": "register"},
     Capability.HANDLE_EVENT, 404, 403),
]
# pages answer 200 for everybody signed in; what they hold depends on the role
PAGES = [("/", Capability.VIEW_MAP, "count-tile", "无权限"),
         ("/wall", Capability.VIEW_MAP, "wall-map", "无权限"),
         ("/admin/audit", Capability.VIEW_AUDIT, "audit-filters", "无权限")]


@pytest.fixture(scope="module")
def clients(demo_server):
    return {username: demo_client(demo_server, username) for username in ROLE_OF}


@pytest.mark.parametrize("username", list(ROLE_OF))
@pytest.mark.parametrize(("method", "path", "body", "capability", "allowed", "refused"),
                         ENDPOINTS, ids=[f"{m} {p.split('?')[0]}" for m, p, *_ in ENDPOINTS])
def test_endpoint_answers_by_role(clients, username, method, path, body, capability, allowed,
                                  refused):
    client = clients[username]
    status, _h, answer, _ = client.request(method, path, json_body=body,
                                           headers=client.same_origin())
    expected = allowed if can(ROLE_OF[username], capability) else refused
    assert status == expected, (username, path, answer[:200])


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_pages_by_role(clients, username):
    """A page's layout (fetched as the browser does) holds its content only for the roles
    the table allows, and says "not permitted" to the others."""
    import json

    client = clients[username]
    for path, capability, marker, refusal in PAGES:
        payload = {
            "output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": [],
        }
        status, _h, body, _ = client.request("POST", "/_dash-update-component",
                                             json_body=payload, headers=client.same_origin())
        assert status == 200, (username, path, body[:300])
        text = json.dumps(json.loads(body), ensure_ascii=False)
        if can(ROLE_OF[username], capability):
            assert marker in text and refusal not in text, (username, path)
        else:
            assert refusal in text and marker not in text, (username, path)


def test_nothing_answers_without_a_session(demo_server):
    client = Client(demo_server)
    for method, path, body, *_ in ENDPOINTS:
        status, *_ = client.request(method, path, json_body=body, headers=client.same_origin())
        assert status == 401, path

"""Every role against every API view and every page, on the demo district, walked from the app
itself: Flask's URL map with the capability @requires recorded on each view, and Dash's page
registry with the capability each page declares. What the role table in onemap/domain/roles.py
allows gets in; everything else is refused (403, audited, nothing done). A view or page that
declares no capability must be one of the few listed here, so a new one that forgets fails."""

from __future__ import annotations

import json

import dash
import pytest

from app import server
from onemap.domain.roles import can
from onemap.web.errors import NotPermitted
from tests.browser.conftest import Client, demo_client

pytestmark = pytest.mark.browser

ROLE_OF = {"duty": "duty_officer", "leader": "leader", "analyst": "analyst",
           "gridworker": "grid_worker", "admin": "admin"}

# the only routes without a capability of their own, and why
NO_CAPABILITY = {
    "/login": "the sign-in form and its POST come before any role",
    "/logout": "anybody may sign out",
    "/healthz": "monitors ask it without signing in",
    "/static/<path:filename>": "Flask's static folder (the app has none)",
    "/assets/<path:filename>": "CSS and JS",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": "Dash's JS",
    "/_dash-layout": "Dash's empty shell",
    "/_dash-dependencies": "the list of callbacks",
    "/_dash-update-component": "callbacks: each checks the right of its page itself",
    "/_reload-hash": "Dash's hot reload (off outside debug)",
    "/_favicon.ico": "the tab's icon",
    "/": "Dash's page route: the page registry holds each page's right",
    "/<path:path>": "Dash's page route: the page registry holds each page's right",
    "/open311/v2/discovery.<any(json, xml):fmt>": "Open311's service discovery: public",
    "/open311/v2/services.<any(json, xml):fmt>": "Open311's service list: public, as the spec",
    "/open311/v2/services/<code>.<any(json, xml):fmt>": "an Open311 service: public",
    "/open311/<path:_rest>": "unknown Open311 paths: 404 (after the token check)",
}
# pages registered with capability=None: anybody signed in may open them
OPEN_PAGES = {"/404": "a wrong path is not a question of role"}
NOT_PERMITTED_PAGE = "not-permitted"  # the class of pages.shell.not_permitted()
ANY_ID = "999999999"  # fills every path argument: no such person, event or layer


def _api_calls() -> list[tuple[str, str, str, object]]:
    """(method, URL, rule, capability) for every method of every view under /api/."""
    urls = server.url_map.bind("localhost")
    calls = []
    for rule in server.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = server.view_functions[rule.endpoint]
        url = urls.build(rule.endpoint, dict.fromkeys(rule.arguments, ANY_ID))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((method, url, rule.rule, getattr(view, "required_capability", None)))
    return calls


API_CALLS = _api_calls()
API_IDS = [f"{method} {rule}" for method, _url, rule, _c in API_CALLS]


def _pages() -> list[dict]:
    return list(dash.page_registry.values())


def test_every_route_records_its_capability_or_is_listed():
    missing = sorted(
        rule.rule for rule in server.url_map.iter_rules()
        if getattr(server.view_functions[rule.endpoint], "required_capability", None) is None
        and rule.rule not in NO_CAPABILITY)
    assert missing == [], f"add @requires(Capability.…) to the views of {missing}"
    assert not any(path.startswith("/api/") for path in NO_CAPABILITY)
    stale = set(NO_CAPABILITY) - {rule.rule for rule in server.url_map.iter_rules()}
    assert stale == set(), f"no such route any more: {sorted(stale)}"
    assert len(API_CALLS) >= 8  # the walk sees the API at all


def test_every_page_declares_its_capability():
    undeclared = sorted(page["path"] for page in _pages() if "capability" not in page)
    assert undeclared == [], f"add capability=Capability.… to register_page of {undeclared}"
    open_pages = {page["path"] for page in _pages() if page["capability"] is None}
    assert open_pages == set(OPEN_PAGES)


@pytest.fixture(scope="module")
def clients(demo_server):
    return {username: demo_client(demo_server, username) for username in ROLE_OF}


@pytest.mark.parametrize("username", list(ROLE_OF))
@pytest.mark.parametrize(("method", "url", "rule", "capability"), API_CALLS, ids=API_IDS)
def test_api_answers_by_role(clients, username, method, url, rule, capability):
    """An empty body or a made-up id: the roles allowed get as far as the view's own answer
    (nothing found, nothing valid to store), the others its refusal and nothing else."""
    client = clients[username]
    body = {} if method != "GET" else None
    status, _h, answer, _ = client.request(method, url, json_body=body,
                                           headers=client.same_origin())
    if can(ROLE_OF[username], capability):
        assert status not in (401, 403) and status < 500, (username, rule, answer[:200])
    else:
        assert (status, json.loads(answer)) == (403, NotPermitted().body()), (username, rule)


def _router_call(path: str) -> dict:
    """Dash's page router, called as the browser calls it when the address changes."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"], "state": [],
    }


@pytest.mark.parametrize("username", list(ROLE_OF))
def test_pages_by_role(clients, username):
    """A page's layout holds its content for the roles its capability allows, and says "not
    permitted" to the others; open pages show to everybody."""
    client = clients[username]
    pages = [page for page in _pages() if "capability" in page]
    assert pages
    for page in pages:
        status, _h, body, _ = client.request("POST", "/_dash-update-component",
                                             json_body=_router_call(page["path"]),
                                             headers=client.same_origin())
        assert status == 200, (username, page["path"], body[:300])
        refused = NOT_PERMITTED_PAGE in json.dumps(json.loads(body))
        capability = page["capability"]
        allowed = capability is None or can(ROLE_OF[username], capability)
        assert refused is not allowed, (username, page["path"])


def _component(tree, class_name: str) -> dict | None:
    """The first component of a rendered layout (Dash's JSON) with this class."""
    if isinstance(tree, list):
        return next(filter(None, (_component(item, class_name) for item in tree)), None)
    if not isinstance(tree, dict):
        return None
    if tree.get("props", {}).get("className") == class_name:
        return tree
    return next(filter(None, (_component(value, class_name) for value in tree.values())), None)


def test_the_header_links_the_pages_each_role_may_open(clients):
    """The header's links come from the registry: exactly the pages the role may open."""
    linkable = [page for page in _pages() if page.get("capability") is not None]
    for username, client in clients.items():
        _s, _h, body, _ = client.request("POST", "/_dash-update-component",
                                         json_body=_router_call("/404"),
                                         headers=client.same_origin())
        nav = _component(json.loads(body)["response"], "page-nav")
        shown = [link["props"]["href"] for link in nav["props"]["children"]]
        expected = [page["relative_path"] for page in linkable
                    if can(ROLE_OF[username], page["capability"])]
        assert shown == expected, username


def test_nothing_answers_without_a_session(demo_server):
    client = Client(demo_server)
    for method, url, rule, _capability in API_CALLS:
        body = {} if method != "GET" else None
        status, *_ = client.request(method, url, json_body=body, headers=client.same_origin())
        assert status == 401, rule
    for page in _pages():
        status, *_ = client.request("POST", "/_dash-update-component",
                                    json_body=_router_call(page["path"]),
                                    headers=client.same_origin())
        assert status == 401, page["path"]

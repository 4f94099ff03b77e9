"""Unknown API paths are JSON 404s (the not-found page: tests/browser/test_not_found.py)."""

from __future__ import annotations

import json

from tests.support.clients import Client


def _client(base: str) -> Client:
    client = Client(base)
    assert client.sign_in("duty")[0] == 302
    return client


def test_an_unknown_api_path_is_a_json_404(app_server):
    client = _client(app_server)
    for path in ("/api/nothing", "/api/persons/x/y", "/api/layers/a/b/c"):
        status, headers, body, _ = client.request("GET", path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("application/json")
        assert set(json.loads(body)) == {"error"}

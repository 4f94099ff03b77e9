"""Raw requests and the refusals they should get: bodies sent byte for byte, and the check that
an answer is a bilingual JSON error (shared by the malformed-input tests, in-process and served)."""

from __future__ import annotations

import json

from tests.support.clients import Client


def raw(client: Client, path: str, data: bytes, content_type="application/json",
        method="POST") -> tuple[int, str, str]:
    """(status, content type, body) for a body sent byte for byte."""
    reply = client.send(method, path, data, {"Content-Type": content_type,
                                             "Origin": client.base})
    return reply.status, reply.headers.get("Content-Type", ""), reply.text


def send_json(client: Client, path: str, body) -> tuple[int, str, str]:
    return raw(client, path, json.dumps(body).encode())


def refused(answer, status: int = 400) -> str:
    """The answer is `status` with a bilingual JSON error; returns the error."""
    code, content_type, body = answer
    assert code == status, (code, body[:300])
    assert content_type.startswith("application/json"), (content_type, body[:300])
    error = json.loads(body)["error"]
    assert " / " in error, error  # one language / the other
    return error


def signed_in_clients(target, usernames=("duty", "gridworker", "admin")) -> dict[str, Client]:
    """A signed-in client per test user."""
    signed = {}
    for username in usernames:
        client = Client(target)
        assert client.sign_in(username)[0] == 302, username
        signed[username] = client
    return signed

"""The health check, for monitors: answers without a session."""

from __future__ import annotations

import json

from tests.support.clients import Client


def test_health_check_answers_without_login(app_server):
    reply = Client(app_server).get("/healthz")
    assert reply.status == 200
    assert json.loads(reply.body) == {"status": "ok", "database": "ok"}

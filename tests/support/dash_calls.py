"""Dash callback requests as the app's own pages post them to /_dash-update-component."""

from __future__ import annotations

import json

from tests.support.clients import Client


def audit_table_call(username=None, since=None, until=None, changed: str | None = None) -> dict:
    """The audit page's table callback (callbacks/audit.py) as Dash's renderer posts it."""
    return {
        "output": "..audit-table.children...audit-count.children..",
        "outputs": [{"id": "audit-table", "property": "children"},
                    {"id": "audit-count", "property": "children"}],
        "inputs": [{"id": "audit-username", "property": "value", "value": username},
                   {"id": "audit-action", "property": "value", "value": None},
                   {"id": "audit-since", "property": "value", "value": since},
                   {"id": "audit-until", "property": "value", "value": until}],
        "changedPropIds": [f"{changed}.value"] if changed else [], "state": [],
    }


def check_audit_callback_answers_admins_only(target) -> None:
    """The audit table's callback called directly, as a leader (204, nothing in it: refused and
    audited) and as an administrator (200 with rows), against a served or in-process app."""
    client = Client(target)
    client.sign_in("leader")
    payload = audit_table_call()
    status, _h, body, _ = client.request("POST", "/_dash-update-component", json_body=payload,
                                         headers=client.same_origin())
    assert status == 204, body
    assert "login" not in body
    admin = Client(target)
    admin.sign_in("admin")
    status, _h, body, _ = admin.request("POST", "/_dash-update-component", json_body=payload,
                                        headers=admin.same_origin())
    assert status == 200 and "login" in json.dumps(json.loads(body))

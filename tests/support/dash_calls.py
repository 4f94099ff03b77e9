"""Dash callback requests as the app's own pages post them to /_dash-update-component."""

from __future__ import annotations

import json

from tests.support.clients import Client


def _callbacks() -> dict:
    import app as onemap_app
    from dash._callback import GLOBAL_CALLBACK_MAP

    return {**GLOBAL_CALLBACK_MAP, **onemap_app.app.callback_map}


def _key(fragment: str) -> str:
    """The key of the one callback whose outputs' key is or holds `fragment`."""
    if "callback" in _callbacks().get(fragment, {}):
        return fragment
    found = [k for k, spec in _callbacks().items() if fragment in k and "callback" in spec]
    assert len(found) == 1, (fragment, found)
    return found[0]


def id_text(component) -> str:
    return json.dumps(component, sort_keys=True, separators=(",", ":")) if isinstance(
        component, dict) else component


def _dep(component_id: str, prop: str, values: dict, many, with_value: bool = True):
    def one(component):
        entry = {"id": component, "property": prop}
        if with_value:
            entry["value"] = values.get((id_text(component), prop.split("@")[0]))
        return entry

    if component_id.startswith("{") and '["ALL"]' in component_id:
        return [one(c) for c in many(component_id)]
    return one(json.loads(component_id) if component_id.startswith("{") else component_id)


def callback_call(fragment: str, values: dict, changed: tuple[str, str], many) -> dict:
    """The body Dash's renderer posts for the callback whose outputs' key holds `fragment`;
    `values` maps (component id, property) to what the page holds, `changed` is the trigger,
    `many(pattern id)` the components an ALL pattern stands for on the page."""
    key = _key(fragment)
    spec = _callbacks()[key]
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = [_dep(*part.rpartition(".")[::2], values, many, with_value=False)
               for part in parts]
    return {
        "output": key, "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [_dep(d["id"], d["property"], values, many) for d in spec["inputs"]],
        "state": [_dep(d["id"], d["property"], values, many) for d in spec["state"]],
        "changedPropIds": [f"{id_text(changed[0])}.{changed[1]}"],
    }


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


def post_callback(client: Client, body: dict) -> tuple[int, str]:
    """(status, body) of one callback request as the page posts it; a JSON answer with its
    Chinese readable (not \\u-escaped), so a test can look for words in it."""
    status, _h, text, _c = client.request("POST", "/_dash-update-component", json_body=body,
                                          headers=client.same_origin())
    if text.startswith("{"):
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return status, text

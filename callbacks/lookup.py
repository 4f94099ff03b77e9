"""Callbacks of the look-up page (pages/lookup.py).

What the page shows of people goes through onemap/web/lookup_steps.py, the same functions the
look-up API answers with: scoped by the database, masked, audited, rate-limited and locked
after too many misses alike on both paths. The navigator's own geometry comes from
geodata/queries/lookup_nav.py.
"""

from __future__ import annotations

import json

from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    ctx,
    no_update,
)
from dash.exceptions import PreventUpdate

from geodata.queries import lookup_nav
from geodata.scope import scoped
from layers.maps import LOOKUP
from onemap.domain.coordinates import gcj02_to_wgs84
from onemap.domain.roles import Capability
from onemap.web import lookup_steps
from onemap.web.auth import current_scope, current_user, refused
from onemap.web.errors import ApiError
from onemap.web.request_guard import InvalidInput
from pages.lookup_url import MAX_ID
from pages.map_parts import overlays_need_gcj02

from . import lookup_view, viewport_map

viewport_map.register(LOOKUP)

BAD_INPUT = "invalid look-up input / 查询请求内容有误"
BUILDING_CLICK = json.dumps(LOOKUP.layer_id("buildings"), sort_keys=True,
                            separators=(",", ":")) + ".clickData"  # as Dash names the prop


def _allowed() -> None:
    """Refuse (and audit) a role without the look-up right: the answer is empty (204)."""
    if not current_user.is_authenticated or refused(Capability.LOOKUP_PERSON):
        raise PreventUpdate


def _id(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InvalidInput(BAD_INPUT)
    return value


def _code(value) -> str:
    if not (isinstance(value, str) and value.isdigit() and len(value) in (6, 9, 12, 15)):
        raise InvalidInput(BAD_INPUT)
    return value


def _unit(value) -> str:
    """A unit code from the page's store: one inside the user's scope, or 400."""
    code = _code(value)
    if not code.startswith(current_scope().code):
        raise InvalidInput(BAD_INPUT)
    return code


def _message(error: ApiError) -> str:
    return f"{error.zh} · {error.en}"


clientside_callback(
    ClientsideFunction("lookup", "remember"),
    Output("lookup-url", "data"),
    Input("lookup-unit", "data"), Input("lookup-building", "data"),
    Input("lookup-room", "data"),
)
clientside_callback(  # the chosen room stands out without drawing the table again
    ClientsideFunction("lookup", "markRoom"),
    Output("lookup-table", "className"),
    Input("lookup-room", "data"), Input("lookup-table", "children"),
)
clientside_callback(
    ClientsideFunction("lookup", "askPurpose"),
    Output("lookup-unmask-person", "data"),
    Input({"type": "lookup-unmask", "id": ALL}, "n_clicks"), prevent_initial_call=True,
)


# -- what is selected -------------------------------------------------------------------------

def _clicked_value():
    """The value of the input that fired, or None for a component merely drawn (n_clicks 0)."""
    if not ctx.triggered:
        return None
    return ctx.triggered[0]["value"] or None


def _building_selection(building_id: int, room: int | None = None):
    with scoped(current_scope()) as conn:
        found = lookup_nav.building(conn, building_id)
    if found is None:
        return no_update, building_id, room  # the table says "not found"
    return found["grid_code"], building_id, room


def _map_click(click, unit: str):
    """The unit one level down (or the building, below a grid) under a click on the map."""
    if not isinstance(click, dict) or not isinstance(click.get("latlng"), dict):
        raise InvalidInput(BAD_INPUT)
    lat, lng = click["latlng"].get("lat"), click["latlng"].get("lng")
    if not all(viewport_map.number(v) for v in (lat, lng)):
        raise InvalidInput(BAD_INPUT)
    if overlays_need_gcj02():
        lng, lat = (float(v) for v in gcj02_to_wgs84(lng, lat))
    level = {6: "district", 9: "street", 12: "community", 15: "grid"}[len(unit)]
    with scoped(current_scope()) as conn:
        under = lookup_nav.under_click(conn, level, unit, float(lng), float(lat))
    if under is None:
        return (no_update,) * 3
    kind, found = under
    return (found, None, None) if kind == "unit" else _building_selection(found)


@callback(
    Output("lookup-unit", "data"), Output("lookup-building", "data"),
    Output("lookup-room", "data"),
    Input({"type": "lookup-go", "code": ALL}, "n_clicks"),
    Input({"type": "lookup-pick-building", "id": ALL}, "n_clicks"),
    Input({"type": "lookup-pick-room", "id": ALL}, "n_clicks"),
    Input({"type": "lookup-pick-home", "id": ALL, "building": ALL}, "n_clicks"),
    Input({"type": "lookup-hit", "kind": ALL, "id": ALL}, "n_clicks"),
    Input(LOOKUP.id("map"), "clickData"),
    Input(LOOKUP.layer_id("buildings"), "clickData"),
    State("lookup-unit", "data"), State("lookup-building", "data"), State("lookup-hits", "data"),
    prevent_initial_call=True,
)
def select(_go, _building, _room, _home, _hit, map_click, building_click, unit, _chosen, hits):
    """Move the selection: up or down the breadcrumb, to a building, a room, another home of a
    member, a search result, or what lies under a click on the map."""
    _allowed()
    value = _clicked_value()
    trigger = ctx.triggered_id
    if value is None:
        return (no_update,) * 3
    unit = _unit(unit)
    # a click on a building reaches the map too: the building's own input wins
    if BUILDING_CLICK in ctx.triggered_prop_ids:
        properties = building_click.get("properties") if isinstance(building_click,
                                                                    dict) else None
        if not isinstance(properties, dict):
            raise InvalidInput(BAD_INPUT)
        return _building_selection(_id(properties.get("id")))
    if trigger == LOOKUP.id("map"):
        return _map_click(map_click, unit)
    if not isinstance(trigger, dict):
        raise InvalidInput(BAD_INPUT)
    kind = trigger.get("type")
    if kind == "lookup-go":
        return _unit(trigger.get("code")), None, None
    if kind == "lookup-pick-building":
        return _building_selection(_id(trigger.get("id")))
    if kind == "lookup-pick-room":
        return no_update, no_update, _id(trigger.get("id"))
    if kind == "lookup-pick-home":
        return _building_selection(_id(trigger.get("building")), _id(trigger.get("id")))
    if kind == "lookup-hit":
        return _hit_selection(trigger, hits)
    raise InvalidInput(BAD_INPUT)


def _hit_selection(trigger: dict, hits):
    """Where a search result leads: a person or a room to their room in its building, a
    building to its table, an enterprise or a place to the building holding it (else only the
    map flies there)."""
    kind, found = trigger.get("kind"), _id(trigger.get("id"))
    if not isinstance(hits, dict) or kind not in lookup_view.RESULT_KINDS:
        raise InvalidInput(BAD_INPUT)
    target = (hits.get(kind) or {}).get(str(found))
    if not isinstance(target, dict):
        raise InvalidInput(BAD_INPUT)
    building = target.get("building_id")
    if isinstance(building, int):
        return _building_selection(_id(building), _id(target.get("household_id")))
    return (no_update,) * 3


# -- where one stands -------------------------------------------------------------------------

BUILDING_MARGIN_DEGREES = 0.003  # ~250 m: a building is seen among its neighbours, not alone


def _with_margin(bounds: list) -> list:
    """Bounds widened to at least a street block's size, so the map does not zoom to 20."""
    (south, west), (north, east) = bounds
    pad = max(0.0, BUILDING_MARGIN_DEGREES - max(north - south, east - west)) / 2
    return [[south - pad, west - pad], [north + pad, east + pad]]


@callback(
    Output("lookup-trail", "children"), Output("lookup-counts", "children"),
    Output("lookup-children", "children"), Output("lookup-outline", "data"),
    Output(LOOKUP.id("map"), "viewport", allow_duplicate=True), Output("lookup-fly", "data"),
    Input("lookup-unit", "data"), Input("lookup-building", "data"),
    State("lookup-fly", "data"),
    prevent_initial_call="initial_duplicate",
)
def navigate(unit, building, fly):
    """The breadcrumb, the counts and the units below of the selection; the map outlines it
    and flies there (on the first view only when the URL names no view of its own)."""
    _allowed()
    unit, building = _unit(unit), _id(building)
    scope = current_scope()
    with scoped(scope) as conn:
        chosen = lookup_nav.building(conn, building) if building is not None else None
        if chosen is not None:
            unit = chosen["grid_code"]
        steps = [s for s in lookup_nav.trail(conn, unit) if len(s["code"]) >= len(scope.code)]
        shape = (lookup_nav.outline(conn, building_id=building) if chosen is not None
                 else lookup_nav.outline(conn, code=unit))
    counts, below = lookup_steps.unit_overview(unit)
    # "view": the page's first call on a URL with a view of its own, which stays; after the
    # first call every selection flies (Dash names a trigger even for the first call)
    flies = fly != "view"
    viewport = ({"bounds": _with_margin(shape["bounds"]), "transition": "flyToBounds"}
                if shape is not None and flies else no_update)
    return (lookup_view.trail(steps, chosen), lookup_view.counts(counts),
            lookup_view.children(counts, below), shape["shape"] if shape else None, viewport,
            "always")


@callback(
    Output("lookup-table", "children"),
    Input("lookup-building", "data"),
)
def show_table(building):
    """楼盘表 of the chosen building."""
    _allowed()
    building = _id(building)
    if building is None:
        return no_update
    try:
        lookup_steps.within_page_rate()
        table = lookup_steps.building_table(building)
    except ApiError as error:
        return lookup_view.results(None, _message(error))
    return lookup_view.building_table(table)


@callback(
    Output("lookup-household-data", "data"),
    Input("lookup-room", "data"),
)
def open_card(room):
    """The household card of the chosen room (its opening is audited)."""
    _allowed()
    room = _id(room)
    if room is None:
        return None
    try:
        lookup_steps.within_page_rate()
        return lookup_steps.household_card(room)
    except ApiError as error:
        return {"error": _message(error)}


@callback(
    Output("lookup-household", "children"),
    Input("lookup-household-data", "data"),
)
def draw_card(card):
    if not card:
        return []
    if "error" in card:
        return lookup_view.results(None, card["error"])
    return lookup_view.household_card(card, current_user.can(Capability.UNMASK_PERSON))


@callback(
    Output("lookup-household-data", "data", allow_duplicate=True),
    Output("lookup-unmask-message", "children"),
    Input("lookup-unmask-confirm", "n_clicks"),
    State("lookup-unmask-person", "data"), State("lookup-purpose", "value"),
    State("lookup-household-data", "data"),
    prevent_initial_call=True,
)
def unmask(clicks, person, purpose, card):
    """One member in full, for a stated purpose the audit log keeps."""
    _allowed()
    if not clicks:
        return no_update, no_update
    person = _id(person)
    if person is None or not isinstance(card, dict):
        return no_update, "请先选择人员 · Pick a person first"
    if not current_user.can(Capability.UNMASK_PERSON):
        return no_update, "无查看明文权限 · Not permitted to unmask"
    try:
        lookup_steps.within_page_rate()
        clear = lookup_steps.unmask(person, purpose)
    except ApiError as error:
        return no_update, _message(error)
    members = [({**m, **lookup_steps.unmasked_member(clear), "unmasked": True}
                if m.get("person_id") == person else m) for m in card.get("members") or []]
    return {**card, "members": members}, ""


# -- the search box ---------------------------------------------------------------------------

@callback(
    Output("lookup-results", "children"), Output("lookup-hits", "data"),
    Input("lookup-q", "value"),
    State("lookup-unit", "data"), State("lookup-building", "data"),
    prevent_initial_call=True,
)
def search(query, unit, building):
    """The one search box: results by kind, in the scope, masked, audited."""
    _allowed()
    if query is None or (isinstance(query, str) and not query.strip()):
        return [], None
    if not isinstance(query, str):
        raise InvalidInput(BAD_INPUT)
    unit, building = _unit(unit), _id(building)
    try:
        lookup_steps.within_page_rate()
        found = lookup_steps.search(query, building_id=building,
                                    community=unit[:12] if len(unit) >= 12 else None)
    except ApiError as error:
        return lookup_view.results(None, _message(error)), None
    hits = {kind: {str(row["id"]): {"building_id": row.get("building_id"),
                                    "household_id": row.get("household_id")}
                   for row in rows}
            for kind, rows in (found.get("groups") or {}).items()}
    return lookup_view.results(found), hits

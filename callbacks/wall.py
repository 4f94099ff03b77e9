"""Callbacks of the wall screen (pages/wall.py): its map (the shared component's callbacks),
and its rail: counters, feed and the alarm banner. Every query runs in the user's scope."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback
from dash import ctx, html, no_update
from plotly.utils import PlotlyJSONEncoder

from geodata.queries import wall
from geodata.scope import scoped_read
from geodata.shared_answers import SHARED
from layers.maps import WALL
from onemap.domain.vocab import EVENT_STATES
from onemap.web.auth import current_role, current_scope
from onemap.web.request_guard import InvalidInput

from . import viewport_map, wall_rail

BANNER_WINDOW = "1 hour"  # alarms and overdue cases; open emergencies stay until acknowledged
BANNER_SHOWN = 3
RAIL_TOPICS = ("event", "sensor")  # what moves the rail besides the minute
BAD_INPUT = "invalid wall screen input / 大屏请求内容有误"

viewport_map.register(WALL)

clientside_callback(
    ClientsideFunction("wall", "clock"),
    Output("wall-clock", "children"), Input("wall-clock-tick", "n_intervals"),
)
clientside_callback(  # /wall?event=<id> (the cockpit's and the look-up's links) opens its card
    ClientsideFunction("wall", "selectFromUrl"),
    Output(WALL.id("select"), "data", allow_duplicate=True),
    Input(WALL.id("spec"), "data"),
    prevent_initial_call="initial_duplicate",
)
clientside_callback(
    ClientsideFunction("wall", "select"),
    Output(WALL.id("select"), "data"),
    Input({"type": "wall-feed-item", "id": ALL}, "n_clicks"),
    Input({"type": "wall-banner-item", "key": ALL}, "n_clicks"),
    prevent_initial_call=True,
)


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _feed_item(event: dict, now: datetime) -> html.Li:
    classes = f"feed-item level-{event['level']}" + (" overdue" if event["overdue"] else "")
    return html.Li(
        id={"type": "wall-feed-item", "id": event["id"]}, className=classes, n_clicks=0,
        children=[
            html.Span(wall_rail.feed_time(event["reported_at"], now), className="feed-time"),
            html.Span(event["title"], className="feed-title"),
            html.Span(EVENT_STATES.get(event["state"], (event["state"],))[0],
                      className="feed-state"),
        ],
    )


_BANNER_KINDS = {"urgent": "紧急事件", "sensor_alarm": "感知告警", "overdue": "事件超期"}


def _escalated_to(item: dict) -> list:
    text = wall_rail.escalated_to(item)  # kept whole in the strip: the title gives way
    return [html.Span(text, className="banner-tier")] if text else []


def _banner(items: list[dict], acknowledged: list[str]) -> tuple[list, list[str]]:
    """The banner's first items not yet acknowledged, and their keys: what "acknowledge"
    dismisses is what the duty officer has seen, never an item hidden behind "N more"."""
    # kept in the browser's local storage: whatever else it holds is ignored, not trusted
    seen = {key for key in acknowledged if isinstance(key, str)} if isinstance(
        acknowledged, list) else set()
    fresh = [item for item in items if item["key"] not in seen]
    if not fresh:
        return [html.Span("无待确认告警 · Nothing to acknowledge", className="banner-calm")], []
    shown = fresh[:BANNER_SHOWN]
    children = [
        html.Button(
            id={"type": "wall-banner-item", "key": item["key"]}, n_clicks=0,
            className=f"banner-item banner-{item['kind']}", title=item["text"],
            children=[html.Span(_BANNER_KINDS[item["kind"]], className="banner-kind"),
                      *_escalated_to(item),
                      html.Span(item["text"], className="banner-text"),
                      html.Span(item["at"].strftime("%H:%M"), className="banner-time")],
        )
        for item in shown
    ]
    more = len(fresh) - len(shown)
    if more > 0:
        children.append(html.Span(f"另有 {more} 条 · {more} more", className="banner-more"))
    return children, [item["key"] for item in shown]


def _rail_data(conn) -> tuple:
    """What the rail shows before this screen's acknowledgements: the counters, the feed
    already drawn (as the JSON Dash sends, so screens sharing it skip building and encoding
    its hundred-odd components; its times change with the day, inside the answer's minute)
    and the banner's items."""
    now = datetime.now(timezone.utc)
    drawn = json.loads(json.dumps([_feed_item(e, now) for e in wall.feed(conn)],
                                  cls=PlotlyJSONEncoder))
    return wall.counters(conn), drawn, wall.banner(conn, BANNER_WINDOW)


@callback(
    Output("wall-count-reported", "children"), Output("wall-count-working", "children"),
    Output("wall-count-closed", "children"), Output("wall-count-overdue", "children"),
    Output("wall-count-alarms", "children"), Output("wall-count-cameras", "children"),
    Output("wall-feed", "children"), Output("wall-banner", "children"),
    Output("wall-banner-keys", "data"), Output("wall-banner-ack", "hidden"),
    Input(WALL.id("live"), "data"), Input("wall-acknowledged", "data"),
    Input("wall-minute", "n_intervals"),
)
def refresh_rail(live, acknowledged, _minute):
    """Counters, feed and banner, again whenever events or sensors changed, and each minute
    (a case running out of time changes nothing in the database)."""
    if live is not None and not (isinstance(live, dict) and _strings(live.get("changed", []))):
        raise InvalidInput(BAD_INPUT)
    if ctx.triggered_id == WALL.id("live") and live and not (
            set(RAIL_TOPICS) & set(live.get("changed", []))):
        return [no_update] * 10
    scope = current_scope()
    with scoped_read(scope) as conn:  # the replica's when there is one
        # every screen of a role and scope asks the same after a change: asked once
        counts, feed, alarms = SHARED.answer(
            conn, role=current_role(), scope_code=scope.code, name="wall-rail",
            params=BANNER_WINDOW, topics=RAIL_TOPICS, compute=_rail_data)
    banner, keys = _banner(alarms, acknowledged)
    return (
        *wall_rail.counter_texts(counts),
        feed,
        banner,
        keys,
        not keys,
    )


@callback(Output("wall-acknowledged", "data"), Input("wall-banner-ack", "n_clicks"),
          State("wall-banner-keys", "data"), State("wall-acknowledged", "data"),
          prevent_initial_call=True)
def acknowledge(clicks, keys, acknowledged):
    """Add what the banner shows now to what this screen has acknowledged; keys no longer in
    the banner's query fall out at the next acknowledgement's cap, so the list stays small."""
    if not clicks:
        return no_update
    if keys is not None and not _strings(keys):
        raise InvalidInput(BAD_INPUT)
    kept = [key for key in acknowledged if isinstance(key, str)] if isinstance(
        acknowledged, list) else []
    return (kept + [key for key in keys or [] if key not in kept])[-500:]

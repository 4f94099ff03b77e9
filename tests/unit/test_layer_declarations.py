"""A layer is declared once (layers/): what the browser draws, the live topics it reloads on and
the map pages that show it must agree with that declaration, and the browser's functions must
exist for every name it gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geodata.live import TOPICS
from layers.base import PANES, Display, Layer, Option, Palette
from layers.maps import WALL, MapSpec
from layers.registry import VIEWPORT_LAYERS
from onemap.domain.vocab import DEVICE_STATUSES

MAP_JS = Path(__file__).resolve().parents[2] / "assets" / "map.js"


def _drawing_functions() -> set[str]:
    """The functions assets/map.js puts on `onemap.map` (its `draw` object's members)."""
    source = MAP_JS.read_text(encoding="utf-8")
    body = source[source.index("const draw = {"):source.index("// -- the live poll")]
    return set(re.findall(r"^    (\w+): ", body, flags=re.MULTILINE))


def test_the_reader_of_map_js_finds_its_functions():
    found = _drawing_functions()
    assert {"pointMarker", "eventMarker", "heatCell", "overlaysChanged"} <= found
    assert "poll" not in found  # a clientside callback, not a drawing function


@pytest.mark.parametrize("name", list(VIEWPORT_LAYERS))
def test_every_drawing_function_a_layer_names_exists_in_the_browser(name):
    display = VIEWPORT_LAYERS[name].display
    assert display is not None, f"{name} has no display"
    missing = set(display.draw.values()) - _drawing_functions()
    assert not missing, f"{name} names {missing}, which assets/map.js does not define"
    assert display.draw, name
    assert set(display.draw) <= {"pointToLayer", "style", "onEachFeature", "clusterToLayer"}


def test_live_topics_are_the_live_clocks_topics():
    topics = {layer.live_topic for layer in VIEWPORT_LAYERS.values() if layer.live_topic}
    assert topics <= set(TOPICS)
    assert "event" in topics and "sensor" in topics


def test_a_clickable_layer_sends_the_id_its_card_needs():
    for layer in VIEWPORT_LAYERS.values():
        if layer.display.card:
            assert "id" in layer.fields, layer.name


def test_a_palette_colours_every_code_of_its_vocabulary_and_no_other():
    with pytest.raises(ValueError, match="exactly the vocabulary"):
        Palette("status", {"online": "#0f0", "offline": "#999"}, DEVICE_STATUSES)
    with pytest.raises(ValueError, match="exactly the vocabulary"):
        Palette("status", {"online": "#0f0", "offline": "#999", "fault": "#f80", "lost": "#000"},
                DEVICE_STATUSES)
    palette = Palette("status", {"online": "#0f0", "offline": "#999", "fault": "#f80"},
                      DEVICE_STATUSES)
    assert palette.legend() == [("#0f0", "在线", "online"), ("#999", "离线", "offline"),
                                ("#f80", "故障", "fault")]


def test_a_palette_goes_to_the_browser_with_string_codes():
    levels = VIEWPORT_LAYERS["events"].display.palette.for_browser()
    assert levels["field"] == "level"
    assert set(levels["colours"]) == {"1", "2", "3", "4", "5"}


def test_panes_are_declared_once():
    with pytest.raises(ValueError, match="pane must be one of"):
        Display("somewhere", {"style": "buildingStyle"})
    assert {layer.display.pane for layer in VIEWPORT_LAYERS.values()} <= set(PANES)
    # what a duty officer must see on top is drawn on top
    assert PANES["events"] == max(PANES.values())
    assert PANES["heat"] == min(PANES.values())


def test_options_default_to_their_preset_and_list_it_first():
    window = next(o for o in VIEWPORT_LAYERS["heatmap"].options if o.name == "window")
    assert window.default == "24h"
    assert window.values() == ["24h", "1h", "7d"]
    colour = next(o for o in VIEWPORT_LAYERS["buildings"].options if o.name == "colour")
    assert colour.restyle and colour.default == "use"
    assert VIEWPORT_LAYERS["buildings"].query_options() == ()


def test_a_map_page_names_known_layers_and_one_url_key_per_option():
    assert set(WALL.layer_names) <= set(VIEWPORT_LAYERS)
    with pytest.raises(ValueError, match="no such viewport layer"):
        MapSpec("desk", ("events", "rivers"), ("events",))
    clash = Layer("other", "别的", "Other", "event", ("id",), features_sql="SELECT 1",
                  options=(Option("window", "时段", "Window", {"1d": ("1天", "1 d")}),),
                  display=Display("points", {"pointToLayer": "pointMarker"}))
    VIEWPORT_LAYERS["other"] = clash
    try:
        with pytest.raises(ValueError, match="share an option name"):
            MapSpec("desk", ("heatmap", "other"), ())
    finally:
        del VIEWPORT_LAYERS["other"]


def test_map_ids_carry_the_pages_prefix():
    assert WALL.id("map") == "wall-map"
    assert WALL.layer_id("events") == {"type": "wall-layer", "name": "events"}
    desk = MapSpec("desk", ("events",), ("events",))
    assert desk.request_id("events") == {"type": "desk-request", "name": "events"}
    assert [layer.name for layer in desk.layers] == ["events"]

"""Viewport parsing and checking, layer options and the live clock's token (no database)."""

from __future__ import annotations

import math

import geobuf
import pytest

from geodata import live
from layers.base import Layer, Option
from layers.events import HEATMAP
from layers.features import EMPTY, MAX_ZOOM, MIN_ZOOM, BadRequest, Viewport, option_params
from layers.registry import VIEWPORT_LAYERS

SHENHE = "123.40,41.78,123.48,41.82"


# -- Viewport.parse ---------------------------------------------------------------------------

def test_parse_reads_a_url_viewport():
    v = Viewport.parse(SHENHE, "16")
    assert v == Viewport(123.40, 41.78, 123.48, 41.82, 16)
    assert isinstance(v.zoom, int)


@pytest.mark.parametrize("zoom", ["0", "22", 0, 22, " 14"])
def test_parse_accepts_every_zoom_in_range(zoom):
    assert Viewport.parse(SHENHE, zoom).zoom == int(zoom)


def test_parse_accepts_spaces_negative_and_the_whole_world():
    assert Viewport.parse(" -10.5 , -20 , 30 , 40.25 ", "3") == Viewport(-10.5, -20, 30, 40.25, 3)
    assert Viewport.parse("-180,-90,180,90", "0") == Viewport(-180, -90, 180, 90, 0)


@pytest.mark.parametrize("bbox", [
    None, "", "abc", "a,b,c,d", "123.4;41.78;123.48;41.82",
    "123.40,41.78,123.48",            # three numbers
    "123.40,41.78,123.48,41.82,1",    # five numbers
    "123.40,41.78,,41.82",
])
def test_parse_refuses_a_missing_or_garbled_bbox(bbox):
    with pytest.raises(BadRequest, match="bbox must be west,south,east,north"):
        Viewport.parse(bbox, "16")


@pytest.mark.parametrize("bbox", [
    "nan,41.78,123.48,41.82", "123.40,NaN,123.48,41.82", "123.40,41.78,inf,41.82",
    "-inf,41.78,123.48,41.82", "123.40,41.78,123.48,infinity",
])
def test_parse_refuses_non_finite_numbers(bbox):
    with pytest.raises(BadRequest, match="finite"):
        Viewport.parse(bbox, "16")


@pytest.mark.parametrize("bbox", [
    "123.48,41.78,123.40,41.82",  # west > east
    "123.40,41.78,123.40,41.82",  # west == east
])
def test_parse_refuses_west_not_before_east(bbox):
    with pytest.raises(BadRequest, match="west < east"):
        Viewport.parse(bbox, "16")


@pytest.mark.parametrize("bbox", [
    "123.40,41.82,123.48,41.78",  # south > north
    "123.40,41.80,123.48,41.80",  # south == north
])
def test_parse_refuses_south_not_below_north(bbox):
    with pytest.raises(BadRequest, match="south < north"):
        Viewport.parse(bbox, "16")


@pytest.mark.parametrize("bbox", [
    "-180.5,41.78,123.48,41.82", "123.40,41.78,181,41.82",
    "123.40,-91,123.48,41.82", "123.40,41.78,123.48,90.01",
    "41.78,123.40,41.82,123.48",  # latitude and longitude swapped
])
def test_parse_refuses_coordinates_off_the_globe(bbox):
    with pytest.raises(BadRequest, match=r"-180 <= west .* <= 180.*-90 <= south .* <= 90"):
        Viewport.parse(bbox, "16")


@pytest.mark.parametrize("zoom", [None, "", "abc", "16.5", "1e1", "16z"])
def test_parse_refuses_a_zoom_that_is_not_a_whole_number(zoom):
    with pytest.raises(BadRequest, match="zoom must be a whole number"):
        Viewport.parse(SHENHE, zoom)


@pytest.mark.parametrize("zoom", ["23", "-1", 23, -1, "100"])
def test_parse_refuses_a_zoom_out_of_range(zoom):
    with pytest.raises(BadRequest, match=f"zoom must be between {MIN_ZOOM} and {MAX_ZOOM}"):
        Viewport.parse(SHENHE, zoom)


def test_bad_request_is_a_value_error_and_checked_returns_the_viewport():
    assert issubclass(BadRequest, ValueError)
    v = Viewport(123.40, 41.78, 123.48, 41.82, 16)
    assert v.checked() is v
    with pytest.raises(BadRequest, match="zoom"):
        Viewport(123.40, 41.78, 123.48, 41.82, 23).checked()
    with pytest.raises(BadRequest, match="finite"):
        Viewport(math.nan, 41.78, 123.48, 41.82, 16).checked()


# -- padded, params ---------------------------------------------------------------------------

def test_padded_grows_each_side_by_the_fraction():
    v = Viewport(123.40, 41.78, 123.48, 41.82, 15).padded(0.25)
    assert v.west == pytest.approx(123.38)
    assert v.east == pytest.approx(123.50)
    assert v.south == pytest.approx(41.77)
    assert v.north == pytest.approx(41.83)
    assert v.zoom == 15
    unpadded = Viewport(123.40, 41.78, 123.48, 41.82, 15)
    assert unpadded.padded(0) == unpadded


def test_snapped_views_a_few_pixels_apart_are_one_question():
    step = 180 / 2 ** 15  # half a 256-px tile at z15
    a = Viewport(123.40, 41.78, 123.48, 41.82, 15)
    b = Viewport(123.40 + 3e-5, 41.78 - 2e-5, 123.48 + 1e-5, 41.82 + 3e-5, 15)  # a few px off
    snapped = a.snapped()
    assert snapped == b.snapped() and snapped.zoom == 15
    assert (snapped.west <= a.west and snapped.south <= a.south and snapped.east >= a.east
            and snapped.north >= a.north)
    for edge, given in zip((snapped.west, snapped.south, snapped.east, snapped.north),
                           (a.west, a.south, a.east, a.north)):
        assert abs(given - edge) < step
        assert edge / step == pytest.approx(round(edge / step))
    assert Viewport(123.40, 41.78, 123.48, 41.82, 16).snapped() != snapped  # zoom kept apart
    assert Viewport(-179.99, -89.99, 179.99, 89.99, 0).snapped() == Viewport(-180, -90, 180,
                                                                              90, 0)


def test_padded_clamps_at_the_edges_of_the_globe():
    v = Viewport(-170, -85, 170, 85, 2).padded(0.5)
    assert (v.west, v.south, v.east, v.north) == (-180, -90, 180, 90)
    assert v.checked() == v
    # one side at the edge, the other free to grow
    v = Viewport(170, 80, 179, 89, 5).padded(0.5)
    assert v.west == pytest.approx(165.5)
    assert v.south == pytest.approx(75.5)
    assert (v.east, v.north) == (180, 90)


def test_params_carry_the_box_and_zoom():
    p = Viewport(123.40, 41.78, 123.48, 41.82, 16).params()
    assert {k: p[k] for k in ("west", "south", "east", "north", "zoom")} == {
        "west": 123.40, "south": 41.78, "east": 123.48, "north": 41.82, "zoom": 16}


def test_params_pixel_and_heat_cell_halve_with_every_zoom_step():
    box = (123.40, 41.78, 123.48, 41.82)
    p0 = Viewport(*box, 0).params()
    assert p0["px_deg"] == pytest.approx(360 / 256)
    previous = p0
    for z in range(1, MAX_ZOOM + 1):
        p = Viewport(*box, z).params()
        assert p["px_deg"] == pytest.approx(previous["px_deg"] / 2), z
        assert p["cell_m"] == pytest.approx(previous["cell_m"] / 2), z
        assert p["cell_m"] > 0 and p["px_deg"] > 0
        previous = p
    # a heat cell is a few tens of metres at street zooms (28 px of ~2.4 m at zoom 16)
    assert 40 < Viewport(*box, 16).params()["cell_m"] < 80


# -- options ----------------------------------------------------------------------------------

def test_option_default_is_the_declared_default():
    assert option_params(HEATMAP, {}) == {"window": HEATMAP.options[0].default}
    assert option_params(HEATMAP, {"window": None}) == {"window": "24h"}
    assert option_params(HEATMAP, {"window": ""}) == {"window": "24h"}


@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_option_accepts_each_allowed_value_and_ignores_other_arguments(window):
    assert option_params(HEATMAP, {"window": window, "bbox": "1,2,3,4", "zoom": "9"}) == {
        "window": window}


@pytest.mark.parametrize("window", ["2h", "24H", "1 hour", "1h; DROP TABLE event", "30d"])
def test_option_refuses_values_that_are_not_allowed(window):
    with pytest.raises(BadRequest, match="window must be one of 24h, 1h, 7d"):
        option_params(HEATMAP, {"window": window})


def test_option_error_names_the_option():
    layer = Layer("x", "x", "x", "event", ("id",), features_sql="SELECT 1", options=(
        Option("colour", "着色", "colour", {"use": ("用途", "use"), "residents": ("人口", "r")}),
        Option("window", "时段", "window", {"1h": ("1小时", "1 h"), "7d": ("7天", "7 d")}),
        Option("mode", "样式", "mode", {"a": ("甲", "a")}, restyle=True)))  # not a parameter
    assert option_params(layer, {"mode": "zzz"}) == {"colour": "use", "window": "1h"}
    with pytest.raises(BadRequest, match="^colour must be one of use, residents$"):
        option_params(layer, {"colour": "red", "window": "1h"})
    with pytest.raises(BadRequest, match="^window must be one of 1h, 7d$"):
        option_params(layer, {"window": "24h"})


def test_layers_without_options_take_none():
    for layer in VIEWPORT_LAYERS.values():
        if not layer.options:
            assert option_params(layer, {"window": "anything"}) == {}


def test_empty_collection_decodes_to_no_features():
    assert geobuf.decode(EMPTY) == {"type": "FeatureCollection", "features": []}


# -- live clock tokens ------------------------------------------------------------------------

VERSIONS = {"event": 12, "sensor": 3, "staff": 0}


def test_token_round_trip_reports_nothing_new():
    tok = live.token(VERSIONS)
    assert isinstance(tok, str) and tok
    assert live.changed_topics(tok, VERSIONS) == []
    assert live.changed_topics(tok, dict(VERSIONS)) == []


@pytest.mark.parametrize("topic", live.TOPICS)
def test_one_topic_moving_is_reported_alone(topic):
    tok = live.token(VERSIONS)
    moved = {**VERSIONS, topic: VERSIONS[topic] + 1}
    assert live.changed_topics(tok, moved) == [topic]
    assert live.changed_topics(live.token(moved), moved) == []


def test_several_topics_moving_are_reported_in_topic_order():
    tok = live.token(VERSIONS)
    moved = {"event": 13, "sensor": 3, "staff": 7}
    assert live.changed_topics(tok, moved) == ["event", "staff"]


def test_versions_with_shared_digits_are_not_confused():
    # e1 vs e11, s1 vs s10: each topic's number is read whole
    a = {"event": 1, "sensor": 10, "staff": 1}
    b = {"event": 11, "sensor": 1, "staff": 1}
    assert live.changed_topics(live.token(a), b) == ["event", "sensor"]


@pytest.mark.parametrize("old", [None, "", "garbage", "x1.y2.z3", "e.s.t", "e-1.s-1.t-1",
                                 "...", "eabc.s1x.t"])
def test_a_missing_or_foreign_token_reports_every_topic(old):
    assert live.changed_topics(old, VERSIONS) == list(live.TOPICS)


def test_a_token_missing_one_topic_reports_that_topic():
    assert live.changed_topics("e12.s3", VERSIONS) == ["staff"]


def test_a_missing_version_counts_as_zero():
    assert live.changed_topics(live.token({"event": 5}), {"event": 5}) == []
    assert live.changed_topics(live.token({}), {"event": 0, "sensor": 0, "staff": 0}) == []

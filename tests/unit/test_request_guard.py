"""The request guard: bounded bodies, strict JSON, and Dash calls that match their callback."""

from __future__ import annotations

import io
import json

import pytest
from dash import ALL, Input, Output, State
from flask import Flask, jsonify, request

from onemap.web import request_guard as guard
from onemap.web.request_guard import (
    BAD_CALLBACK,
    BAD_TEXT,
    MAX_DEPTH,
    NO_CALLBACK,
    NOT_FINITE,
    NOT_JSON,
    NOT_OBJECT,
    NOT_UTF8,
    TOO_DEEP,
    InvalidInput,
    dash_call_problem,
    init_request_guard,
    json_problem,
    parse_json_body,
)


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


# -- parsed values --------------------------------------------------------------------------

def test_nesting_up_to_the_limit_passes_and_one_more_is_refused():
    assert json_problem(_nested(MAX_DEPTH)) is None
    assert json_problem(_nested(MAX_DEPTH + 1)) == TOO_DEEP
    assert json_problem({"a": [[[]]]}, max_depth=3) == TOO_DEEP


def test_very_deep_values_are_walked_without_recursion():
    value: list = []
    for _ in range(100_000):
        value = [value]
    assert json_problem(value) == TOO_DEEP


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
def test_nul_and_lone_surrogates_are_refused_in_strings_and_keys(bad):
    assert json_problem({"a": ["ok", {"b": bad}]}) == BAD_TEXT
    assert json_problem({"a": {bad: 1}}) == BAD_TEXT


def test_paired_surrogates_are_characters_like_any_other():
    assert json_problem(json.loads('{"emoji": "\\ud83d\\ude00", "中文": "一张图"}')) is None


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_numbers_must_be_finite(number):
    assert json_problem({"lon": number}) == NOT_FINITE


# -- raw bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "problem"), [
    (b'{"a": "\xff"}', NOT_UTF8),
    (b'{"a": "\xed\xa0\x80"}', NOT_UTF8),  # a surrogate encoded as if it were a character
    ('{"a": "中文"}'.encode("gbk"), NOT_UTF8),
    (b'{"a": ', NOT_JSON),
    (b"", NOT_JSON),
    (b"[1, 2]", NOT_OBJECT),
    (b'"text"', NOT_OBJECT),
    (b'{"a": "\\u0000"}', BAD_TEXT),
    (b'{"a": "\\ud800"}', BAD_TEXT),
    (b'{"\\ud800": 1}', BAD_TEXT),
    (b'{"lon": NaN}', NOT_FINITE),
    (b'{"lon": 1e400}', NOT_FINITE),
    (b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}", TOO_DEEP),  # RecursionError inside json
    (b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}", TOO_DEEP),
    (b'{"n": ' + b"1" * 5000 + b"}", NOT_JSON),  # past Python's digit limit
])
def test_bad_bodies_are_named(body, problem):
    assert parse_json_body(body) == (None, problem)


def test_a_good_body_comes_back_parsed():
    assert parse_json_body('{"q": "张三", "n": [1, 2.5]}'.encode()) == (
        {"q": "张三", "n": [1, 2.5]}, None)


# -- the hooks on a Flask app ---------------------------------------------------------------

LIMIT = 4096


@pytest.fixture
def client():
    server = Flask(__name__)
    init_request_guard(server, max_body_bytes=LIMIT)

    @server.post("/echo")
    def echo():
        body = request.get_json(silent=True)
        return jsonify(keys=sorted(body) if isinstance(body, dict) else None,
                       same=request.is_json and body is request.get_json())

    @server.post("/raw")
    def raw():
        return jsonify(n=len(request.get_data()), length=request.content_length,
                       form=request.form.get("a"))

    @server.post("/refuse")
    def refuse():
        raise InvalidInput("no / 不行")

    return server.test_client()


def _post(client, body: bytes, path="/echo", content_type="application/json", **kw):
    return client.post(path, data=body, content_type=content_type, **kw)


def test_a_good_json_body_reaches_the_view_parsed_once(client):
    answer = _post(client, b'{"b": 1, "a": 2}')
    assert answer.status_code == 200
    assert answer.get_json() == {"keys": ["a", "b"], "same": True}


@pytest.mark.parametrize("body", [
    b"[1,2]", b"{", b'{"a": "\xff"}', b'{"a": "\\u0000"}', b'{"a": "\\ud800"}',
    b'{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}",
])
def test_malformed_json_is_a_400_in_json_that_does_not_echo(client, body):
    answer = _post(client, body)
    assert answer.status_code == 400
    message = answer.get_json()["error"]
    assert " / " in message  # English / 中文
    assert "\\u0000" not in message and "\\ud800" not in message and "[[" not in message


def test_bodies_over_the_limit_are_413_whether_or_not_their_length_is_given(client):
    big = b'{"a": "' + b"x" * LIMIT + b'"}'
    answer = _post(client, big)
    assert answer.status_code == 413
    assert "4096" in answer.get_json()["error"]
    # chunked: no Content-Length; the server marks the stream as terminated (gunicorn does)
    for path, body, content_type in [
            ("/raw", b"x" * (LIMIT + 1), "application/octet-stream"),
            ("/raw", b"a=" + b"x" * LIMIT, "application/x-www-form-urlencoded"),
            ("/echo", big, "application/json")]:
        answer = _chunked(client, path, body, content_type)
        assert answer.status_code == 413, path
        assert answer.get_json()["error"].startswith("request body larger than")


def _chunked(client, path: str, body: bytes, content_type: str):
    return client.post(path, input_stream=io.BytesIO(body), content_type=content_type,
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_body_up_to_the_limit_is_read_whole(client):
    answer = _chunked(client, "/raw", b"x" * LIMIT, "application/octet-stream")
    assert answer.status_code == 200
    assert answer.get_json() == {"n": LIMIT, "length": None, "form": None}
    answer = _chunked(client, "/raw", b"a=" + b"x" * (LIMIT - 2),
                      "application/x-www-form-urlencoded")
    assert answer.status_code == 200 and answer.get_json()["form"] == "x" * (LIMIT - 2)
    answer = client.post("/raw", data=b"x" * LIMIT, content_type="application/octet-stream")
    assert answer.status_code == 200 and answer.get_json()["length"] == LIMIT


def test_a_view_may_answer_400_with_a_message_of_its_own(client):
    answer = client.post("/refuse")
    assert answer.status_code == 400 and answer.get_json() == {"error": "no / 不行"}


def test_nul_in_a_form_field_is_refused(client):
    answer = client.post("/raw", data={"a": "x\x00y"})
    assert (answer.status_code, answer.get_json()) == (400, {"error": BAD_TEXT})
    answer = client.post("/raw", data={"a\x00": "x"})
    assert answer.status_code == 400
    assert client.post("/raw", data={"a": "张三"}).get_json()["form"] == "张三"


def test_other_content_types_are_left_to_the_view(client):
    answer = _post(client, b"[1,2]", content_type="text/plain")
    assert answer.status_code == 200 and answer.get_json()["keys"] is None


# -- Dash calls -----------------------------------------------------------------------------

def _f():
    return None


CALLBACKS = {
    "..table.children...count.children..": {
        "callback": _f, "output": [Output("table", "children"), Output("count", "children")],
        "inputs": [Input("since", "value").to_dict()], "state": [State("user", "value").to_dict()],
    },
    '..{"name":"events","type":"layer"}.data..': {
        "callback": _f, "output": [Output({"type": "layer", "name": "events"}, "data")],
        "inputs": [Input({"type": "request", "name": "events"}, "data").to_dict(),
                   Input({"type": "item", "id": ALL}, "n_clicks").to_dict()],
        "state": [],
    },
    "page.children": {
        "callback": _f, "output": Output("page", "children"),
        "inputs": [Input("url", "pathname").to_dict()], "state": [],
    },
    "clientside.data": {  # clientside callbacks are in the map without a server function
        "output": Output("clientside", "data"), "inputs": [], "state": [],
    },
}

TABLE = {
    "output": "..table.children...count.children..",
    "outputs": [{"id": "table", "property": "children"}, {"id": "count", "property": "children"}],
    "inputs": [{"id": "since", "property": "value", "value": "2026-01-01"}],
    "state": [{"id": "user", "property": "value", "value": None}],
    "changedPropIds": ["since.value"],
}
LAYER = {
    "output": '..{"name":"events","type":"layer"}.data..',
    "outputs": [{"id": {"name": "events", "type": "layer"}, "property": "data"}],
    "inputs": [{"id": {"name": "events", "type": "request"}, "property": "data", "value": {}},
               [{"id": {"id": 3, "type": "item"}, "property": "n_clicks", "value": 1}]],
    "changedPropIds": ['{"id":3,"type":"item"}.n_clicks'],
}


def test_well_formed_calls_pass():
    assert dash_call_problem(TABLE, CALLBACKS) is None
    assert dash_call_problem(LAYER, CALLBACKS) is None
    assert dash_call_problem(dict(LAYER, changedPropIds=[
        '{"name":"events","type":"request"}.data']), CALLBACKS) is None
    page = {"output": "page.children", "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/wall"}]}
    assert dash_call_problem(page, CALLBACKS) is None


@pytest.mark.parametrize("output", ["nope.children", '..{"name":"nope","type":"layer"}.data..',
                                    "clientside.data", 5, None, ["page.children"]])
def test_unknown_callbacks_are_refused(output):
    assert dash_call_problem(dict(TABLE, output=output), CALLBACKS) == NO_CALLBACK


@pytest.mark.parametrize("change", [
    {"outputs": [{"id": "table", "property": "children"}]},  # too few
    {"outputs": {"id": "table", "property": "children"}},  # not a list
    {"outputs": [{"id": "table", "property": "children"}, {"id": "x", "property": "children"}]},
    {"outputs": "table.children"},
    {"inputs": []},
    {"inputs": "since.value"},
    {"inputs": [{"id": "since", "property": "value"}, {"id": "x", "property": "value"}]},
    {"inputs": [["since"]]},
    {"inputs": [{"id": ["since"], "property": "value"}]},
    {"inputs": [{"id": "since", "property": 5}]},
    {"inputs": [{"id": "other", "property": "value", "value": None}]},
    {"state": []},
    {"state": [{"property": "value"}]},
    {"changedPropIds": "since.value"},
    {"changedPropIds": [5]},
    {"changedPropIds": ["other.value"]},
    {"changedPropIds": ['{"broken.value']},
])
def test_calls_that_do_not_match_their_callback_are_refused(change):
    assert dash_call_problem(dict(TABLE, **change), CALLBACKS) == BAD_CALLBACK


@pytest.mark.parametrize("change", [
    {"inputs": [{"id": {"name": "events", "type": "request"}, "property": "data"},
                {"id": {"id": 3, "type": "item"}, "property": "n_clicks"}]},  # ALL wants a list
    {"inputs": [{"id": {"name": "other", "type": "request"}, "property": "data"}, []]},
    {"inputs": [{"id": {"name": "events", "type": "request", "x": 1}, "property": "data"}, []]},
    {"inputs": [{"id": {"name": "events", "type": "request"}, "property": "data"},
                [{"id": {"id": {"a": 1}, "type": "item"}, "property": "n_clicks"}]]},
    {"outputs": [{"id": {"name": "nope", "type": "layer"}, "property": "data"}]},
    {"changedPropIds": ['{"id":4,"type":"item"}.n_clicks']},
])
def test_pattern_matching_calls_must_match_the_pattern(change):
    assert dash_call_problem(dict(LAYER, **change), CALLBACKS) == BAD_CALLBACK


@pytest.mark.parametrize("value", [5, ["/wall"], {"a": 1}])
def test_location_properties_must_be_text(value):
    page = {"output": "page.children", "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": value}]}
    assert dash_call_problem(page, CALLBACKS) == BAD_CALLBACK


def test_a_dash_app_answers_400_for_bad_calls_and_for_invalid_input_raised_in_a_callback():
    """Dash 4.4 lets an exception raised in a callback reach Flask (no on_error handler): a
    werkzeug BadRequest becomes the 400, and the guard answers malformed calls before Dash."""
    import dash
    from dash import _callback

    saved = dict(_callback.GLOBAL_CALLBACK_MAP), list(_callback.GLOBAL_CALLBACK_LIST)
    _callback.GLOBAL_CALLBACK_MAP.clear()  # this app must not take the project's callbacks
    _callback.GLOBAL_CALLBACK_LIST.clear()
    try:
        app = dash.Dash(__name__, serve_locally=True)
        app.layout = dash.html.Div([dash.dcc.Input(id="in"), dash.html.Div(id="out")])

        @app.callback(Output("out", "children"), Input("in", "value"))
        def show(value):
            if not isinstance(value, str):
                raise InvalidInput("text expected / 须为文本")
            return value.upper()

        init_request_guard(app.server, app, max_body_bytes=LIMIT)
        client = app.server.test_client()

        def call(**change):
            body = {"output": "out.children", "outputs": {"id": "out", "property": "children"},
                    "inputs": [{"id": "in", "property": "value", "value": "ok"}],
                    "changedPropIds": ["in.value"], **change}
            return client.post("/_dash-update-component", json=body)

        assert call().status_code == 200
        assert call().get_json()["response"]["out"]["children"] == "OK"
        answer = call(inputs=[{"id": "in", "property": "value", "value": {"a": 1}}])
        assert (answer.status_code, answer.get_json()) == (
            400, {"error": "text expected / 须为文本"})
        answer = call(output="nope.children")
        assert (answer.status_code, answer.get_json()) == (400, {"error": NO_CALLBACK})
        answer = call(inputs="x")
        assert (answer.status_code, answer.get_json()) == (400, {"error": BAD_CALLBACK})
        answer = client.post("/_dash-update-component", data=b"[1, 2]",
                             content_type="application/json")
        assert (answer.status_code, answer.get_json()) == (400, {"error": NOT_OBJECT})
        answer = client.post("/_dash-update-component", data=b"{}", content_type="text/plain")
        assert answer.status_code == 415 and answer.is_json
    finally:
        _callback.GLOBAL_CALLBACK_MAP.clear()
        _callback.GLOBAL_CALLBACK_MAP.update(saved[0])
        _callback.GLOBAL_CALLBACK_LIST[:] = saved[1]


def test_the_default_limit_is_the_setting(monkeypatch):
    from onemap.settings import get_settings

    monkeypatch.setenv("ONEMAP_MAX_BODY_BYTES", "2048")
    get_settings.cache_clear()
    try:
        assert get_settings().max_body_bytes == 2048
        server = Flask(__name__)
        init_request_guard(server)
        server.add_url_rule("/raw", "raw", lambda: "ok", methods=["POST"])
        client = server.test_client()
        for size, status in ((2048, 200), (2049, 413)):
            assert client.post("/raw", data=b"x" * size).status_code == status
            assert _chunked(client, "/raw", b"x" * size, "text/plain").status_code == status
    finally:
        get_settings.cache_clear()
    assert guard.MAX_DEPTH == 64

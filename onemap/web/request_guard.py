"""Request bodies: bounded in size, and every JSON body parsed once, strictly, before any view.

- A body larger than ONEMAP_MAX_BODY_BYTES is answered 413: at once when Content-Length says
  so, and as soon as the limit is passed when it comes in chunks without one (werkzeug's
  stream stops there), so no body is ever held whole.
- A state-changing request with a JSON body is parsed here, once: Flask caches the value, so
  Dash and the /api/ views reuse it. It must be UTF-8, valid JSON, an object, at most
  MAX_DEPTH containers deep (Python's json recurses, and gives up with RecursionError near
  1,000), and hold no NUL and no unpaired surrogate in any key or string (PostgreSQL refuses
  both) and no NaN or Infinity. Form fields may hold no NUL either.
- A call to Dash's /_dash-update-component must name a server-side callback and send its
  outputs, inputs and state in the shapes the callback was declared with; what it says
  changed must be one of those inputs. Callbacks still check the values they receive.

Every refusal is a JSON {"error": "English / 中文"} that never repeats the input.
"""

from __future__ import annotations

import json
import math
import re

from flask import Flask, jsonify, request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from onemap.settings import get_settings

from .security import STATE_CHANGING

MAX_DEPTH = 64
DASH_CALLBACK_PATH = "_dash-update-component"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

MALFORMED = "malformed request / 请求格式有误"
NOT_UTF8 = "the request body is not UTF-8 / 请求内容须为 UTF-8 编码"
NOT_JSON = "the request body is not valid JSON / 请求内容不是有效的 JSON"
NOT_OBJECT = "a JSON object is expected / 须为 JSON 对象"
TOO_DEEP = f"JSON nested more than {MAX_DEPTH} levels deep / JSON 嵌套超过 {MAX_DEPTH} 层"
BAD_TEXT = ("text holds a NUL character or an unpaired surrogate"
            " / 文本含空字符 (NUL) 或不成对的代理字符")
NOT_FINITE = "numbers must be finite (no NaN or Infinity) / 数值须为有限数"
NO_CALLBACK = "no such callback / 无此回调"
BAD_CALLBACK = "the request does not match the callback / 回调请求与定义不符"
NOT_JSON_TYPE = "a JSON body is expected (Content-Type: application/json) / 须为 JSON 请求体"

_BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")  # any surrogate left after decoding is unpaired
_WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")
_LIST_WILDCARDS = ("ALL", "ALLSMALLER")  # the request sends a list of matching components
# properties that are text wherever they occur (dcc.Location's, which Dash's page router
# reads as text before any code of ours runs)
_TEXT_PROPERTIES = ("pathname", "search", "hash", "href")


class InvalidInput(BadRequest):
    """A 400 whose message is ours (bilingual, never the input); callbacks may raise it too."""

    def __init__(self, message: str = MALFORMED) -> None:
        super().__init__(description=message)


def too_large_message(limit: int) -> str:
    return f"request body larger than {limit} bytes / 请求内容超过 {limit} 字节"


def json_problem(value, max_depth: int = MAX_DEPTH) -> str | None:
    """What is wrong with a parsed JSON value (too deep, bad text, not finite), or None.

    Iterative: a value nested as deep as json.loads allows must not exhaust the stack here."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _BAD_TEXT.search(item):
                return BAD_TEXT
        elif isinstance(item, float):
            if not math.isfinite(item):
                return NOT_FINITE
        elif isinstance(item, dict):
            if depth >= max_depth:
                return TOO_DEEP
            for key, child in item.items():
                if _BAD_TEXT.search(key):
                    return BAD_TEXT
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth >= max_depth:
                return TOO_DEEP
            stack.extend((child, depth + 1) for child in item)
    return None


def parse_json_body(data: bytes, loads=json.loads, max_depth: int = MAX_DEPTH):
    """(value, None) for an acceptable body, (None, message) for one that is not.

    `loads` parses the text (the hook passes Flask's, which caches what it parses)."""
    try:
        text = data.decode("utf-8")  # strict: also refuses encoded surrogates
    except UnicodeDecodeError:
        return None, NOT_UTF8
    try:
        value = loads(text)
    except RecursionError:  # Python's json recurses: nesting near 1,000 deep ends here
        return None, TOO_DEEP
    except (BadRequest, ValueError):
        return None, NOT_JSON
    if not isinstance(value, dict):
        return None, NOT_OBJECT
    problem = json_problem(value, max_depth)
    return (None, problem) if problem else (value, None)


# -- Dash's callback requests -----------------------------------------------------------------

def _declared_id(id_str: str):
    """A declared component id as Dash stores it: a string, or a dict whose wildcards are
    one-element lists such as ["ALL"]."""
    return json.loads(id_str) if id_str.startswith("{") else id_str


def _wildcard(value) -> str | None:
    if isinstance(value, list) and len(value) == 1 and value[0] in _WILDCARDS:
        return value[0]
    return None


def _id_matches(given, declared) -> bool:
    if isinstance(declared, str):
        return isinstance(given, str) and given == declared
    if not isinstance(given, dict) or set(given) != set(declared):
        return False
    for key, want in declared.items():
        value = given[key]
        if not isinstance(value, (str, int, float)):
            return False
        if _wildcard(want) is None and value != want:
            return False
    return True


def _prop(name: str) -> str:
    return name.split("@", 1)[0]  # allow_duplicate outputs carry "@<hash>"


def _one_matches(entry, declared_id, declared_prop: str) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("property"), str)
            and _prop(entry["property"]) == _prop(declared_prop)
            and _id_matches(entry.get("id"), declared_id)
            and (declared_prop not in _TEXT_PROPERTIES
                 or isinstance(entry.get("value"), (str, type(None)))))


def _entry_matches(entry, declared_id, declared_prop: str) -> bool:
    """A request entry for one declared dependency: a list of components for ALL/ALLSMALLER,
    one component otherwise."""
    many = isinstance(declared_id, dict) and any(
        _wildcard(v) in _LIST_WILDCARDS for v in declared_id.values())
    if many:
        return isinstance(entry, list) and all(
            _one_matches(e, declared_id, declared_prop) for e in entry)
    return _one_matches(entry, declared_id, declared_prop)


def _deps_match(given, declared: list[dict]) -> bool:
    return isinstance(given, list) and len(given) == len(declared) and all(
        _entry_matches(entry, _declared_id(dep["id"]), dep["property"])
        for entry, dep in zip(given, declared))


def _outputs_match(given, declared) -> bool:
    if isinstance(declared, (list, tuple)):
        if not isinstance(given, list) or len(given) != len(declared):
            return False
        pairs = zip(given, declared)
    else:
        pairs = [(given, declared)]
    return all(_entry_matches(entry, _declared_id(out.component_id_str()),
                              out.component_property) for entry, out in pairs)


def _changed_ids(entries: list) -> list[tuple]:
    found = []
    for entry in entries:
        for one in entry if isinstance(entry, list) else [entry]:
            found.append((one["id"], _prop(one["property"])))
    return found


def _is_given_input(prop_id, given: list[tuple]) -> bool:
    """Whether a changedPropIds entry names one of the inputs the request carries (compared as
    parsed values: the browser and Python stringify ids a little differently)."""
    if not isinstance(prop_id, str):
        return False
    component, _, prop = prop_id.rpartition(".")
    if component.startswith("{"):
        try:
            component = json.loads(component)
        except (ValueError, RecursionError):
            return False
    return (component, prop) in given


def dash_call_problem(body: dict, callback_map: dict) -> str | None:
    """Why a /_dash-update-component body cannot be dispatched as it is, or None."""
    output = body.get("output")
    spec = callback_map.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:  # clientside callbacks have no server side
        return NO_CALLBACK
    if not spec.get("no_output") and not _outputs_match(body.get("outputs"), spec["output"]):
        return BAD_CALLBACK
    inputs, state = body.get("inputs", []), body.get("state", [])
    if not (_deps_match(inputs, spec["inputs"]) and _deps_match(state, spec["state"])):
        return BAD_CALLBACK
    changed = body.get("changedPropIds", [])
    given = _changed_ids(inputs)
    if not isinstance(changed, list) or not all(_is_given_input(c, given) for c in changed):
        return BAD_CALLBACK
    return None


# -- the hooks --------------------------------------------------------------------------------

def init_request_guard(server: Flask, dash_app=None, max_body_bytes: int | None = None) -> None:
    """Bound every body, check every JSON body (and every call of `dash_app`'s callbacks), and
    answer 400, 413 and 415 in JSON. Register after sign-in: nobody's body is read before.
    The limit is ONEMAP_MAX_BODY_BYTES unless `max_body_bytes` is given."""
    limit = max_body_bytes or get_settings().max_body_bytes
    # werkzeug stops a body without Content-Length after this many bytes, silently (it raises
    # 413 only on a read after that): one byte more than allowed tells "over" from "exactly"
    server.config["MAX_CONTENT_LENGTH"] = limit + 1
    dash_path = (dash_app.config.routes_pathname_prefix + DASH_CALLBACK_PATH
                 if dash_app is not None else None)

    @server.before_request
    def check_body():
        length = request.content_length  # None for a chunked body
        if length is not None and length > limit:
            raise RequestEntityTooLarge()  # before reading a byte of it
        if request.method not in STATE_CHANGING:
            return None
        data = b""
        if length is None or request.is_json:
            # read now, at most limit + 1 bytes; kept for the form parser and get_json
            data = request.get_data(cache=True)
            if len(data) > limit:
                raise RequestEntityTooLarge()
        if request.mimetype in FORM_TYPES:  # the sign-in form: NUL would reach PostgreSQL
            if any(_BAD_TEXT.search(text) for pair in request.form.items(multi=True)
                   for text in pair):
                raise InvalidInput(BAD_TEXT)
            return None
        if not request.is_json:
            return None
        # parsed by Flask, which keeps the value for Dash and the views
        value, problem = parse_json_body(data, loads=lambda _text: request.get_json())
        if problem:
            raise InvalidInput(problem)
        if dash_path is not None and request.path == dash_path:
            problem = dash_call_problem(value, dash_app.callback_map)
            if problem:
                raise InvalidInput(problem)
        return None

    @server.errorhandler(BadRequest)
    def bad_request(error: BadRequest):
        message = error.description if isinstance(error, InvalidInput) else MALFORMED
        return jsonify(error=message), 400

    @server.errorhandler(RequestEntityTooLarge)
    def too_large(_error: HTTPException):
        return jsonify(error=too_large_message(limit)), 413

    @server.errorhandler(UnsupportedMediaType)
    def not_json(_error: HTTPException):
        return jsonify(error=NOT_JSON_TYPE), 415

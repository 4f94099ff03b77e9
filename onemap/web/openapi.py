"""The API's OpenAPI 3.1 document, served at /api/openapi.json and built from the code itself:
the routes Flask has, the capability each view requires (auth.requires), and the pydantic
models the views check their input with (`documented(body=…, query=…)` + `parsed_body`,
`parsed_query`). A model is the check and the description at once, so the two cannot differ;
a test fails when an /api/ route is not documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Callable

from flask import Blueprint, Flask, current_app, jsonify, request
from pydantic import BaseModel, ValidationError

from onemap.domain.requests import field_errors
from onemap.domain.roles import ROLE_CAPABILITIES, Capability

from .auth import requires
from .errors import InvalidRequest

ERROR_STATUSES = {
    400: "请求有误 · the request is malformed; `fields` names each bad field",
    401: "未登录 · no session and no valid token (`Authorization: Bearer …`)",
    403: "无权限 · the role lacks the capability, or the place is outside the caller's area",
    404: "不存在 · no such thing in the caller's area (missing and out of scope look alike)",
    409: "冲突 · the step does not apply to the case as it stands now",
    413: "请求过大 · the body is larger than the server takes",
    423: "已锁定 · look-ups locked after too many misses; an administrator lifts it",
    422: "无法处理 · well-formed but impossible (e.g. a place in no grid)",
    429: "过于频繁 · too many requests; retry after Retry-After seconds",
    503: "暂不可用 · the database is out of reach; retry after Retry-After seconds",
}


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    max_length: int = 64


@dataclass(frozen=True)
class Operation:
    """What the document says of one view besides its route and capability."""

    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    answers: dict[int, str] = field(default_factory=lambda: {200: "OK"})
    errors: tuple[int, ...] = (400, 401, 403)
    binary: str | None = None  # the media type of a non-JSON answer


def documented(summary: str, **details) -> Callable:
    """Describe a view for the OpenAPI document (put it under the route decorator)."""

    def mark(view: Callable) -> Callable:
        view.openapi = Operation(summary, **details)
        return view

    return mark


def _checked(model: type[BaseModel], data) -> BaseModel:
    if not isinstance(data, dict):
        raise InvalidRequest(fields={"body": "a JSON object is expected / 须为 JSON 对象"})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(fields=field_errors(exc)) from None


def parsed_body(model: type[BaseModel]) -> BaseModel:
    """The request's JSON body as `model`, or 400 naming every bad field."""
    return _checked(model, request.get_json(silent=True))


def parsed_query(model: type[BaseModel]) -> BaseModel:
    """The query string as `model` (each key once), or 400 naming every bad parameter."""
    return _checked(model, request.args.to_dict())


# -- the document -------------------------------------------------------------------------

_PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
_SCHEMA_OF_CONVERTER = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number"}}


def _path(rule: str) -> tuple[str, list[dict]]:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": _SCHEMA_OF_CONVERTER.get(converter or "", {"type": "string"})}
                  for converter, name in _PATH_PARAMETER.findall(rule)]
    return _PATH_PARAMETER.sub(r"{\2}", rule), parameters


class _Schemas:
    """Component schemas, each model once, referred to by name."""

    def __init__(self) -> None:
        self.components: dict[str, dict] = {}

    def ref(self, model: type[BaseModel]) -> dict:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.components.update(schema.pop("$defs", {}))
        self.components[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    def query_parameters(self, model: type[BaseModel]) -> list[dict]:
        schema = model.model_json_schema()
        required = set(schema.get("required", ()))
        return [{"name": name, "in": "query", "required": name in required,
                 "description": prop.pop("description", ""), "schema": prop}
                for name, prop in schema["properties"].items()]


def _roles_with(capability: Capability) -> list[str]:
    return [role for role, capabilities in ROLE_CAPABILITIES.items() if capability in capabilities]


def _operation(view: Callable, schemas: _Schemas, rule: str) -> dict:
    spec: Operation = view.openapi
    capability = getattr(view, "required_capability", None)
    _route, parameters = _path(rule)
    for header in spec.headers:
        parameters.append({"name": header.name, "in": "header", "required": False,
                           "description": header.description,
                           "schema": {"type": "string", "maxLength": header.max_length}})
    if spec.query:
        parameters += schemas.query_parameters(spec.query)
    description = view.__doc__ or ""
    if capability is not None:
        description += (f"\n\nRequires `{capability.value}` (roles: "
                        f"{', '.join(_roles_with(capability))}).")
    answer_content = ({spec.binary: {"schema": {"type": "string", "format": "binary"}}}
                      if spec.binary else {"application/json": {"schema": {"type": "object"}}})
    responses = {str(status): {"description": text, "content": answer_content}
                 for status, text in spec.answers.items()}
    for status in spec.errors:
        responses[str(status)] = {"description": ERROR_STATUSES[status], "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    operation = {"summary": spec.summary, "description": description.strip(),
                 "operationId": view.__name__, "parameters": parameters,
                 "responses": responses, "tags": [rule.split("/")[2]]}
    if capability is not None:
        operation["x-capability"] = capability.value
    if spec.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schemas.ref(spec.body)}}}
    return operation


ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "中文 / English"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"},
                   "description": "each bad field and what is wrong with it"},
    },
}


def undocumented(app: Flask) -> list[str]:
    """/api/ routes without a `documented` description (a test keeps this empty)."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if rule.rule.startswith("/api/")
                  and not hasattr(app.view_functions[rule.endpoint], "openapi"))


def build_document(app: Flask) -> dict:
    """The OpenAPI document of every documented /api/ route of `app`."""
    schemas, paths = _Schemas(), {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        if not rule.rule.startswith("/api/") or not hasattr(view, "openapi"):
            continue
        route, _ = _path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(route, {})[method.lower()] = _operation(view, schemas, rule.rule)
    return {
        "openapi": "3.1.0",
        "info": {"title": "OneMap 一张图 API", "version": version("onemap"), "description": (
            "Machine clients send `Authorization: Bearer <token>` (`onemap token add`); "
            "the browser's session cookie works too, from the app's own pages. Every answer "
            "is limited to the caller's area, masked for their role and audited.")},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": {**schemas.components, "Error": ERROR_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token from `onemap token add`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "onemap_session"},
            },
        },
    }


api = Blueprint("openapi", __name__)


@api.get("/api/openapi.json")
@documented("本文档 · this document", errors=(401,))
@requires(Capability.VIEW_MAP)
def openapi_document():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(build_document(current_app))

"""Request bodies as pydantic models: one declaration that both checks what a client sends and
describes it in the API's OpenAPI document (onemap/web/openapi.py), so the two never differ.

A model's errors come back as {field: "what is wrong / 错在哪里"}, every bad field at once, in
the words the API has always used; never the value that was sent (it may be anything, of any
length).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError


def _blank_is_absent(value):
    """"  " means not given: a form's empty field is no title, not a title of spaces."""
    return None if isinstance(value, str) and not value.strip() else value


def Text(max_length: int, description: str, required: bool = False):  # noqa: N802 (a type)
    """Text of at most `max_length` characters, trimmed; blank counts as absent (and so is
    refused as missing when required)."""
    text = Annotated[str, Field(max_length=max_length)]
    return Annotated[text if required else text | None, BeforeValidator(_blank_is_absent),
                     Field(description=description)]


class RequestModel(BaseModel):
    """A request body: strict types (a JSON true is not the number 1, "1" is not a number),
    surrounding spaces trimmed, unknown keys ignored (clients add their own)."""

    model_config = ConfigDict(strict=True, str_strip_whitespace=True, extra="ignore",
                              frozen=True)


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx", {})
    if kind == "missing" or (kind.endswith("_type") and error.get("input", 0) is None):
        return "required / 必填"
    if kind == "string_type":
        return "must be text / 须为文本"
    if kind == "string_too_long":
        return f"at most {ctx['max_length']} characters / 最多 {ctx['max_length']} 个字符"
    if kind == "string_too_short":
        return f"at least {ctx['min_length']} characters / 至少 {ctx['min_length']} 个字符"
    if kind in ("literal_error", "enum"):  # "'a', 'b' or 'c'" → "one of a, b, c"
        expected = ctx.get("expected", "").replace(" or ", ", ").replace("'", "")
        return f"one of {expected}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return "a whole number / 须为整数"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return "a number / 须为数字"
    if kind in ("bool_type", "bool_parsing"):
        return "true or false"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {k: v for k, v in ctx.items()}
        return f"out of range / 超出范围 ({', '.join(f'{k} {v}' for k, v in bound.items())})"
    if kind in ("too_long", "too_short", "list_type"):
        return "a list of the allowed length / 列表长度不符"
    if kind == "string_pattern_mismatch":
        return "not in the documented form / 格式不符 (GET /api/openapi.json)"
    if kind == "model_type" or kind == "dict_type":
        return "a JSON object is expected / 须为 JSON 对象"
    return error["msg"]


def field_errors(exc: ValidationError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """{field: message} for every error; nested places read `readings[3].value`. `rename`
    gathers fields under one name (lon and lat under "lon/lat")."""
    rename = rename or {}
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error["loc"]
        if not loc:
            name = "body"
        else:
            name = str(loc[0])
            for part in loc[1:]:
                name += f"[{part}]" if isinstance(part, int) else f".{part}"
        name = rename.get(str(loc[0]) if loc else "body", name)
        errors.setdefault(name, _message(error))
    return errors

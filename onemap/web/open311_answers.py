"""Open311 answers in the two formats GeoReport v2 defines: XML (text/xml) and JSON, both
UTF-8, and its error format: a list of {code, description}, as <errors><error>… in XML.

XML is built with xml.etree, which escapes every text it writes (<, >, &), so a description
holding "<script>" or "]]>" stays text. Characters XML 1.0 cannot carry at all (control
characters, lone surrogates) are replaced by U+FFFD, or the document would not parse.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from flask import Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from onemap.settings import get_settings

from .errors import ApiError, NotSignedIn
from .request_guard import MALFORMED, InvalidInput, too_large_message

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# the element each list's items are written in
ITEM_OF = {"services": "service", "service_requests": "request", "errors": "error",
           "attributes": "attribute", "endpoints": "endpoint", "formats": "format"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

NO_KEY = ("缺少或无效的 api_key（令牌不存在、已过期或已吊销）"
          " / missing or invalid api_key (no such token, expired or revoked)")


def xml_text(value) -> str:
    """A value as XML text: booleans as true/false, and nothing XML 1.0 forbids."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        for child in value:
            _fill(ET.SubElement(element, ITEM_OF[element.tag]), child)
    elif value is not None:  # None: an empty element, as the spec's <account_id/>
        element.text = xml_text(value)


def to_xml(root: str, value) -> bytes:
    """`value` (a list of dicts or a dict) as an XML document whose root is `root`."""
    element = ET.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")


def answer(fmt: str, root: str, value, status: int = 200, *, cache: str = "private, no-store",
           headers: dict | None = None) -> Response:
    """`value` in the format the path asked for: JSON as it is, XML under `root`."""
    if fmt == "json":
        body, mimetype = json.dumps(value, ensure_ascii=False).encode("utf-8"), JSON_TYPE
    else:
        body, mimetype = to_xml(root, value), XML_TYPE
    response = Response(body, status=status, content_type=mimetype)
    response.headers["Cache-Control"] = cache
    for name, header in (headers or {}).items():
        response.headers[name] = header
    return response


def requested_format() -> str:
    """json when the path ends in .json; XML, the spec's required format, otherwise (also for
    paths that lead nowhere)."""
    return "json" if request.path.endswith(".json") else "xml"


# -- errors -------------------------------------------------------------------------------

def _status(error_status: int) -> int:
    """The spec's statuses: 403 for a missing or wrong api_key, 400 for a request that cannot
    be carried out (OneMap's 422), the rest as they are."""
    return {401: 403, 422: 400}.get(error_status, error_status)


def errors_answer(status: int, descriptions: list[str]) -> Response:
    """The spec's error list, one entry per problem, each with the HTTP status as its code."""
    return answer(requested_format(), "errors",
                  [{"code": status, "description": d} for d in descriptions], status,
                  cache="no-store")


def api_error_answer(error: ApiError) -> Response:
    """An ApiError in the spec's format: a wrong field, one entry each, named."""
    status = _status(error.status)
    if isinstance(error, NotSignedIn):
        return errors_answer(status, [NO_KEY])
    fields = error.details.get("fields")
    if isinstance(fields, dict) and fields:
        return errors_answer(status, [f"{name}: {problem}" for name, problem in fields.items()])
    return errors_answer(status, [error.message])


def http_error_answer(error: HTTPException) -> Response:
    """werkzeug's refusals (a malformed or oversized body, a wrong method, a rate limit) in
    the spec's format; the message is ours, never the input."""
    status = error.code or 400
    if isinstance(error, InvalidInput):
        description = error.description
    elif isinstance(error, RequestEntityTooLarge):
        description = too_large_message(get_settings().max_body_bytes)
    elif status == 400:
        description = MALFORMED
    else:
        description = f"{status} {error.name}"
    response = errors_answer(status, [description])
    if getattr(error, "valid_methods", None):  # 405 says which methods there are
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response

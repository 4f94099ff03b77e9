"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): residents' apps report into the
same intake as /api/events and follow their cases.

GET  services.{json,xml}              the leaf event categories (public, as the spec has it)
GET  services/<code>.{json,xml}       one service's definition (no extra attributes)
POST requests.{json,xml}              a form (api_key, service_code, lat, long, …) → a case
GET  requests.{json,xml}              cases in the token's area: by code, or by window/status
GET  requests/<code>.{json,xml}       one case
GET  discovery.{json,xml}             the spec's service discovery

Only an API token authenticates here (`api_key`, or Authorization: Bearer), never a browser's
cookie, so no page can make a signed-in browser file a case (onemap/web/auth.py). The token's
user's role and scope apply as on /api/: row-level security places and reads cases, the audit
log records each report and each read. Every refusal is in the spec's error format.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from flask import Blueprint, request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from geodata.queries import open311 as queries
from geodata.scope import app_engine, scoped
from onemap.domain import open311
from onemap.domain.roles import Capability

from . import case_steps
from .auth import audit_request, current_scope, requires
from .errors import (
    ApiError,
    InvalidRequest,
    NotFound,
    Unprocessable,
)
from .open311_answers import answer, api_error_answer, http_error_answer
from .request_guard import FORM_TYPES

api = Blueprint("open311", __name__, url_prefix="/open311")
FORMAT = "<any(json, xml):fmt>"
V2 = "/v2"
# the catalogue changes with a migration, not by the minute
PUBLIC_CACHE = "public, max-age=300"
NO_SUCH_REQUEST = ("您的管辖范围内无此案件", "no such request in the area of this api_key")


@api.errorhandler(ApiError)
def _refused(error: ApiError):
    return api_error_answer(error)


# the blueprint's handlers come first for every request routed here, also for what the app's
# hooks raise before the view (no token, a malformed or oversized body); Flask looks for a
# handler of the status first, so those the app has one for are named here too
@api.errorhandler(HTTPException)
@api.errorhandler(BadRequest)
@api.errorhandler(RequestEntityTooLarge)
@api.errorhandler(UnsupportedMediaType)
def _http_refused(error: HTTPException):
    return http_error_answer(error)


def _language() -> str:
    try:
        return open311.language(request.values.get("lang"),
                                request.accept_languages.best_match(open311.LANGUAGES))
    except open311.BadParameter as exc:
        raise InvalidRequest(fields=exc.errors) from None


@contextmanager
def _reference():
    """A connection for reference data (categories): no session, so no scoped row at all."""
    with app_engine().connect() as conn, conn.begin():
        yield conn


# -- the catalogue ------------------------------------------------------------------------

@api.get(f"{V2}/discovery.{FORMAT}")
def discovery(fmt: str):
    """Where the endpoint is and what it speaks (the spec's Service Discovery)."""
    endpoint = {"specification": open311.SPECIFICATION,
                "url": request.host_url.rstrip("/") + api.url_prefix + V2,
                "type": "production", "formats": ["text/xml", "application/json"]}
    return answer(fmt, "discovery", {"contact": "OneMap 一张图", "endpoints": [endpoint]},
                  cache=PUBLIC_CACHE)


@api.get(f"{V2}/services.{FORMAT}")
def service_list(fmt: str):
    """Every leaf category as a service; `lang=en` (or Accept-Language) for English names."""
    lang = _language()
    with _reference() as conn:
        found = queries.services(conn)
    return answer(fmt, "services", [open311.service(row, lang) for row in found],
                  cache=PUBLIC_CACHE)


@api.get(f"{V2}/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    """A service's definition: no attributes beyond the form's own fields."""
    with _reference() as conn:
        found = queries.service(conn, code) if open311.is_code(code) else None
    if found is None:
        raise NotFound(fields={"service_code": "no such service / 无此服务"})
    return answer(fmt, "service_definition", open311.definition(found["code"]),
                  cache=PUBLIC_CACHE)


# -- service requests ---------------------------------------------------------------------

def _form():
    """The POST's fields: a form, as GeoReport v2 clients send it."""
    if request.mimetype not in FORM_TYPES:
        raise InvalidRequest(fields={"body": "a form (application/x-www-form-urlencoded or"
                                             " multipart/form-data) / 须为表单"})
    return request.form


def _register(report, lang: str) -> tuple[dict, bool]:
    """The case this report makes, or the one a retry with the same Idempotency-Key made
    (then True); the events API's own intake (case_steps.report): committed with its history
    and audit rows before anything is answered."""
    with scoped(current_scope()) as conn:
        category = queries.service(conn, report.category_code)
    if category is None:
        raise NotFound(fields={"service_code": "no such service / 无此服务"})
    report = replace(report, title=open311.title(category["name_zh"], report.address,
                                                 report.description))
    try:
        case, created = case_steps.report(report, details={"lang": lang})
    except Unprocessable:  # the spec knows no 422: a place in no grid is a bad lat/long
        raise InvalidRequest(fields={"lat/long": "the place is in no grid of the district"
                                                 " / 位置不在任何网格内"}) from None
    return case, not created


@api.post(f"{V2}/requests.{FORMAT}")
@requires(Capability.REPORT_EVENT)
def create_request(fmt: str):
    """File a case on the open311 channel in the token's area. 200 with [{service_request_id,
    service_notice, account_id}], the same for a retry (Idempotent-Replayed: true)."""
    lang = _language()
    try:
        report = open311.parse_request(_form(), request.headers.get("Idempotency-Key"))
    except open311.BadParameter as exc:
        raise InvalidRequest(fields=exc.errors) from None
    case, replayed = _register(report, lang)
    # account_id: OneMap keeps no resident accounts, so there is none to give back
    made = [{"service_request_id": case["code"],
             "service_notice": open311.notice(case["code"], lang), "account_id": None}]
    return answer(fmt, "service_requests", made,
                  headers={"Idempotent-Replayed": "true"} if replayed else None)


@api.get(f"{V2}/requests.{FORMAT}")
@requires(Capability.VIEW_MAP)
def list_requests(fmt: str):
    """Cases in the token's area: service_request_id=a,b (overrides the rest), or
    start_date/end_date (the last 90 days unless told), service_code, status; newest first,
    at most 1000. Each read is audited."""
    lang = _language()
    with scoped(current_scope()) as conn:
        try:
            query = open311.request_query(request.args, queries.now(conn))
        except open311.BadParameter as exc:
            raise InvalidRequest(fields=exc.errors) from None
        found = queries.requests(conn, query)
        audit_request(conn, "open311_requests", object_kind="event",
                      details={"returned": len(found), "by_code": bool(query.codes),
                               "services": list(query.services), "closed": query.closed})
    return answer(fmt, "service_requests", [open311.service_request(row, lang)
                                            for row in found])


@api.get(f"{V2}/requests/<code>.{FORMAT}")
@requires(Capability.VIEW_MAP)
def one_request(code: str, fmt: str):
    """One case as a list of one; 404 alike for a code that does not exist and one outside
    the token's area."""
    lang = _language()
    with scoped(current_scope()) as conn:
        found = queries.request(conn, code) if open311.is_code(code) else None
        if found is None:
            raise NotFound(*NO_SUCH_REQUEST)
        audit_request(conn, "open311_request", object_kind="event", object_id=str(found["id"]))
    return answer(fmt, "service_requests", [open311.service_request(found, lang)])


@api.route("/<path:_rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def nowhere(_rest: str):
    """Any other path under /open311/: 404 in the spec's format, not the app's page shell."""
    raise NotFound()

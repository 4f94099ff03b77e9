"""ApiError and its one handler; @requires in front of a view (the refusal that writes an audit
row runs on a real database in tests/browser/test_access_matrix.py)."""

from __future__ import annotations

import psycopg
import pytest
from flask import Flask, request
from flask_login import LoginManager
from sqlalchemy.exc import ProgrammingError

from geodata.users import User
from onemap.domain.roles import Capability
from onemap.web.auth import SessionUser, requires
from onemap.web.errors import (
    ApiError,
    InvalidRequest,
    NotFound,
    NotPermitted,
    NotSignedIn,
    init_errors,
    insufficient_privilege,
)


@pytest.fixture
def client():
    server = Flask(__name__)
    server.config["SECRET_KEY"] = "unit-test"
    init_errors(server)
    manager = LoginManager(server)

    @manager.request_loader
    def from_header(req):  # signed in with the role the test names; nobody otherwise
        if req.headers.get("X-Role") is None:
            return None
        user = User(id=1, username="u", display_name="U", role=req.headers["X-Role"],
                    scope_code="210103", active=True)
        return SessionUser(user, "token")

    @server.before_request
    def refuse_a_hook():
        if request.path == "/hook":
            raise ApiError(418, "我是茶壶", "I'm a teapot")

    @server.get("/fields")
    def fields():
        raise InvalidRequest(fields={"q": "text of 1 to 64 characters"})

    @server.get("/missing")
    def missing():
        raise NotFound("无此图层", "no such layer", layers=["a", "b"])

    @server.get("/map")
    @requires(Capability.VIEW_MAP)
    def see_the_map():
        """The map."""
        return "the map"

    return server, server.test_client()


def test_an_error_is_its_status_and_a_message_in_chinese_then_english(client):
    _server, http = client
    answer = http.get("/fields")
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "请求内容有误 / invalid request",
                                 "fields": {"q": "text of 1 to 64 characters"}}
    answer = http.get("/missing")
    assert (answer.status_code, answer.get_json()) == (
        404, {"error": "无此图层 / no such layer", "layers": ["a", "b"]})


def test_an_error_raised_by_a_hook_is_answered_the_same_way(client):
    _server, http = client
    answer = http.get("/hook")
    assert (answer.status_code, answer.get_json()) == (418, {"error": "我是茶壶 / I'm a teapot"})


def test_subclasses_keep_their_status_and_default_message():
    assert (NotPermitted().status, NotPermitted().message) == (
        403, "无此权限 / not permitted for your role")
    only_english = NotPermitted(en="the place is outside your area")
    assert only_english.message == "无此权限 / the place is outside your area"
    assert ApiError(409, "冲突", "conflict").body() == {"error": "冲突 / conflict"}


def test_requires_lets_the_permitted_role_in(client):
    _server, http = client
    answer = http.get("/map", headers={"X-Role": "leader"})
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "the map")


def test_requires_answers_401_without_a_session(client):
    _server, http = client
    answer = http.get("/map")
    assert (answer.status_code, answer.get_json()) == (401, NotSignedIn().body())


def test_requires_records_the_capability_on_the_view(client):
    server, _http = client
    view = server.view_functions["see_the_map"]
    assert view.required_capability is Capability.VIEW_MAP
    assert view.__doc__ == "The map."


def _statement_error(driver_error: psycopg.Error) -> ProgrammingError:
    return ProgrammingError("INSERT …", {}, driver_error)


def test_row_level_security_refusals_are_told_by_sqlstate_42501():
    assert insufficient_privilege(_statement_error(psycopg.errors.InsufficientPrivilege()))
    assert not insufficient_privilege(_statement_error(psycopg.errors.UndefinedTable()))
    assert not insufficient_privilege(ValueError("permission denied"))

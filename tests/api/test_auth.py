"""Sign-in, sessions and request guards, over HTTP (in-process)."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.support.clients import Client
from tests.support.in_process import settings_changed
from tests.support.users import TEST_USERS


def audit_rows(engine, **where) -> list:
    clause = " AND ".join(f"{k} = :{k}" for k in where)
    with engine.connect() as conn:  # noqa: SIM117
        return conn.execute(text(f"SELECT action, username, host(ip), user_agent FROM audit_log"
                                 f" WHERE {clause} ORDER BY id"), where).all()


def test_pages_and_dash_endpoints_need_a_session(app_server):
    client = Client(app_server)
    status, headers, _body, _ = client.request("GET", "/")
    assert status == 302 and headers["Location"].endswith("/login?next=/")
    for path in ("/_dash-layout", "/_dash-dependencies", "/no-such-page"):
        status, _h, _b, _ = client.request("GET", path)
        assert status in (302, 401), path
    status, _h, _b, _ = client.request("POST", "/_dash-update-component", {"x": "1"},
                                       client.same_origin())
    assert status == 401
    assert client.request("GET", "/healthz")[0] == 200
    assert client.request("GET", "/login")[0] == 200


def test_signing_in_sets_a_hardened_cookie_and_is_audited_once(app_server, engine):
    client = Client(app_server)
    before = len(audit_rows(engine, action="login", username="analyst"))
    status, headers, _body = client.sign_in("analyst")
    assert status == 302 and headers["Location"] == "/"
    status, _h, page, _ = client.request("GET", "/_dash-layout")
    assert status == 200
    rows = audit_rows(engine, action="login", username="analyst")
    assert len(rows) == before + 1
    assert rows[-1][2] == "127.0.0.1"


def test_the_session_cookie_is_secure_httponly_and_strict(app_server):
    client = Client(app_server)
    _s, _h, page, _c = client.request("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    _s, _h, _b, cookies = client.request(
        "POST", "/login", {"csrf_token": token, "username": "leader",
                           "password": TEST_USERS["leader"][1]}, client.same_origin())
    session_cookie = next(c for c in cookies if c.startswith("onemap_session="))
    for flag in ("HttpOnly", "Secure", "SameSite=Strict"):
        assert flag in session_cookie


def test_a_wrong_password_is_refused_and_audited_without_the_password(app_server, engine):
    client = Client(app_server)
    before = len(audit_rows(engine, action="login_failed", username="duty"))
    status, _headers, body = client.sign_in("duty", "not-the-password-1")
    assert status == 401 and "用户名或密码错误" in body
    rows = audit_rows(engine, action="login_failed", username="duty")
    assert len(rows) == before + 1
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT details::text FROM audit_log WHERE action ="
                                   " 'login_failed' ORDER BY id DESC LIMIT 1")).scalar()
    assert "not-the-password" not in (logged or "")
    assert client.request("GET", "/_dash-layout")[0] == 401


def test_state_changes_from_another_site_are_refused(app_server):
    client = Client(app_server)
    client.sign_in("duty")
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"}, {}):
        status, _h, _b, _ = client.request("POST", "/_dash-update-component", {"x": "1"}, headers)
        assert status == 403, headers
    # the login form carries a token as well as the origin check
    status, _h, _b, _ = client.request("POST", "/login", {"username": "duty", "password": "x"},
                                       client.same_origin())
    assert status == 400


def test_next_cannot_send_a_user_to_another_site(app_server):
    client = Client(app_server)
    _s, _h, page, _c = client.request("GET", "/login?next=//evil.example/phish")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert 'name="next" value="/"' in page
    status, headers, _b, _ = client.request(
        "POST", "/login", {"csrf_token": token, "username": "duty", "next": "https://evil.example",
                           "password": TEST_USERS["duty"][1]}, client.same_origin())
    assert status == 302 and headers["Location"] == "/"
    _s, _h, page, _c = Client(app_server).request("GET", "/login?next=/%5Cevil.example")
    assert 'name="next" value="/"' in page


def test_signing_out_ends_the_session_and_is_audited(app_server, engine):
    client = Client(app_server)
    client.sign_in("leader")
    before = len(audit_rows(engine, action="logout", username="leader"))
    status, _h, _b, _ = client.request("POST", "/logout", {}, client.same_origin())
    assert status == 302
    assert client.request("GET", "/_dash-layout")[0] == 401
    assert len(audit_rows(engine, action="logout", username="leader")) == before + 1


def test_a_disabled_user_is_out_at_the_next_request(app_server, engine):
    client = Client(app_server)
    client.sign_in("analyst")
    assert client.request("GET", "/_dash-layout")[0] == 200
    with engine.begin() as conn:
        conn.execute(text("UPDATE app_user SET active = false WHERE username = 'analyst'"))
    try:
        assert client.request("GET", "/_dash-layout")[0] == 401
        assert client.sign_in("analyst")[0] == 401
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE app_user SET active = true WHERE username = 'analyst'"))


def test_sign_in_attempts_are_rate_limited(app_server):
    with settings_changed(LOGIN_RATE_LIMIT="3 per minute"):
        client = Client(app_server)
        codes = [client.sign_in("duty", "wrong-password-1")[0] for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]

"""The administrators' audit-log page: search, export (itself audited), and nobody else.
(Its callback called directly, without a browser: tests/api/test_audit_callback.py.)"""

from __future__ import annotations


from sqlalchemy import text

from tests.browser.conftest import Client, sign_in
from tests.support.dash_calls import check_audit_callback_answers_admins_only

MARKUP = '<img src=x onerror="alert(1)">'


def _exports(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'export'"
                                 " AND object_kind = 'audit_log'")).scalar()


def _admin_shows_rows_of(page, base: str, username: str, action: str) -> str:
    """Sign in as the admin, filter the audit page by user, wait until only that user's rows
    (one of them `action`) are shown; returns the table's text."""
    sign_in(page, base, "admin")
    page.goto(base + "/admin/audit")
    page.wait_for_selector(".audit-table table")
    page.fill("#audit-username", username)
    page.press("#audit-username", "Enter")
    page.wait_for_function(
        "([user, action]) => [...document.querySelectorAll('.audit-table tbody tr')].length > 0"
        " && [...document.querySelectorAll('.audit-table tbody tr td:nth-child(2)')]"
        ".every(td => td.textContent === user)"
        " && document.querySelector('.audit-table').innerText.includes(action)",
        arg=[username, action])
    return page.inner_text(".audit-table")


def test_the_admin_searches_and_exports_and_the_export_is_audited(live_server, page, engine,
                                                                   tmp_path):
    Client(live_server).sign_in("duty", "wrong-password-9")  # something to find
    _admin_shows_rows_of(page, live_server, "duty", "login_failed")
    before = _exports(engine)
    with page.expect_download() as download:
        page.click("#audit-export")
    path = tmp_path / "audit.csv"
    download.value.save_as(path)
    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel on zh-CN opens it right
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("时间 Time,用户 User,操作 Action")
    assert all(",duty," in line for line in lines[1:])
    assert _exports(engine) == before + 1
    assert page.console_errors == []


def test_user_supplied_text_is_shown_as_text(live_server, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    Client(live_server).sign_in(MARKUP, "whatever-password-1")  # lands in the audit log
    sign_in(page, live_server, "admin")
    page.goto(live_server + "/admin/audit")
    page.wait_for_selector(".audit-table table")
    page.wait_for_timeout(500)
    assert MARKUP in page.inner_text(".audit-table")
    assert page.query_selector(".audit-table img") is None
    assert dialogs == []


def test_other_roles_are_not_let_in(live_server, page):
    sign_in(page, live_server, "duty")
    page.goto(live_server + "/admin/audit")
    page.wait_for_selector(".not-found")
    assert "无权限" in page.inner_text(".not-found")
    assert page.query_selector(".audit-table") is None


def _refusals(engine, capability: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'refused'"
                                 " AND object_id = :c"), {"c": capability}).scalar()


def test_refused_visits_and_callback_calls_are_audited(live_server, page, engine):
    before = _refusals(engine, "view_audit")
    test_other_roles_are_not_let_in(live_server, page)  # the page, as a duty officer
    check_audit_callback_answers_admins_only(live_server)  # a leader
    assert _refusals(engine, "view_audit") == before + 2
    with engine.connect() as conn:
        who = conn.execute(text("SELECT username FROM audit_log WHERE action = 'refused'"
                                " AND object_id = 'view_audit' ORDER BY id DESC LIMIT 2"))
        assert sorted(who.scalars()) == ["duty", "leader"]


def test_administrators_see_the_people_others_searched_for_masked(live_server, page, engine):
    searched = "210103196806020416"  # a whole ID number, as a grid worker may search
    worker = Client(live_server)
    assert worker.sign_in("gridworker")[0] == 302
    status, _h, _b, _c = worker.request("POST", "/api/persons/search", json_body={"q": searched},
                                        headers=worker.same_origin())
    assert status == 200
    with engine.connect() as conn:  # the log itself keeps what was searched
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'person_search'"
                                 " AND details->>'query' = :q"), {"q": searched}).scalar() >= 1
    shown = _admin_shows_rows_of(page, live_server, "gridworker", "person_search")
    assert "210103********0416" in shown
    assert searched not in shown and "19680602" not in shown

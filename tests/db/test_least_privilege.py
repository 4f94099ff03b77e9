"""The app's database role is the second wall: what an injection through it could not do.

The outside test found that `onemap_app` could make itself an administrator, read password
hashes and forge audit rows. Each of those is tried here as `onemap_app` would try it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geodata.scope import AUTH_ROLE, app_engine_for, engine_as, scoped
from tests.fixtures.hierarchy import DISTRICT, insert_hierarchy
from tests.fixtures.sessions import session_scope


@pytest.fixture(scope="module")
def app_engine(db_url):
    engine = app_engine_for(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def district(engine):
    with engine.begin() as conn:
        insert_hierarchy(conn)
    yield DISTRICT
    with engine.begin() as conn:
        for table in ("grid", "community", "street", "district"):
            conn.execute(text(f"DELETE FROM {table}"))


def _refused(conn, statement: str, **params) -> None:
    with pytest.raises(DBAPIError, match="permission denied"):
        with conn.begin_nested():
            conn.execute(text(statement), params)


@pytest.mark.parametrize("statement", [
    "UPDATE onemap.app_user SET role_code = 'admin'",
    "UPDATE onemap.app_user SET scope_code = '210103', active = true",
    "UPDATE onemap.app_user SET lookup_locked_at = NULL",
    "INSERT INTO onemap.app_user (username, display_name, password_hash, role_code, scope_code)"
    " VALUES ('mallory', 'm', 'x', 'admin', '210103')",
    "DELETE FROM onemap.app_user",
    "SELECT password_hash FROM onemap.app_user",
    "SELECT * FROM onemap.app_user",
    "SELECT token_hash FROM onemap.web_session",
    "UPDATE onemap.web_session SET expires_at = now() + interval '10 years'",
    "INSERT INTO onemap.audit_log (action, username) VALUES ('login', 'alice')",
    "UPDATE onemap.building SET address = 'x'",
    "DELETE FROM onemap.person",
    "INSERT INTO onemap.role (code, name_zh, name_en) VALUES ('root', 'r', 'r')",
    "UPDATE onemap.event_category SET default_level = 1",
    "SELECT * FROM onemap.current_session()",
])
def test_the_app_role_is_refused(app_engine, district, engine, statement):
    with scoped(session_scope(engine, district), app_engine) as conn:
        _refused(conn, statement)


def test_the_app_role_reads_who_users_are_but_not_their_secrets(app_engine, district, engine):
    with scoped(session_scope(engine, district), app_engine) as conn:
        names = conn.execute(text("SELECT username, role_code, scope_code, active"
                                  " FROM onemap.app_user")).all()
    assert names


def test_audit_rows_are_read_only_in_an_administrators_session(app_engine, district, engine):
    with scoped(session_scope(engine, district, role="admin"), app_engine) as conn:
        conn.execute(text("SELECT onemap.write_audit('export', NULL, NULL, NULL, NULL, NULL,"
                          " NULL)"))
        assert conn.execute(text("SELECT count(*) FROM onemap.audit_log")).scalar() > 0
    with scoped(session_scope(engine, district, role="duty_officer"), app_engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM onemap.audit_log")).scalar() == 0


def test_the_sign_in_role_reads_hashes_and_sessions_but_changes_no_user(db_url, district):
    auth = engine_as(AUTH_ROLE, db_url)
    try:
        with auth.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar() == AUTH_ROLE
            conn.execute(text("SELECT password_hash FROM onemap.app_user")).all()
            _refused(conn, "UPDATE onemap.app_user SET role_code = 'admin'")
            _refused(conn, "UPDATE onemap.app_user SET password_hash = 'x'")
            _refused(conn, "SELECT id FROM onemap.person")
            with pytest.raises(DBAPIError, match="row-level security"):
                with conn.begin_nested():
                    conn.execute(text("INSERT INTO onemap.audit_log (action, username)"
                                      " VALUES ('unmask', 'alice')"))
            conn.rollback()
    finally:
        auth.dispose()


def test_changing_a_user_ends_their_sessions(engine, app_engine, district):
    for change in ("active = false", "password_hash = 'new'", "role_code = 'leader'",
                   f"scope_code = '{district}001'"):
        scope = session_scope(engine, district)
        with scoped(scope, app_engine) as conn:
            assert conn.execute(text("SELECT onemap.current_scope()")).scalar() == district
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE app_user SET {change} WHERE id = (SELECT user_id FROM"
                              " web_session WHERE token_hash = sha256(convert_to(:t, 'UTF8')))"),
                         {"t": scope.session})
            reason = conn.execute(text(
                "SELECT end_reason FROM web_session WHERE token_hash ="
                " sha256(convert_to(:t, 'UTF8'))"), {"t": scope.session}).scalar()
        assert reason, change
        with scoped(scope, app_engine) as conn:
            assert conn.execute(text("SELECT onemap.current_scope()")).scalar() is None, change


def test_the_app_cannot_write_history_or_reports_in_anyone_elses_name(engine, app_engine,
                                                                      district):
    scope = session_scope(engine, district, role="duty_officer")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO event_category (code, kind, name_zh) VALUES"
                          " ('T-STAMP', 'event', '测试') ON CONFLICT DO NOTHING"))
        someone_else = conn.execute(text("SELECT min(id) FROM app_user")).scalar_one()
        me = conn.execute(text("SELECT user_id FROM web_session WHERE token_hash ="
                               " sha256(convert_to(:t, 'UTF8'))"), {"t": scope.session}).scalar()
    with app_engine.connect() as conn:
        transaction = conn.begin()  # rolled back: history rows cannot be deleted afterwards
        conn.execute(text("SELECT set_config('onemap.session', :t, true)"), {"t": scope.session})
        event = conn.execute(text(
            "INSERT INTO onemap.event (code, title, category_code, level, channel, state,"
            " reported_at, geom, reported_by_user_id) VALUES ('E-STAMP', 'x', 'T-STAMP', 4,"
            " 'inspector', 'reported', now(), ST_SetSRID(ST_MakePoint(123.4, 41.8), 4326), :u)"
            " RETURNING id"), {"u": someone_else}).scalar_one()
        conn.execute(text("INSERT INTO onemap.event_history (event_id, action, to_state,"
                          " actor_user_id) VALUES (:e, 'report', 'reported', :u)"),
                     {"e": event, "u": someone_else})
        stamped = conn.execute(text(
            "SELECT e.reported_by_user_id, h.actor_user_id FROM onemap.event e"
            " JOIN onemap.event_history h ON h.event_id = e.id WHERE e.id = :e"),
            {"e": event}).one()
        transaction.rollback()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM event_category WHERE code = 'T-STAMP'"))
    assert tuple(stamped) == (me, me)

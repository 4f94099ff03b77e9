"""`onemap user …` against the session's cluster: add, refuse, change, disable, list."""

from __future__ import annotations

import subprocess

from sqlalchemy import text

from onemap.access.passwords import verify_password
from tests.conftest import onemap_command
from tests.fixtures.hierarchy import insert_hierarchy


def run(env, *args):
    return subprocess.run([onemap_command(), "user", *args], env=env, capture_output=True,
                          text=True)


def test_the_user_lifecycle(cli_env, engine):
    with engine.connect() as conn:
        transaction = conn.begin()
        codes = insert_hierarchy(conn)
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        transaction.commit()
    community = codes["community"][1]
    try:
        added = run(cli_env, "add", "wang.wei", "--role", "grid_worker", "--scope", community,
                    "--name", "王伟", "--password", "first-pass-2026")
        assert added.returncode == 0, added.stderr
        assert f"scoped to {community}" in added.stdout
        again = run(cli_env, "add", "Wang.Wei", "--role", "leader", "--scope", community,
                    "--password", "first-pass-2026")
        assert again.returncode == 1 and "exists already" in again.stderr
        weak = run(cli_env, "add", "li", "--role", "leader", "--scope", community,
                   "--password", "short")
        assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
        nowhere = run(cli_env, "add", "zhao", "--role", "leader", "--scope", "210103999999",
                      "--password", "first-pass-2026")
        assert nowhere.returncode == 1 and "is not a district, street, community or grid" in nowhere.stderr
        role = run(cli_env, "add", "zhou", "--role", "superuser", "--scope", community,
                   "--password", "first-pass-2026")
        assert role.returncode == 1 and "unknown role" in role.stderr

        assert run(cli_env, "passwd", "wang.wei", "--password", "second-pass-2026").returncode == 0
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT password_hash FROM app_user"
                                       " WHERE username = 'wang.wei'")).scalar()
        assert verify_password(stored, "second-pass-2026")
        assert not verify_password(stored, "first-pass-2026")

        assert run(cli_env, "disable", "wang.wei").returncode == 0
        listed = run(cli_env, "list").stdout
        line = next(row for row in listed.splitlines() if row.startswith("wang.wei"))
        assert "grid_worker" in line and community in line and "DISABLED" in line
        assert run(cli_env, "enable", "wang.wei").returncode == 0
        assert "DISABLED" not in next(r for r in run(cli_env, "list").stdout.splitlines()
                                      if r.startswith("wang.wei"))
        assert run(cli_env, "disable", "nobody").returncode == 1
        assert run(cli_env, "set", "wang.wei", "--role", "leader").returncode == 0
        assert run(cli_env, "signout", "wang.wei").returncode == 0
        assert run(cli_env, "unlock", "wang.wei").returncode == 0
        assert run(cli_env, "set", "wang.wei", "--role", "superuser").returncode == 1
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT action, username, details FROM audit_log"
                " WHERE object_kind = 'user' AND object_id = 'wang.wei' ORDER BY id")).all()
        # every change that happened is one row, in the name of the account that ran it;
        # refused commands (duplicate, weak, unknown scope or role) wrote nothing
        assert [r.action for r in rows] == [
            "user_add", "user_passwd", "user_disable", "user_enable", "user_set",
            "user_signout", "lookup_unlock"]
        assert all(r.username.startswith("cli:") for r in rows)
        assert rows[0].details == {"role": "grid_worker", "scope": community}
        assert "second-pass" not in str([tuple(r) for r in rows])
    finally:
        with engine.begin() as conn:
            for table in ("grid", "community", "street", "district"):
                conn.execute(text(f"DELETE FROM {table}"))

"""One demo user per role, so a fresh demo can be signed into straight away.

The passwords are public (they are in the README): change them with `onemap user passwd`
before a demo database holds anything real.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geodata import users
from onemap.access.passwords import hash_password

# username, display name, role, scope ('district' or 'grid': the first grid), password
DEMO_USERS = [
    ("duty", "值班员 王明", "duty_officer", "district", "duty-demo-2017"),
    ("leader", "区领导 李华", "leader", "district", "leader-demo-2017"),
    ("analyst", "分析员 赵静", "analyst", "district", "analyst-demo-2017"),
    ("gridworker", "网格员 张伟", "grid_worker", "grid", "grid-demo-2017"),
    ("admin", "管理员 刘洋", "admin", "district", "admin-demo-2017"),
]


def create_demo_users(conn: Connection, district_code: str) -> list[tuple[str, str, str, str]]:
    """Add the demo users that do not exist yet; returns (username, role, scope, password)."""
    first_grid = conn.execute(text(
        "SELECT min(code) FROM onemap.grid WHERE code LIKE :d || '%'"), {"d": district_code}
    ).scalar()
    created = []
    for username, name, role, level, password in DEMO_USERS:
        if users.credentials(conn, username):
            continue
        scope = district_code if level == "district" else first_grid
        users.add(conn, username=username, display_name=name, role=role, scope_code=scope,
                  password_hash=hash_password(password))
        created.append((username, role, scope, password))
    return created

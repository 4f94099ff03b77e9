"""Who the tests and benchmarks sign in as."""

from __future__ import annotations

# username -> (role, password): the users tests/conftest.py's `demo_users` adds
TEST_USERS = {
    "duty": ("duty_officer", "duty-test-2026"),
    "leader": ("leader", "leader-test-2026"),
    "analyst": ("analyst", "analyst-test-2026"),
    "gridworker": ("grid_worker", "grid-test-2026"),
    "admin": ("admin", "admin-test-2026"),
}

# the demo users `onemap demo` creates (etl/demo/users.py); their passwords are in the README
DEMO_PASSWORDS = {"duty": "duty-demo-2017", "leader": "leader-demo-2017",
                  "analyst": "analyst-demo-2017", "gridworker": "grid-demo-2017",
                  "admin": "admin-demo-2017"}

# the password of the user `fresh_user` (tests/conftest.py) makes for one test
FRESH_USER_PASSWORD = "session-test-2026"

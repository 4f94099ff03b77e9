"""The harness the tests and the benchmarks share.

- `serving(env)`: `onemap serve` on a free port, as users start it; yields its base URL and
  checks its log at shutdown (`assert_clean_log`). `free_port()`, `onemap_command()`.
- `Client(target, agent=None)`: HTTP that keeps its cookies and User-Agent, either over
  loopback to a served app (target: its base URL) or in-process through Flask's test client
  (target: the Flask app); `sign_in()`; `signed_in()` and `demo_client()` build one signed in.
- `TEST_USERS`, `DEMO_PASSWORDS`: who the test users and the demo users are.
- `app_pointed_at(env)`: the app imported in this process with its settings and database
  connections taken from `env`; `settings_changed(**values)` for a test that needs one more.
- `sign_in_tab()`, `CHROMIUM`, `CHROMIUM_ARGS`: a browser tab signed in through the form.
"""

"""HTTP clients that keep their cookies and User-Agent, and sign in through the form.

One interface, two transports: over loopback to a served OneMap (`Client("http://…")`), or
in-process through Flask's test client (`Client(app.server)`), so a test reads the same
whichever it talks to. Cookies are kept by hand, Secure ones too (only ever loopback or
in-process), so a test can copy them into another client as a thief would.
"""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from tests.support.users import DEMO_PASSWORDS, TEST_USERS

# the host Flask's test client names in every request; same-origin checks compare with it
IN_PROCESS_BASE = "http://localhost"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Reply:
    """One answer: status, headers (the last of a repeated name), body, and every Set-Cookie."""

    status: int
    headers: dict
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """Signed in or not, talking to `target`: a base URL (a served app) or a Flask app."""

    def __init__(self, target, agent: str | None = None, *, ip: str = "127.0.0.1",
                 keep_alive: bool = False) -> None:
        self.agent = agent  # the User-Agent it sends (sessions are bound to the browser)
        self.cookies: dict[str, str] = {}
        if isinstance(target, str):
            self.base = target
            self.netloc = urlsplit(target).netloc
            self._flask = None
        else:
            self.base = IN_PROCESS_BASE
            self.netloc = urlsplit(IN_PROCESS_BASE).netloc
            self._flask = target.test_client(use_cookies=False)
            # as http.client: no User-Agent unless given; the address the audit log records
            self._flask.environ_base.pop("HTTP_USER_AGENT", None)
            self._flask.environ_base["REMOTE_ADDR"] = ip
        # over loopback, a client of another address binds its connections to it (all of
        # 127/8 is this machine's), so that the server sees it as a browser elsewhere
        self._source = None if ip == "127.0.0.1" else (ip, 0)
        self._keep_alive = keep_alive
        self._connection: http.client.HTTPConnection | None = None

    # -- sending ---------------------------------------------------------------------------

    def send(self, method: str, path: str, data: bytes | str | None = None,
             headers: dict | None = None) -> Reply:
        """One request with this client's cookies and User-Agent; keeps what it is sent."""
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if self.agent:
            all_headers["User-Agent"] = self.agent
        all_headers.update(headers or {})
        reply = (self._in_process(method, path, data, all_headers) if self._flask
                 else self._over_http(method, path, data, all_headers))
        for cookie in reply.set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return reply

    def _over_http(self, method: str, path: str, data, headers: dict) -> Reply:
        reused = self._connection is not None
        conn = self._connection or self._connect()
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            conn.close()
            self._connection = None
            if not reused:
                raise
            # the server closed a kept-alive connection while it sat idle (gunicorn's
            # keep-alive is 2 s): the request never reached it, so send it again on a new
            # one, as a browser does
            conn = self._connect()
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
        body = response.read()
        reply = Reply(response.status, dict(response.headers), body,
                      response.headers.get_all("Set-Cookie") or [])
        if self._keep_alive and not response.will_close:
            self._connection = conn
        else:
            conn.close()
            self._connection = None
        return reply

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.netloc, timeout=30, source_address=self._source)

    def _in_process(self, method: str, path: str, data, headers: dict) -> Reply:
        if not headers.get("Cookie"):
            headers.pop("Cookie")
        response = self._flask.open(path, method=method, data=data, headers=headers)
        try:
            return Reply(response.status_code, dict(response.headers), response.get_data(),
                         response.headers.getlist("Set-Cookie"))
        finally:
            response.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- the shapes the tests use ----------------------------------------------------------

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None, json_body=None) -> tuple[int, dict, str, list[str]]:
        """(status, headers, body text, Set-Cookie headers); `body` goes as a form,
        `json_body` as JSON."""
        data, extra = None, {}
        if body is not None:
            data = urlencode(body)
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            data = json.dumps(json_body)
            extra["Content-Type"] = "application/json"
        reply = self.send(method, path, data, {**extra, **(headers or {})})
        return reply.status, reply.headers, reply.text, reply.set_cookies

    def get(self, path: str) -> Reply:
        return self.send("GET", path)

    def post_json(self, path: str, payload) -> Reply:
        """A same-origin JSON POST, as the app's own pages send one."""
        return self.send("POST", path, json.dumps(payload),
                         {"Content-Type": "application/json", **self.same_origin()})

    def same_origin(self) -> dict:
        return {"Origin": self.base}

    def sign_in(self, username: str, password: str | None = None) -> tuple[int, dict, str]:
        """GET the form, POST it back with its token: (status, headers, body)."""
        _status, _h, page, _c = self.request("GET", "/login")
        token = CSRF.search(page).group(1)
        status, headers, body, _ = self.request(
            "POST", "/login", {"csrf_token": token, "username": username, "next": "/",
                               "password": password or TEST_USERS[username][1]},
            self.same_origin())
        return status, headers, body


def signed_in(target, username: str, password: str | None = None, **options) -> Client:
    """A client signed in as `username` (a test user unless a password is given)."""
    client = Client(target, **options)
    status = client.sign_in(username, password)[0]
    assert status == 302, f"signing in as {username}: HTTP {status}"
    return client


def demo_client(target, username: str, **options) -> Client:
    """A client signed in as one of the demo users."""
    return signed_in(target, username, DEMO_PASSWORDS[username], **options)


PROBE = "/api/layers"  # any signed-in endpoint: 200 signed in, 401 not


def probe(client: Client, path: str = PROBE) -> int:
    """The status a signed-in endpoint answers this client."""
    return client.request("GET", path)[0]


def signed_in_browser(target, username: str, password: str,
                      agent: str = "test-browser/1") -> Client:
    """A client that signed in from a browser of its own (sessions are bound to it) and is in."""
    client = Client(target, agent)
    assert client.sign_in(username, password)[0] == 302
    assert probe(client) == 200
    return client

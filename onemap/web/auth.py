"""Sign-in with Flask-Login: every page and endpoint needs a session except the few listed.

The cookie holds only a random session token; the session itself lives in the database
(geodata/sessions.py), which checks it on every request and again on every query (the scope
comes from it). Sign-out, disable, password, role or scope change and "sign out everywhere"
therefore end a session at its next request, in every worker, and a copied cookie is worth
nothing afterwards. Sign-in and the session checks run as the database role `onemap_auth`;
everything else as `onemap_app`, which can read neither sessions nor password hashes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import quote, urlsplit

from flask import Flask, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

import geodata.rate_limits  # noqa: F401  (registers the onemap-postgresql:// limit storage)
from geodata import sessions, users
from geodata.scope import Scope, auth_engine, scoped
from onemap.access.passwords import dummy_hash, verify_password
from onemap.domain.roles import ROLE_CAPABILITIES, Capability, can
from onemap.settings import get_settings

from . import login_page
from .errors import NeedsCredentials, NotPermitted, NotSignedIn

# Reachable without a session: the sign-in page, the health check and static CSS/JS, and
# Open311's catalogue (GeoReport v2 lists services to anyone; no personal data in it).
PUBLIC_PATHS = ("/login", "/healthz")
PUBLIC_PREFIXES = ("/assets/", "/open311/v2/services", "/open311/v2/discovery")
# Open311 (onemap/web/open311.py): an API token alone authenticates there, never a cookie
OPEN311 = "/open311/"
# What desktop GIS clients read (the OGC API, vector tiles): a browser's session, or HTTP Basic
# with a user name and that user's personal token (QGIS's and GDAL's USERPWD), or Bearer
DESKTOP = ("/ogc/", "/tiles/")

# counted in PostgreSQL: a limit holds however many workers and servers share the database
limiter = Limiter(key_func=get_remote_address, storage_uri="onemap-postgresql://",
                  headers_enabled=True)


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login holds them; their id is the session's token."""

    def __init__(self, user: users.User, token: str) -> None:
        self.user = user
        self.token = token

    def get_id(self) -> str:
        """What Flask-Login keeps in the cookie: the session token, never the user's id."""
        return self.token

    @property
    def role(self) -> str:
        """The user's role code."""
        return self.user.role

    def scope(self) -> Scope:
        """The unit this user sees, bound to their session."""
        return Scope(self.user.scope_code, session=self.token)

    def can(self, capability: Capability) -> bool:
        """Whether the user's role has the capability."""
        return can(self.user.role, capability)


def current_scope() -> Scope:
    """The signed-in user's scope; NotSignedIn (401) when nobody is signed in."""
    if not current_user.is_authenticated:
        raise NotSignedIn()
    return current_user.scope()


def current_role() -> str:
    """The signed-in user's role code; NotSignedIn (401) when nobody is signed in."""
    if not current_user.is_authenticated:
        raise NotSignedIn()
    return current_user.role


def _client() -> tuple[str | None, str | None]:
    return request.remote_addr, request.headers.get("User-Agent")


def request_audit(action: str, **what) -> dict:
    """The audit row of this request (users.audit_parameters): from where and with which
    browser from the request; who the database takes from the session."""
    ip, agent = _client()
    return users.audit_parameters(action=action, ip=ip, user_agent=agent, **what)


def audit_request(conn, action: str, **what) -> None:
    """One audit row for this request, on its scoped connection."""
    ip, agent = _client()
    users.audit_session(conn, action=action, ip=ip, user_agent=agent, **what)


def refused(capability: Capability) -> bool:
    """True (and one audit row `refused` naming the missing capability) when the signed-in
    user's role lacks `capability`; False when they have it."""
    if current_user.can(capability):
        return False
    with scoped(current_scope()) as conn:
        audit_request(conn, "refused", object_kind="capability", object_id=capability.value,
                      details={"path": request.path[:200], "method": request.method})
    return True


def requires(capability: Capability) -> Callable:
    """The one guard of a Flask view: NotSignedIn (401) without a session, NotPermitted (403,
    audited) unless the user's role has `capability`. The view keeps the capability as
    `required_capability`, so a test can walk the URL map and hold each view to it."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                raise NotSignedIn()
            if refused(capability):
                raise NotPermitted()
            return view(*args, **kwargs)

        guarded.required_capability = capability
        return guarded

    return decorate


def _safe_next(path: str | None) -> str:
    """Only same-site paths: an attacker's link must not bounce a user elsewhere."""
    # browsers read "/\\host" like "//host": refuse backslashes as well as other hosts
    if (not path or not path.startswith("/") or path.startswith("//") or "\\" in path
            or urlsplit(path).netloc):
        return "/"
    return path


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def bearer_token() -> str | None:
    """The token of `Authorization: Bearer …`, or None when the request carries none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def basic_credentials() -> tuple[str, str] | None:
    """(user name, token) of `Authorization: Basic …`, or None."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username or not auth.password:
        return None
    return auth.username, auth.password


def open311_key() -> str | None:
    """An Open311 client's token: Authorization: Bearer, else the `api_key` GeoReport v2 sends
    in the query string or the form. The body is read into the request's cache first (at most
    the body limit + 1 byte), so the body checks that follow still see all of it."""
    token = bearer_token() or request.args.get("api_key")
    if token is None and request.mimetype in ("application/x-www-form-urlencoded",
                                              "multipart/form-data"):
        request.get_data(cache=True)
        token = request.form.get("api_key")
    return (token or "").strip() or None


def init_auth(server: Flask) -> None:
    """Configure sessions, the login manager, the sign-in routes and the guard on `server`."""
    settings = get_settings()
    server.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_NAME="onemap_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE="Strict",
        # the cookie may live as long as the longest session; the database decides the rest
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours),
        SESSION_REFRESH_EACH_REQUEST=True,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
    )
    manager = LoginManager(server)
    manager.session_protection = "strong"
    limiter.init_app(server)

    idle = timedelta(hours=settings.session_hours)

    @manager.user_loader
    def load_user(token: str):
        # a machine client: its token alone speaks for it
        if (bearer_token() is not None or request.path.startswith(OPEN311)
                or (request.path.startswith(DESKTOP) and basic_credentials() is not None)):
            return None
        with auth_engine().begin() as conn:
            user = sessions.load(conn, token, user_agent=request.headers.get("User-Agent"),
                                 idle=idle)
        return SessionUser(user, token) if user else None

    @manager.request_loader
    def load_token_user(_request):
        """An API token (Authorization: Bearer …, Open311's api_key, or as the password of
        HTTP Basic beside its user's name for the OGC API and tiles) opens /api/, /open311/,
        /ogc/ and /tiles/ and nothing else: no page, no Dash callback."""
        username = None
        if request.path.startswith(OPEN311):
            token = open311_key()
        elif request.path.startswith(DESKTOP) and basic_credentials() is not None:
            username, token = basic_credentials()
        else:
            token = bearer_token()
        if token is None or not request.path.startswith(("/api/", OPEN311, *DESKTOP)):
            return None
        # one statement (two when the token's last use is stale): no BEGIN and COMMIT round
        # trips on every machine call
        with auth_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            user = sessions.load_token(conn, token)
        if user is None or (username is not None
                            and username.strip().lower() != user.username.lower()):
            return None  # Basic's name must be the token's user
        return SessionUser(user, token)

    @server.before_request
    def require_login():
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        if current_user.is_authenticated:
            return None
        if path.startswith(DESKTOP):
            raise NeedsCredentials()
        if path.startswith(("/_dash-", "/api/", OPEN311)) or request.method != "GET":
            raise NotSignedIn()
        # the query string too: a wall display's saved view (/wall?layers=…&z=…) survives
        # a session that ends
        query = request.query_string.decode("utf-8", "replace")
        target = _safe_next(path + ("?" + query if query else ""))
        return redirect("/login?next=" + quote(target, safe="/"))

    @server.get("/login")
    def login_form():
        if current_user.is_authenticated:
            return redirect("/")
        return login_page.render(csrf_token=_csrf_token(),
                                 next_path=_safe_next(request.args.get("next")))

    @server.post("/login")
    @limiter.limit(lambda: get_settings().login_rate_limit)
    def login_submit():
        form = request.form
        next_path = _safe_next(form.get("next"))
        expected = session.get("csrf")
        if not expected or not secrets.compare_digest(form.get("csrf_token", ""), expected):
            return login_page.render(csrf_token=_csrf_token(), next_path=next_path, status=400,
                                     message="页面已过期，请重试 · The form expired, try again")
        username = form.get("username", "").strip()[:64]
        password = form.get("password", "")
        ip, agent = _client()
        with auth_engine().begin() as conn:
            found = users.credentials(conn, username)
            ok = verify_password(found[1] if found else dummy_hash(), password)
            if not (found and ok and found[0].active):
                users.audit(conn, action="login_failed", username=username or None, ip=ip,
                            user_agent=agent,
                            details={"reason": "disabled" if found and ok else "bad credentials"})
                return login_page.render(csrf_token=_csrf_token(), next_path=next_path,
                                         username=username, status=401,
                                         message="用户名或密码错误 · Wrong username or password")
            user = found[0]
            users.touch_login(conn, user.id)
            users.audit(conn, action="login", user=user, ip=ip, user_agent=agent)
            token = sessions.open_session(
                conn, user, capabilities=ROLE_CAPABILITIES.get(user.role, ()),
                user_agent=agent, ip=ip, idle=idle,
                lifetime=timedelta(hours=settings.session_max_hours))
        session.clear()  # a fresh session at sign-in: no fixation
        session.permanent = True
        login_user(SessionUser(user, token))
        return redirect(next_path)

    @server.post("/logout")
    def logout():
        """Sign out here; with `everywhere` in the form, end every session of this user."""
        if current_user.is_authenticated:
            ip, agent = _client()
            everywhere = bool(request.form.get("everywhere"))
            with auth_engine().begin() as conn:
                if everywhere:
                    ended = sessions.end_all(conn, current_user.user.id, "signed out everywhere")
                else:
                    ended = int(sessions.end(conn, current_user.token))
                users.audit(conn, action="signout_everywhere" if everywhere else "logout",
                            user=current_user.user, ip=ip, user_agent=agent,
                            details={"sessions_ended": ended})
        logout_user()
        session.clear()
        return redirect("/login")

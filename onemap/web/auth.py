"""Sign-in with Flask-Login: every page and endpoint needs a session except the few listed.

The session remembers only the user's id; role, scope and `active` are read from the database
on every request, so disabling a user or changing a scope takes effect at once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import quote, urlsplit

from flask import Flask, abort, jsonify, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from geodata import users
from geodata.scope import Scope, app_engine
from onemap.access.passwords import dummy_hash, verify_password
from onemap.access.roles import Capability, can
from onemap.settings import get_settings

from . import login_page

# Reachable without a session: the sign-in page, the health check and static CSS/JS.
PUBLIC_PATHS = ("/login", "/healthz")
PUBLIC_PREFIXES = ("/assets/",)

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://",
                  headers_enabled=True)


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login holds them."""

    def __init__(self, user: users.User) -> None:
        self.user = user
        self.id = str(user.id)

    @property
    def role(self) -> str:
        """The user's role code."""
        return self.user.role

    def scope(self) -> Scope:
        """The unit this user sees, and whether sensitive tags are theirs to read."""
        return Scope(self.user.scope_code, sensitive=can(self.user.role,
                                                         Capability.VIEW_SENSITIVE_TAGS))

    def can(self, capability: Capability) -> bool:
        """Whether the user's role has the capability."""
        return can(self.user.role, capability)


def current_scope() -> Scope:
    """The signed-in user's scope; aborts with 401 when nobody is signed in."""
    if not current_user.is_authenticated:
        abort(401)
    return current_user.scope()


def _client() -> tuple[str | None, str | None]:
    return request.remote_addr, request.headers.get("User-Agent")


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


def init_auth(server: Flask) -> None:
    """Configure sessions, the login manager, the sign-in routes and the guard on `server`."""
    settings = get_settings()
    server.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_NAME="onemap_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        SESSION_REFRESH_EACH_REQUEST=True,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
    )
    manager = LoginManager(server)
    manager.session_protection = "strong"
    limiter.init_app(server)

    @manager.user_loader
    def load_user(user_id: str):
        with app_engine().connect() as conn:
            user = users.by_id(conn, int(user_id))
        return SessionUser(user) if user and user.active else None

    @server.before_request
    def require_login():
        path = request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        if current_user.is_authenticated:
            return None
        if path.startswith(("/_dash-", "/api/")) or request.method != "GET":
            return jsonify(error="not signed in / 未登录"), 401
        return redirect("/login?next=" + quote(_safe_next(path), safe="/"))

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
        with app_engine().begin() as conn:
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
        session.clear()  # a fresh session at sign-in: no fixation
        session.permanent = True
        login_user(SessionUser(user))
        return redirect(next_path)

    @server.post("/logout")
    def logout():
        if current_user.is_authenticated:
            ip, agent = _client()
            with app_engine().begin() as conn:
                users.audit(conn, action="logout", user=current_user.user, ip=ip,
                            user_agent=agent)
        logout_user()
        session.clear()
        return redirect("/login")

"""API errors as types: a view raises one, and one handler writes the JSON answer.

As in tipg, each kind of failure is a class that knows its HTTP status, so views say what went
wrong (`raise NotFound(...)`) instead of building responses, and every refusal has the same
shape: {"error": "中文 / English", ...details}. Details (which fields, which layers) are the
caller's keyword arguments; no message ever repeats what the client sent.
"""

from __future__ import annotations

from flask import Flask, jsonify

INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE of a refusal: row-level security's WITH CHECK


class ApiError(Exception):
    """An answer other than success: its HTTP status, the message in Chinese and English, and
    any details for the JSON body. `ApiError(status, zh, en)` for a one-off; the subclasses
    below carry their status and a default message."""

    status: int = 500
    zh: str = "服务器内部错误"
    en: str = "internal error"

    def __init__(self, status: int | None = None, zh: str | None = None, en: str | None = None,
                 **details) -> None:
        self.status = status if status is not None else type(self).status
        self.zh = zh if zh is not None else type(self).zh
        self.en = en if en is not None else type(self).en
        self.details = details
        self.headers: dict[str, str] = {}
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"

    def body(self) -> dict:
        """The JSON answer: the message under "error", then the details."""
        return {"error": self.message, **self.details}


class _KnownStatus(ApiError):
    """A subclass whose status is its class's: only the message and details vary."""

    def __init__(self, zh: str | None = None, en: str | None = None, **details) -> None:
        super().__init__(None, zh, en, **details)


class InvalidRequest(_KnownStatus):
    status, zh, en = 400, "请求内容有误", "invalid request"


class NotSignedIn(_KnownStatus):
    status, zh, en = 401, "未登录", "not signed in"


class NeedsCredentials(NotSignedIn):
    """401 for a desktop GIS client (QGIS, GDAL): it asks its user for a name and token when the
    answer says how (WWW-Authenticate), where a browser would be sent to the sign-in page."""

    def __init__(self, zh: str | None = None, en: str | None = None, **details) -> None:
        super().__init__(zh, en, **details)
        self.headers = {"WWW-Authenticate": 'Basic realm="OneMap", charset="UTF-8"'}


class NotPermitted(_KnownStatus):
    status, zh, en = 403, "无此权限", "not permitted for your role"


class NotFound(_KnownStatus):
    status, zh, en = 404, "资源不存在", "no such resource"


class Conflict(_KnownStatus):
    status, zh, en = 409, "当前状态下不能执行此操作", "not possible in the present state"


class Unprocessable(_KnownStatus):
    status, zh, en = 422, "无法处理该请求", "the request cannot be carried out"


class Locked(_KnownStatus):
    status, zh, en = 423, "已锁定", "locked"


def insufficient_privilege(error: BaseException) -> bool:
    """Whether the database refused the statement for want of privilege (SQLSTATE 42501): a row
    outside the session's scope meeting row-level security. Told by its code, never its text,
    which changes with the server's language and version."""
    return getattr(getattr(error, "orig", error), "sqlstate", None) == INSUFFICIENT_PRIVILEGE


def init_errors(server: Flask) -> None:
    """Answer every ApiError raised by a view, a before_request hook or a callback as JSON."""

    @server.errorhandler(ApiError)
    def answer(error: ApiError):
        return jsonify(error.body()), error.status, error.headers

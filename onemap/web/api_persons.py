"""Person look-up over HTTP: masked by default, unmasked one at a time with a purpose.

Every look-up, search and unmask is written to the audit log in the same transaction that
reads the data, so nothing is shown that was not recorded.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from geodata import users
from geodata.queries import people
from geodata.scope import scoped
from onemap.access.masking import mask_record
from onemap.access.roles import Capability
from onemap.settings import get_settings

from .auth import current_scope, limiter

api = Blueprint("persons", __name__, url_prefix="/api/persons")
MIN_PURPOSE = 4


def _user_key() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else "anonymous"


def _require(capability: Capability) -> None:
    if not current_user.can(capability):
        abort(403)


def _audit(conn, action: str, object_id: str | None, **extra) -> None:
    users.audit(conn, action=action, user=current_user.user, object_kind="person",
                object_id=object_id, ip=request.remote_addr,
                user_agent=request.headers.get("User-Agent"), **extra)


def _masked(record: dict) -> dict:
    out = mask_record({k: v for k, v in record.items() if k not in ("homes", "tags")})
    out["homes"] = record.get("homes", [])
    out["tags"] = record.get("tags", [])
    return out


@api.get("/<int:person_id>")
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=_user_key)
def look_up(person_id: int):
    """One person, masked; 404 alike for missing and out-of-scope people."""
    _require(Capability.LOOKUP_PERSON)
    with scoped(current_scope()) as conn:
        record = people.person(conn, person_id)
        # a miss is recorded too: guessing ids outside one's scope should leave a trace
        _audit(conn, "person_lookup", str(person_id), details={"found": record is not None})
    if record is None:
        abort(404)
    return jsonify(_masked(record))


@api.post("/search")
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=_user_key)
def search():
    """People by ID or name (start of), masked; the query travels in the body, not the URL."""
    _require(Capability.LOOKUP_PERSON)
    query = str((request.get_json(silent=True) or {}).get("q", "")).strip()
    if len(query) < 1 or len(query) > 64:
        return jsonify(error="q: 1 to 64 characters / 查询内容 1 至 64 个字符"), 400
    with scoped(current_scope()) as conn:
        found = people.search(conn, query)
        _audit(conn, "person_search", None, details={"query": query, "results": len(found)})
    return jsonify([mask_record(r) for r in found])


@api.post("/<int:person_id>/unmask")
@limiter.limit(lambda: get_settings().lookup_rate_limit, key_func=_user_key)
def unmask(person_id: int):
    """One person in full, for a stated purpose that the audit log keeps."""
    _require(Capability.UNMASK_PERSON)
    purpose = str((request.get_json(silent=True) or {}).get("purpose", "")).strip()
    if len(purpose) < MIN_PURPOSE:
        return jsonify(error="purpose: say why (at least 4 characters) / 请填写查看原因"), 400
    with scoped(current_scope()) as conn:
        record = people.person(conn, person_id)
        _audit(conn, "unmask", str(person_id), purpose=purpose[:500],
               details={"found": record is not None})
    if record is None:
        abort(404)
    return jsonify(record)


@api.errorhandler(403)
def _forbidden(_error):
    return jsonify(error="not permitted for your role / 无此权限"), 403


@api.errorhandler(404)
def _missing(_error):
    return jsonify(error="no such person in your scope / 范围内无此人"), 404

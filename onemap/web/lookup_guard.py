"""What guards every look-up of people and homes, on every path (the person, search and
housing APIs, and the look-up page): the user's look-up lock, and the count of look-ups that
found nobody that sets it. Guessing ids or names outside one's scope is what enumeration looks
like: past `ONEMAP_LOOKUP_MISS_LIMIT` misses the user's look-ups are locked until an
administrator unlocks them.
"""

from __future__ import annotations

import json

from flask_login import current_user
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import text

from geodata.rate_limits import PostgresStorage
from onemap.settings import get_settings

from .errors import Locked, NotFound

_misses = FixedWindowRateLimiter(PostgresStorage())


class NoSuchPerson(NotFound):
    """The same answer for a person who does not exist and one outside the user's scope."""

    zh, en = "范围内无此人", "no such person in your scope"


class LookupsLocked(Locked):
    """This user found nobody too often; an administrator lifts the lock."""

    zh = "查询未命中次数过多，人员查询已锁定，请联系管理员解锁"
    en = ("person look-ups are locked for your account after too many searches that found"
          " nobody; an administrator can unlock them")


def user_key() -> str:
    """The rate limits' key: the signed-in user, not the address (a centre shares one)."""
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else "anonymous"


def unless_locked() -> None:
    """After the role's right (@requires): the user's own look-up lock."""
    if current_user.user.lookup_locked:
        raise LookupsLocked()


def count_miss(conn, what: str) -> None:
    """One more look-up that found nobody; past the limit, lock this user's look-ups."""
    limit = parse(get_settings().lookup_miss_limit)
    if not _misses.hit(limit, "lookup-miss", str(current_user.user.id)):
        conn.execute(text("SELECT onemap.lock_lookups(CAST(:reason AS jsonb))"),
                     {"reason": json.dumps({"after": what, "limit": str(limit)})})

"""Who the simulator acts as, set up once in the database the way `onemap token add` does.

Users with an API token each (kept in a file of their own, mode 0600, and reused by the next
run while they are live; a token that no longer works is revoked and replaced):

  sim-intake   duty_officer, the district: reports from the hotlines, apps, cameras, inspectors
  sim-duty     duty_officer, the district: registers, rejects, merges, dispatches, verifies,
               returns and closes
  sim-desk     duty_officer, the district: accepts and reports back for the staff who have no
               simulated phone (department staff, the workers of other grids)
  sim-iot      duty_officer, the district: the IoT platform sending sensor readings
  sim-worker-<staff code>  grid_worker, their grid: one per simulated grid worker

Each simulated worker's user is linked to a staff row (onemap.staff.user_id) so that
PUT /api/staff/me/... moves that row: the only other write the simulator makes in the
database. Every user, token and link is an audit row in the name of the operating-system
account, as the CLI writes them. Rows already linked to a sim-worker user are reused first.

What the API does not list is read here too, read-only: the district's code, the staff rows
to link, and a sample of sensors (codes and thresholds: the map's sensor layer carries
neither).
"""

from __future__ import annotations

import getpass
import json
import os
import random
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from geodata import sessions, users
from onemap.cli.tokens import NO_PASSWORD
from onemap.domain.roles import ROLE_CAPABILITIES

from .readings import Sensor

TOKEN_DAYS = 365
OFFICE = {  # name -> what it does (its role is duty_officer, its scope the district)
    "sim-intake": "模拟受理 reports from every channel",
    "sim-duty": "模拟值班员 the duty officer",
    "sim-desk": "模拟处置单位 staff without a simulated phone",
    "sim-iot": "模拟物联平台 the IoT platform",
}
WORKER_PREFIX = "sim-worker-"


class CastError(RuntimeError):
    """The simulator cannot be set up; the message says why."""


@dataclass(frozen=True)
class Member:
    """One of the simulator's users and its token."""

    name: str
    role: str
    scope: str
    token: str
    user_id: int


@dataclass(frozen=True)
class Worker(Member):
    """A simulated grid worker: its user, and the staff row it moves."""

    staff_id: int = 0
    staff_code: str = ""
    grid_code: str = ""


@dataclass
class Cast:
    district: str
    offices: dict[str, Member]
    workers: list[Worker] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)


_STAFF = """
SELECT s.id, s.code, s.grid_code, u.username
  FROM onemap.staff s LEFT JOIN onemap.app_user u ON u.id = s.user_id
 WHERE s.tier IN ('grid_worker', 'part_time') AND s.grid_code IS NOT NULL
   AND EXISTS (SELECT 1 FROM onemap.building b WHERE b.grid_code = s.grid_code)
   AND (u.username LIKE :prefix
        OR (s.user_id IS NULL AND NOT EXISTS (
              SELECT 1 FROM onemap.event e
               WHERE e.assigned_staff_id = s.id AND e.state IN ('dispatched', 'handling'))))
 ORDER BY s.id
"""

_SENSORS = """
SELECT code, kind, low_threshold, high_threshold, ST_X(geom) AS lon, ST_Y(geom) AS lat
  FROM onemap.sensor WHERE status <> 'offline' ORDER BY id
"""

_LINK = """
UPDATE onemap.staff SET user_id = :user_id
 WHERE id = :staff_id AND (user_id IS NULL OR user_id = :user_id)
"""


def _read_tokens(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())["tokens"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_tokens(path: Path, tokens: dict[str, str]) -> None:
    """Readable by this account only, replaced whole (never half written)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = path.with_suffix(".tmp")
    descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as f:
        json.dump({"tokens": tokens}, f, indent=1)
    os.chmod(fresh, 0o600)
    os.replace(fresh, path)


def _audit(conn, action: str, object_kind: str, object_id: str, **details) -> None:
    users.audit(conn, action=action, username=f"cli:{getpass.getuser()}",
                object_kind=object_kind, object_id=object_id,
                details={**details, "by": "onemap simulate"})


def _member(conn, name: str, role: str, scope: str, known: dict[str, str]) -> Member:
    """The user `name` with a live token: made when missing, its token reused when it still
    works, else replaced."""
    found = users.credentials(conn, name)
    if found is None:
        users.add(conn, username=name, display_name=name, password_hash=NO_PASSWORD,
                  role=role, scope_code=scope)
        _audit(conn, "user_add", "user", name, role=role, scope=scope)
        user = users.by_username(conn, name)
    else:
        user, password_hash = found
        if password_hash != NO_PASSWORD:
            raise CastError(f"a user named {name!r} exists and is a person, not the simulator's")
        if (user.role, user.scope_code) != (role, scope) or not user.active:
            raise CastError(f"the user {name!r} is a {user.role} of {user.scope_code}"
                            f"{'' if user.active else ', disabled'}; the simulator needs a"
                            f" {role} of {scope} (`onemap user set` or a fresh database)")
    token = known.get(name)
    live = sessions.load_token(conn, token) if token else None
    if live is None or live.id != user.id:
        sessions.end_tokens(conn, user.id, "replaced by onemap simulate")
        token = sessions.open_token(conn, user, capabilities=ROLE_CAPABILITIES[role],
                                    lifetime=timedelta(days=TOKEN_DAYS))
        _audit(conn, "token_add", "user", name, role=role, scope=scope, days=TOKEN_DAYS)
    return Member(name, role, scope, token, user.id)


def _choose_staff(conn, seed: int, count: int) -> list[dict]:
    """`count` staff rows of different grids with buildings to patrol: those linked before
    first, then free ones (no user, nothing in hand), drawn with the seed."""
    rows = [dict(r) for r in conn.execute(text(_STAFF),
                                          {"prefix": WORKER_PREFIX + "%"}).mappings()]
    linked = [r for r in rows if r["username"]]
    free = [r for r in rows if not r["username"]]
    random.Random(f"{seed}:staff").shuffle(free)
    chosen, grids = [], set()
    for row in linked + free:
        if len(chosen) == count:
            break
        if row["grid_code"] not in grids:
            grids.add(row["grid_code"])
            chosen.append(row)
    # in one order whatever the run: which worker makes a report is a draw over this list
    return sorted(chosen, key=lambda row: row["id"])


def _sensors(conn, seed: int, count: int) -> list[Sensor]:
    rows = [Sensor(r.code, r.kind, r.low_threshold, r.high_threshold, r.lon, r.lat)
            for r in conn.execute(text(_SENSORS))]
    if len(rows) > count:
        rows = sorted(random.Random(f"{seed}:sensors").sample(rows, count),
                      key=lambda s: s.code)
    return rows


def assemble(engine: Engine, *, token_file: Path, seed: int, workers: int,
             sensors: int) -> Cast:
    """Set up (or find again) the simulator's users, tokens and staff links in one
    transaction, and write the tokens to `token_file` (0600)."""
    known = _read_tokens(token_file)
    with engine.begin() as conn:
        district = conn.execute(text("SELECT code FROM onemap.district ORDER BY code")).scalar()
        if district is None:
            raise CastError("no district in the database: load one first (onemap demo)")
        cast = Cast(district, {name: _member(conn, name, "duty_officer", district, known)
                               for name in OFFICE})
        for row in _choose_staff(conn, seed, workers):
            name = WORKER_PREFIX + row["code"]
            member = _member(conn, name, "grid_worker", row["grid_code"], known)
            if row["username"] is None:
                conn.execute(text(_LINK), {"user_id": member.user_id, "staff_id": row["id"]})
                _audit(conn, "staff_link", "staff", row["code"], user=name)
            cast.workers.append(Worker(**vars(member), staff_id=row["id"],
                                       staff_code=row["code"], grid_code=row["grid_code"]))
        cast.sensors = _sensors(conn, seed, sensors)
    _write_tokens(token_file, {m.name: m.token for m in [*cast.offices.values(), *cast.workers]})
    return cast

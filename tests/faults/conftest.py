"""Faults as tests: a cluster of the faults' own (never the session's: these tests stop it,
kill what talks to it and fill its disks), `onemap` commands on it, a token client that posts
reports as a 12345 hotline does (bench/intake.py), and the processes of a served OneMap.

Every test here is bounded: it waits on conditions with deadlines, never on the clock alone,
and asserts on what the database holds afterwards.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import text

from geodata.db import make_engine
from geodata.migrate import upgrade
from tests.conftest import new_cluster, onemap_command
from tests.fixtures.hierarchy import DISTRICT, EAST, NORTH, SOUTH, WEST, insert_hierarchy

# what a client sees when the server drops its connection (a worker killed mid-request)
DROPPED = (ConnectionError, HTTPException, TimeoutError, OSError)


def wait_for(condition, timeout: float, what: str, every: float = 0.05):
    """Poll `condition` until it returns something true; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def fault_env(cluster) -> dict[str, str]:
    """The environment of `onemap` commands (and servers) on `cluster`, embedded mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEMAP_", "GUNICORN_"))}
    env.update(ONEMAP_PG_DIR=str(cluster.root), ONEMAP_PG_PORT=str(cluster.port),
               ONEMAP_DB_NAME=cluster.db_name, ONEMAP_PG_FSYNC="false",
               ONEMAP_PG_SHARED_BUFFERS="128MB", ONEMAP_LOGIN_RATE_LIMIT="1000 per minute",
               ONEMAP_LOOKUP_RATE_LIMIT="1000 per minute")
    return env


class Site:
    """A migrated cluster holding the test hierarchy, its owner's engine and the environment
    of `onemap` commands on it."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        self.env = fault_env(cluster)
        self.owner = make_engine(cluster.sqlalchemy_url())

    def onemap(self, *args: str, timeout: float = 300, env: dict | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
        """`onemap ARGS` as an operator runs it on this cluster."""
        done = subprocess.run([onemap_command(), *map(str, args)], env=env or self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check:
            assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done

    def db(self, command: str) -> None:
        """`onemap db start|stop`."""
        self.onemap("db", command, timeout=120)

    def token(self, name: str, role: str = "duty_officer") -> tuple[int, str]:
        """A system's API token (`onemap token add`): (its user's id, the token)."""
        done = self.onemap("token", "add", name, "--role", role, "--scope", DISTRICT)
        token = done.stdout.strip().splitlines()[-1]
        with self.owner.connect() as conn:
            user_id = conn.execute(text("SELECT id FROM onemap.app_user WHERE username = :n"),
                                   {"n": name}).scalar_one()
        return user_id, token

    def scalar(self, sql: str, **params):
        with self.owner.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def cases(self, user_id: int) -> dict[str, list[int]]:
        """Idempotency key -> the ids of the cases filed under it by `user_id`'s token."""
        with self.owner.connect() as conn:
            rows = conn.execute(text(
                "SELECT external_ref, array_agg(id ORDER BY id) FROM onemap.event"
                " WHERE reported_by_user_id = :u GROUP BY external_ref"), {"u": user_id}).all()
        return {key: list(ids) for key, ids in rows}

    def trail(self, user_id: int) -> dict[int, tuple[int, int]]:
        """Case id -> (its 'report' history rows, its event_report audit rows)."""
        with self.owner.connect() as conn:
            rows = conn.execute(text(
                "SELECT e.id,"
                " (SELECT count(*) FROM onemap.event_history h"
                "   WHERE h.event_id = e.id AND h.action = 'report'),"
                " (SELECT count(*) FROM onemap.audit_log a WHERE a.action = 'event_report'"
                "   AND a.object_kind = 'event' AND a.object_id = e.id::text)"
                " FROM onemap.event e WHERE e.reported_by_user_id = :u"), {"u": user_id}).all()
        return {case: (history, audit) for case, history, audit in rows}


@pytest.fixture(scope="package")
def site():
    """The faults' own cluster: migrated, the test hierarchy loaded; deleted at the end."""
    cluster = new_cluster("onemap-faults-pg-", db_name="onemap_faults")
    cluster.start()
    try:
        upgrade(cluster.sqlalchemy_url())
        made = Site(cluster)
        with made.owner.begin() as conn:
            conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
            insert_hierarchy(conn)
        yield made
        made.owner.dispose()
    finally:
        cluster.destroy()


def reports(site: Site, count: int, seed: int) -> list[dict]:
    """`count` hotline reports at points inside the district, of leaf categories."""
    with site.owner.connect() as conn:
        categories = conn.execute(text(
            "SELECT code FROM onemap.event_category c WHERE NOT EXISTS (SELECT 1 FROM"
            " onemap.event_category k WHERE k.parent_code = c.code)")).scalars().all()
    rng = random.Random(seed)
    return [{"title": f"故障测试 {i}", "category_code": rng.choice(categories),
             "lon": round(rng.uniform(WEST + 0.001, EAST - 0.001), 6),
             "lat": round(rng.uniform(SOUTH + 0.001, NORTH - 0.001), 6),
             "channel": "hotline_12345", "address": "故障测试地址"} for i in range(count)]


def buildings_csv(path: Path, prefix: str, columns: int, rows: int) -> Path:
    """A buildings file (`onemap import buildings … --crs wgs84`): a lattice of columns × rows
    25 m × 20 m footprints over the test district, 0.0005° × 0.0004° apart, none across a
    grid's edge (grids are 0.02° wide and tall: a footprint starts 0.0001° past a multiple of
    the step)."""
    made = []
    for i in range(columns):
        for j in range(rows):
            x, y = WEST + 0.0001 + i * 0.0005, SOUTH + 0.0001 + j * 0.0004
            made.append({"楼栋编码": f"{prefix}-{i:03d}-{j:03d}", "楼栋名称": f"{j + 1} 栋",
                         "地址": f"故障路 {i + 1} 号 {j + 1} 栋", "用途": "住宅",
                         "地上层数": 6, "单元数": 2,
                         "几何": box(x, y, x + 0.0003, y + 0.0002).wkt})
    pd.DataFrame(made).to_csv(path, index=False, encoding="utf-8-sig")
    return path


class Poster:
    """A token client: one keep-alive connection per thread, a fresh one after a drop."""

    def __init__(self, base: str, token: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.token = token
        self.local = threading.local()

    def post(self, key: str, body: dict) -> tuple[int, dict, dict]:
        """(status, headers, JSON body) of POST /api/events; a dropped connection raises."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = HTTPConnection(self.host, self.port,
                                                                timeout=60)
        try:
            connection.request("POST", "/api/events",
                               body=json.dumps(body, ensure_ascii=False).encode(),
                               headers={"Authorization": f"Bearer {self.token}",
                                        "Content-Type": "application/json",
                                        "Idempotency-Key": key})
            reply = connection.getresponse()
            payload = reply.read()
        except BaseException:
            connection.close()
            self.local.connection = None
            raise
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = {"raw": payload[:300].decode("utf-8", "replace")}
        return reply.status, dict(reply.getheaders()), answer


# -- small disks ------------------------------------------------------------------------------

def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise OSError(f"mount {' '.join(args)}: {done.stderr.strip()}")


@contextmanager
def small_disk(size: str = "8m"):
    """A tmpfs of `size` of its own, mounted on a new folder under /tmp; unmounted after.
    Skips the test where that cannot be done (not root, no mount, no permission)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("mount/umount not installed")
    folder = Path(tempfile.mkdtemp(prefix="onemap-fault-disk-", dir="/tmp"))
    try:
        mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder))
    except OSError as exc:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True, timeout=60)
        if os.path.ismount(folder):  # still busy: detach it, freed when let go
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=60)
        if not os.path.ismount(folder):
            folder.rmdir()


def fill(folder: Path, leave: int) -> Path:
    """A file taking all of `folder`'s disk but `leave` bytes."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        block = b"\0" * (1 << 20)
        try:
            while True:
                handle.write(block)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


# -- the processes of a served OneMap --------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (zombies left out)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[1] == str(pid) and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def gunicorn_master(base: str) -> int:
    """The gunicorn master serving `base`: `onemap serve` started by this process becomes it
    (it execs gunicorn), bound to the port."""
    port = urlsplit(base).port

    def master():
        for pid in children(os.getpid()):
            try:
                line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "gunicorn" in line and f":{port} " in line:
                return pid
        return None

    return wait_for(master, 30, f"the gunicorn master on port {port}")


def connections_of(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds (its clients)."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return 0
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count

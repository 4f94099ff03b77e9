"""A served OneMap with one worker or four, and clients that know which worker answered them.

Which worker answered is read from gunicorn's access log, which OneMap writes with the
answering worker's pid (`<pid>`, onemap/cli/serve.py) when an access log is turned on: nothing
is added to the app's answers. Each request goes on a new TCP connection (no keep-alive), so
the listening socket hands it to whichever worker accepts first; requests are sent one at a
time and each waits for its own access-log line (method, path, status and client address must
match), so the n-th new line is the n-th request. The workers themselves are the gunicorn
master's children, read from /proc: a check that says "every worker" asks until each of them
has answered at least once.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.clients import Client, Reply
from tests.support.logs import assert_clean_log
from tests.support.serving import serving

# the limits the served app counts with (per hour: a window cannot run out within a test)
LOGIN_LIMIT = 12
LOOKUP_LIMIT = 12
# onemap/cli/serve.py's ACCESS_LOG_FORMAT: address, time, "method path protocol", status,
# bytes, milliseconds, <pid>
ACCESS_LINE = re.compile(r'^(?P<address>\S+) \[[^\]]*\] "(?P<method>[A-Z]+) (?P<path>\S+) '
                         r'HTTP/1\.[01]" (?P<status>\d{3}) \S+ \d+ms <(?P<pid>\d+)>$')
# requests a check may send to reach every worker before it gives up
TRIES_PER_WORKER = 40
_addresses = itertools.count()


class AccessLog:
    """The served app's access log, read line by line as requests are answered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def next_line(self, timeout: float = 15) -> re.Match:
        """The next access-log line (gunicorn writes it just after the answer is sent)."""
        deadline = time.monotonic() + timeout
        while True:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                line = log.readline()
            if line.endswith(b"\n"):
                self.offset += len(line)
                text = line.decode("utf-8", "replace").rstrip("\n")
                found = ACCESS_LINE.match(text)
                assert found, f"not an access-log line: {text!r}"
                return found
            assert time.monotonic() < deadline, f"no access-log line in {timeout} s"
            time.sleep(0.005)

    def settle(self, quiet: float = 0.5) -> None:
        """Skip what is logged until the log has been quiet for `quiet` seconds."""
        size = -1
        while size != self.path.stat().st_size:
            size = self.path.stat().st_size
            time.sleep(quiet)
        self.offset = size


def gunicorn_workers(any_worker: int) -> set[int]:
    """The pids of every worker of the gunicorn master that `any_worker` belongs to."""
    master = _parent(any_worker)
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _parent(int(entry.name)) == master:
                    children.add(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue  # ended meanwhile
    return children


def _parent(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise ProcessLookupError(pid)


@dataclass
class Site:
    """A served OneMap with `workers` gunicorn workers, and its access log."""

    base: str
    workers: int
    log: AccessLog
    pids: set[int] = field(default_factory=set)  # its workers' pids, once all have answered

    def address(self) -> str:
        """A loopback address no other client of the session uses (the sign-in limit counts
        per address, in the database, for the whole session)."""
        n = next(_addresses)
        return f"127.{40 + self.workers}.{n // 250}.{n % 250 + 1}"

    def client(self, agent: str | None = None, *, ip: str | None = None) -> WorkerClient:
        """A client that opens a new connection for every request, from an address of its
        own unless given one."""
        return WorkerClient(self, agent, ip=ip or self.address())

    def every_worker(self, ask: Callable[[], Reply]) -> dict[int, list[Reply]]:
        """Ask (one request a time, each on a new connection) until every worker has
        answered at least once: worker pid -> its answers. Fails if some worker never does,
        or if a pid that is not one of the workers answers."""
        answers: dict[int, list[Reply]] = {}
        for _ in range(TRIES_PER_WORKER * self.workers):
            reply = ask()
            answers.setdefault(reply.pid, []).append(reply)
            if len(answers) == self.workers:
                break
        assert set(answers) == self.pids, (
            f"{len(answers)} of {self.workers} workers answered in"
            f" {sum(map(len, answers.values()))} requests: {sorted(answers)} vs {self.pids}")
        return answers


class WorkerClient(Client):
    """A client of a `Site` whose every reply says which worker sent it (`reply.pid`)."""

    def __init__(self, site: Site, agent: str | None, *, ip: str) -> None:
        super().__init__(site.base, agent, ip=ip)
        self.site, self.ip = site, ip
        self.answered_by: list[int] = []  # every request's worker, in order
        self.last: Reply | None = None  # the last reply

    def send(self, method, path, data=None, headers=None) -> Reply:
        reply = super().send(method, path, data, headers)
        line = self.site.log.next_line()
        assert (line["method"], line["path"], int(line["status"]), line["address"]) == (
            method, path.split("?", 1)[0], reply.status, self.ip), line.group(0)
        reply.pid = int(line["pid"])
        self.answered_by.append(reply.pid)
        self.last = reply
        return reply


@pytest.fixture(scope="module", params=[1, 4], ids=lambda n: f"{n}-worker{'s' * (n > 1)}")
def site(request, cli_env, db_url, demo_users, tmp_path_factory):
    """OneMap served by `onemap serve` with ONEMAP_WORKERS=1 or 4 on the session database,
    its access log on; yielded once every worker has answered a health check."""
    workers = request.param
    access = tmp_path_factory.mktemp(f"access-{workers}") / "access.log"
    access.touch()
    env = dict(cli_env, ONEMAP_WORKERS=str(workers),
               GUNICORN_CMD_ARGS=f"--access-logfile {access}",
               ONEMAP_LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per hour",
               ONEMAP_LOOKUP_RATE_LIMIT=f"{LOOKUP_LIMIT} per hour",
               ONEMAP_LOOKUP_MISS_LIMIT="1000 per day")
    with serving(env, log_prefix=f"onemap-test-scale-{workers}", ready_within=120) as base:
        site = Site(base, workers, AccessLog(access))
        site.log.settle()  # the health checks serving() made while the workers booted
        # every worker up (serving() returns when the first is): health checks until each
        # has answered one, however long the others take to import the app
        probe = site.client(ip="127.0.0.1")
        seen: set[int] = set()
        deadline = time.monotonic() + 120
        while len(seen) < workers and time.monotonic() < deadline:
            seen.add(probe.get("/healthz").pid)
            time.sleep(0.02)
        assert len(seen) == workers, f"only {len(seen)} of {workers} workers answered"
        site.pids = gunicorn_workers(next(iter(seen)))
        assert site.pids == seen, (site.pids, seen)  # the master has no other children
        yield site
    assert_clean_log(access)

"""`make bench`: every benchmark in bench/ on one district-scale dataset, in one run.

The dataset lives in a cluster of its own (var/bench/pg, port 54339), never the dev cluster
var/pg: the district-scale demo is built there once, as the database `onemap_bench_base`, and
kept. Each run copies it to `onemap_bench` (CREATE DATABASE … TEMPLATE, a file copy), so every
run starts from the same rows however much the previous one wrote (intake posts thousands of
cases). The base is migrated to head first; `--rebuild` builds it again (after a change to the
demo generator).

Each benchmark then runs as its own process, one after another, pointed at that database by
the environment (ONEMAP_PG_DIR, ONEMAP_PG_PORT, ONEMAP_DB_NAME), and rewrites its own section
of BENCHMARKS.md. This script writes the section at the top: the machine, the commit, the
data, and per block the command, its seconds and the load average before and after. A block
that fails is named there and makes the run fail, after the others ran.

    .venv/bin/python bench/all.py                  # what `make bench` runs
    .venv/bin/python bench/all.py --only tiles,load
    .venv/bin/python bench/all.py --list
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results import write_first_section  # noqa: E402  (bench/results.py: run as a script)
from geodata.embedded import EmbeddedPostgres  # noqa: E402

BENCH_DIR = ROOT / "var" / "bench"
PG_DIR = BENCH_DIR / "pg"
PG_PORT = 54339
BASE_DB = "onemap_bench_base"
RUN_DB = "onemap_bench"
LOGS = BENCH_DIR / "logs"
SECTION = "## This run (`make bench`)"
PYTHON = sys.executable
ONEMAP = str(Path(PYTHON).parent / "onemap")


@dataclass(frozen=True)
class Block:
    """One benchmark script and its arguments; `minutes` bounds it (a hung block is killed)."""

    name: str
    args: tuple[str, ...]
    minutes: float

    @property
    def command(self) -> list[str]:
        return [PYTHON, f"bench/{self.args[0]}", *self.args[1:]]


# Order: the database-only blocks first, the served and browser ones after, load last (it
# leaves the most behind in the server's caches and the machine's page cache).
BLOCKS = (
    Block("demo_district", ("demo_district.py", "--scales", "demo,district"), 15),
    Block("lookup_search", ("lookup_search.py",), 6),
    Block("lookup_housing", ("lookup_housing.py",), 4),
    Block("lookup_counts", ("lookup_counts.py",), 6),
    Block("cockpit", ("cockpit.py",), 8),
    Block("escalation", ("escalation.py",), 4),
    Block("partitions", ("partitions.py",), 12),
    Block("screen_data", ("screen_data.py", "--serve"), 10),
    Block("tiles", ("tiles.py", "--serve"), 8),
    Block("wall_screen", ("wall_screen.py", "--serve"), 8),
    Block("wall_tiles_ab", ("wall_screen.py", "--serve", "--tiles-ab", "--rounds", "4"), 10),
    Block("wall_soak", ("wall_soak.py", "--serve", "--minutes", "4"), 7),
    Block("privacy", ("privacy.py", "--serve"), 5),
    Block("desk", ("desk.py", "--serve"), 5),
    Block("exports", ("exports.py", "--serve"), 8),
    Block("intake", ("intake.py", "--serve"), 5),
    Block("load", ("load.py", "--serve"), 12),
)


def bench_env(db_name: str) -> dict[str, str]:
    """This process's environment pointed at the bench cluster's `db_name`. Sign-in is limited
    per address, and every bench signs in from 127.0.0.1: the limit is raised for the run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEMAP_")}
    env.update(ONEMAP_PG_DIR=str(PG_DIR), ONEMAP_PG_PORT=str(PG_PORT), ONEMAP_DB_NAME=db_name,
               ONEMAP_EXPORT_DIR=str(BENCH_DIR / "exports"),
               ONEMAP_LOGIN_RATE_LIMIT="10000 per minute", ONEMAP_SIMULATE="false")
    return env


def cluster(db_name: str) -> EmbeddedPostgres:
    from onemap.settings import Settings

    return EmbeddedPostgres(PG_DIR, port=PG_PORT, bin_dir=Settings().pg_bin, db_name=db_name)


def superuser_sql(statement: str) -> None:
    """One statement as the cluster's superuser in its maintenance database (outside any
    transaction, as CREATE/DROP DATABASE need)."""
    import psycopg

    with psycopg.connect(cluster(BASE_DB).libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(statement)


def base_has_district() -> bool:
    import psycopg

    url = cluster(BASE_DB).libpq_url()
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) >= 100000 FROM onemap.person").fetchone()[0]
    except psycopg.Error:
        return False


def prepare(rebuild: bool) -> str:
    """The base database at head with the district in it (built the first time), copied to the
    run's database; returns what was done, for the report."""
    env = bench_env(BASE_DB)
    PG_DIR.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ONEMAP, "db", "start"], env=env, check=True)
    if rebuild:
        superuser_sql(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
        superuser_sql(f"DROP DATABASE IF EXISTS {BASE_DB} WITH (FORCE)")
        subprocess.run([ONEMAP, "db", "start"], env=env, check=True)  # creates it again
    subprocess.run([ONEMAP, "db", "migrate"], env=env, check=True)
    started = time.monotonic()
    built = not base_has_district()
    if built:
        subprocess.run([ONEMAP, "demo", "--scale", "district", "--seed", "2017"], env=env,
                       check=True)
    build_s = time.monotonic() - started
    started = time.monotonic()
    superuser_sql(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
    superuser_sql(f"CREATE DATABASE {RUN_DB} TEMPLATE {BASE_DB} STRATEGY FILE_COPY")
    copy_s = time.monotonic() - started
    how = (f"built the district-scale demo (seed 2017) in {build_s:.0f} s" if built
           else "the district-scale demo built by an earlier run")
    return f"{how}; copied to `{RUN_DB}` in {copy_s:.0f} s"


def load_average() -> float:
    return os.getloadavg()[0]


@dataclass
class Ran:
    block: Block
    seconds: float
    load_before: float
    load_after: float
    returncode: int


def run_block(block: Block, env: dict[str, str]) -> Ran:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{block.name}.log"
    before, started = load_average(), time.monotonic()
    print(f"== {block.name}: {' '.join(block.args)} (log {log.relative_to(ROOT)})", flush=True)
    with log.open("w") as out:
        try:
            code = subprocess.run(block.command, cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=block.minutes * 60).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\nmake bench: killed after {block.minutes} minutes\n")
            code = -9
    ran = Ran(block, time.monotonic() - started, before, load_average(), code)
    print(f"   {'ok' if code == 0 else f'FAILED ({code})'} in {ran.seconds:.0f} s", flush=True)
    return ran


def data_counts() -> str:
    import psycopg

    with psycopg.connect(cluster(RUN_DB).libpq_url()) as conn:
        people, rooms, buildings, events, history = conn.execute(
            "SELECT (SELECT count(*) FROM onemap.person), (SELECT count(*) FROM onemap.household),"
            " (SELECT count(*) FROM onemap.building), (SELECT count(*) FROM onemap.event),"
            " (SELECT count(*) FROM onemap.event_history)").fetchone()
    return (f"{people:,} people, {rooms:,} rooms, {buildings:,} buildings, {events:,} events, "
            f"{history:,} history rows")


def machine() -> str:
    model, mem_kb = platform.machine(), 0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    postgres = subprocess.run([str(cluster(RUN_DB).bin_dir / "postgres"), "--version"],
                              capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({model}), {mem_kb / 1024 ** 2:.0f} GB RAM, "
            f"Python {platform.python_version()}, {postgres}")


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return (done.stdout.strip() or "unknown") + (" with uncommitted changes" if dirty else "")


def report(runs: list[Ran], prepared: str, started: datetime, total_s: float) -> str:
    lines = [
        SECTION, "",
        f"{started:%Y-%m-%d %H:%M} (Asia/Shanghai), commit {commit()}, {machine()}. "
        f"Data: {data_counts()} ({prepared}). Every benchmark below ran in this one run, one "
        f"after another on the same machine, client and server sharing its cores; the load "
        f"average (1 minute) before and after each block shows what else it had to share. "
        f"Total {total_s / 60:.1f} minutes.", "",
        "| block | command | seconds | load before | load after | result |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for ran in runs:
        result = "ok" if ran.returncode == 0 else (
            "killed (time limit)" if ran.returncode == -9 else f"failed ({ran.returncode})")
        lines.append(f"| {ran.block.name} | `python bench/{' '.join(ran.block.args)}` | "
                     f"{ran.seconds:.0f} | {ran.load_before:.2f} | {ran.load_after:.2f} | "
                     f"{result} |")
    lines += ["", "The sections below are each written by the block named in their title's "
              "script; a figure with a peer is measured beside it in the same block.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated block names")
    parser.add_argument("--rebuild", action="store_true", help="build the dataset again")
    parser.add_argument("--list", action="store_true", help="list the blocks and stop")
    args = parser.parse_args()
    if args.list:
        for block in BLOCKS:
            print(f"{block.name:16} python bench/{' '.join(block.args)}")
        return
    chosen = [b for b in BLOCKS if not args.only or b.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {b.name for b in BLOCKS}
    if unknown:
        sys.exit(f"no such block: {', '.join(sorted(unknown))} (see --list)")
    started_at = datetime.now(ZoneInfo("Asia/Shanghai"))
    started = time.monotonic()
    prepared = prepare(args.rebuild)
    env = bench_env(RUN_DB)
    runs = [run_block(block, env) for block in chosen]
    write_first_section(SECTION, report(runs, prepared, started_at, time.monotonic() - started))
    failed = [r.block.name for r in runs if r.returncode != 0]
    if failed:
        sys.exit(f"make bench: {', '.join(failed)} failed; see {LOGS.relative_to(ROOT)}/")
    print(f"make bench: {len(runs)} blocks in {(time.monotonic() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()

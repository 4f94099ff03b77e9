"""Benchmark: build and load the demo district at both scales; write the numbers to BENCHMARKS.md.

Runs the real `onemap demo` code path (generation, one-transaction COPY load, ANALYZE and the
hierarchy check) against a throwaway embedded cluster, so your own data is never touched.

    .venv/bin/python bench/demo_district.py [--scales demo,district] [--seed 2017]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from etl.demo.boundary import read_boundary
from etl.demo.district import build_district
from etl.demo.load import load
from etl.demo.scales import SCALES
from geodata.db import make_engine
from geodata.embedded import EmbeddedPostgres
from geodata.integrity import check_hierarchy
from geodata.migrate import reset
from onemap.settings import Settings
from results import publish  # bench/results.py (run as a script)

SECTION = "## Demo district (`onemap demo`)"


def run(scale_name: str, seed: int, cluster: EmbeddedPostgres) -> dict:
    """Time each phase of one build; returns timings and row counts."""
    url = cluster.sqlalchemy_url()
    reset(url)
    engine = make_engine(url)
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[f"generate: {name}"] = now - mark
        mark = now

    started = time.perf_counter()
    outline = read_boundary().geometry
    previous = [None]

    def progress(what: str) -> None:
        if previous[0] is not None:
            step(previous[0])
        previous[0] = what

    district = build_district(outline, code="210103", name="沈河区", scale=SCALES[scale_name],
                              seed=seed, now=datetime.now(ZoneInfo("Asia/Shanghai")),
                              progress=progress)
    step(previous[0])
    generated = time.perf_counter() - started

    table_started: dict[str, float] = {}
    table_time: dict[str, float] = {}

    def loaded(table: str, done: int, total: int) -> None:
        table_started.setdefault(table, time.perf_counter())
        table_time[table] = time.perf_counter() - table_started[table]

    t = time.perf_counter()
    with engine.begin() as conn:
        written = load(conn, district, loaded)
    load_seconds = time.perf_counter() - t
    t = time.perf_counter()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    analyze_seconds = time.perf_counter() - t
    t = time.perf_counter()
    with engine.connect() as conn:
        problems = check_hierarchy(conn)
    check_seconds = time.perf_counter() - t
    engine.dispose()
    return {
        "scale": scale_name, "generate": generated, "load": load_seconds,
        "analyze": analyze_seconds, "check": check_seconds, "problems": len(problems),
        "total": time.perf_counter() - started, "steps": steps, "rows": written,
        "table_time": table_time,
    }


def markdown(results: list[dict], seed: int) -> str:
    """The BENCHMARKS.md section for these runs."""
    when = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    lines = [SECTION, "",
             f"Measured {when} (Asia/Shanghai) on {platform.machine()}, "
             f"{_cpus()} cores, Python {platform.python_version()}, embedded PostgreSQL 15 + "
             f"PostGIS, seed {seed}. `bench/demo_district.py` rewrites this section.", "",
             "| scale | generate (s) | load, one transaction (s) | ANALYZE (s) | hierarchy check (s) | total (s) | problems |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r['scale']} | {r['generate']:.1f} | {r['load']:.1f} | {r['analyze']:.1f} | "
                     f"{r['check']:.1f} | {r['total']:.1f} | {r['problems']} |")
    lines += ["", "Rows written, and the slowest tables to load:", "",
              "| table | " + " | ".join(r["scale"] for r in results) + " |",
              "| --- |" + " ---: |" * len(results)]
    for table in results[0]["rows"]:
        cells = []
        for r in results:
            seconds = r["table_time"].get(table, 0.0)
            cells.append(f"{r['rows'].get(table, 0):,}" + (f" ({seconds:.1f} s)" if seconds >= 0.5 else ""))
        lines.append(f"| {table} | " + " | ".join(cells) + " |")
    lines += ["", "Generation steps (s):", "", "| step | " + " | ".join(r["scale"] for r in results) + " |",
              "| --- |" + " ---: |" * len(results)]
    for name in results[0]["steps"]:
        lines.append(f"| {name.removeprefix('generate: ')} | "
                     + " | ".join(f"{r['steps'].get(name, 0):.1f}" for r in results) + " |")
    return "\n".join(lines) + "\n"


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def main() -> None:
    """Run the scales asked for and record them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="demo,district")
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="onemap-bench-", dir="/tmp"))
    root.chmod(0o755)
    cluster = EmbeddedPostgres(root, port=54331, bin_dir=Settings().pg_bin, db_name="bench",
                               shared_buffers="2GB")
    cluster.start()
    try:
        results = []
        for name in args.scales.split(","):
            result = run(name, args.seed, cluster)
            print(f"{name}: generate {result['generate']:.1f} s, load {result['load']:.1f} s, "
                  f"total {result['total']:.1f} s, problems {result['problems']}", flush=True)
            results.append(result)
        publish(SECTION, markdown(results, args.seed))
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()

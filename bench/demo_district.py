"""Benchmark: build and load the demo district at both scales; write the numbers to BENCHMARKS.md.

Runs the pipeline `onemap demo` runs (etl/demo/pipeline.py: generation, the one-transaction
COPY load with building counts and demo users, ANALYZE and the hierarchy check) against a
throwaway embedded cluster, so your own data is never touched.

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

from etl.demo.boundary import read_boundary
from etl.demo.pipeline import build_and_load
from etl.demo.scales import SCALES
from geodata.db import make_engine
from geodata.embedded import EmbeddedPostgres
from geodata.migrate import reset
from onemap.settings import Settings
from results import publish  # bench/results.py (run as a script)

SECTION = "## Demo district (`onemap demo`)"


def run(scale_name: str, seed: int, cluster: EmbeddedPostgres) -> dict:
    """Time each phase of one build, through the pipeline `onemap demo` runs; returns timings
    and row counts."""
    url = cluster.sqlalchemy_url()
    reset(url)
    engine = make_engine(url)
    steps: dict[str, float] = {}
    current = {"step": None, "since": 0.0}

    def generating(what: str) -> None:
        now = time.perf_counter()
        if current["step"] is not None:
            steps[f"generate: {current['step']}"] = now - current["since"]
        current.update(step=what, since=now)

    table_started: dict[str, float] = {}
    table_time: dict[str, float] = {}

    def loading(table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if not table_started and current["step"] is not None:  # generation's last step ended
            steps[f"generate: {current['step']}"] = now - current["since"]
            current["step"] = None
        table_started.setdefault(table, now)
        table_time[table] = now - table_started[table]

    started = time.perf_counter()
    built = build_and_load(engine, read_boundary().geometry, code="210103", name="沈河区",
                           scale=SCALES[scale_name], seed=seed,
                           now=datetime.now(ZoneInfo("Asia/Shanghai")),
                           generating=generating, loading=loading)
    total = time.perf_counter() - started
    engine.dispose()
    seconds = built.seconds
    return {
        "scale": scale_name, "generate": seconds["generate"], "load": seconds["load"],
        "analyze": seconds["analyze"], "check": seconds["check"],
        "problems": len(built.problems), "total": total, "steps": steps, "rows": built.written,
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

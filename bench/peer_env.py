"""The peers OneMap's benchmarks measure beside it (tipg), in the benchmarks' own environment:
`var/bench-venv`, made from PyPI the first time, never a dependency of OneMap's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "var" / "bench-venv"
PEERS = ("tipg==1.6.1", "uvicorn")


def peer_python() -> Path:
    """The benchmarks' own Python with the peers installed (made when missing)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    done = subprocess.run([str(python), "-c", "import tipg, uvicorn"], capture_output=True)
    if done.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True)
    return python


@contextmanager
def tipg(database_url: str, socket_dir: str, port: int, tables: list[str],
         listen: int = 8081) -> str:
    """tipg serving `tables` (schema.table) of the database on 127.0.0.1:`listen`; yields its
    base URL, stopped afterwards."""
    owner_url = (database_url.split("?", 1)[0].replace("@/", "@localhost/", 1)
                 .replace("postgresql+psycopg://", "postgresql://", 1))
    env = dict(os.environ, DATABASE_URL=owner_url, TIPG_DB_SCHEMAS='["onemap"]',
               TIPG_DB_TABLES="[" + ",".join(f'"{t}"' for t in tables) + "]")
    log = open(f"/tmp/onemap-bench-tipg-{listen}.log", "w")
    process = subprocess.Popen(
        [str(peer_python()), str(ROOT / "bench" / "peers" / "tipg_server.py"), "--socket-dir",
         socket_dir, "--port", str(port), "--listen", str(listen)], env=env, stdout=log,
        stderr=log)
    base = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/collections", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"tipg did not come up; see {log.name}") from None
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()

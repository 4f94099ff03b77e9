"""`onemap serve` started as users start it, on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.logs import assert_clean_log
from tests.support.ports import free_port


def onemap_command() -> str:
    """The console script installed next to the running Python."""
    path = Path(sys.executable).parent / "onemap"
    return str(path) if path.exists() else shutil.which("onemap")


def healthy(base: str) -> bool:
    """Whether a OneMap at `base` answers its health check."""
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def serving(env: dict | None = None, *, log_prefix: str = "onemap-test-serve",
            ready_within: float = 60, check_log: bool = True) -> Iterator[str]:
    """`onemap serve` on a free port with `env` (None: this process's environment); yields its
    base URL, stops it afterwards and, unless told not to, fails if its log holds personal
    data, bound parameters or a traceback."""
    port = free_port()
    log_path = Path("/tmp") / f"{log_prefix}-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([onemap_command(), "serve", "--port", str(port)],
                                   env=dict(os.environ) if env is None else env,
                                   stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + ready_within
        try:
            while not healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"onemap serve did not come up; see {log_path}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)
    if check_log:
        assert_clean_log(log_path)

"""Rate-limit counters in PostgreSQL, so that a limit holds across gunicorn workers and servers.

A storage backend for the `limits` library (which Flask-Limiter uses): `storage_uri=
"onemap-postgresql://"` selects it. Fixed windows only: one row per key, counted with an
atomic upsert that restarts the window once it has expired. Runs as the app's role, which may
write nothing else of the kind.
"""

from __future__ import annotations

import time

from limits.storage import Storage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

_INCR = """
INSERT INTO onemap.rate_counter AS c (key, hits, expires_at)
VALUES (:key, :amount, clock_timestamp() + make_interval(secs => :expiry))
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.hits
              ELSE c.hits + EXCLUDED.hits END,
  expires_at = CASE WHEN c.expires_at <= clock_timestamp() THEN EXCLUDED.expires_at
                    ELSE c.expires_at END
RETURNING hits
"""

_GET = """
SELECT hits, extract(epoch FROM expires_at) AS expires FROM onemap.rate_counter
WHERE key = :key AND expires_at > clock_timestamp()
"""

# expired rows are dead weight: drop a few on the way (no background job needed)
_SWEEP = """
DELETE FROM onemap.rate_counter WHERE key IN (
  SELECT key FROM onemap.rate_counter WHERE expires_at < clock_timestamp() - interval '1 hour'
  LIMIT 100)
"""


class PostgresStorage(Storage):
    """Fixed-window counters in onemap.rate_counter."""

    STORAGE_SCHEME = ["onemap-postgresql"]
    SWEEP_EVERY = 500  # increments per process between sweeps

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._increments = 0

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @staticmethod
    def _engine():
        from .scope import app_engine  # late: the engine is made after gunicorn forks

        return app_engine()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._engine().begin() as conn:
            hits = conn.execute(text(_INCR), {"key": key[:200], "amount": amount,
                                              "expiry": float(expiry)}).scalar_one()
            self._increments += 1
            if self._increments % self.SWEEP_EVERY == 0:
                conn.execute(text(_SWEEP))
        return hits

    def _row(self, key: str):
        with self._engine().connect() as conn:
            return conn.execute(text(_GET), {"key": key[:200]}).one_or_none()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires) if row else time.time()

    def check(self) -> bool:
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as conn:
            return conn.execute(text("DELETE FROM onemap.rate_counter")).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(text("DELETE FROM onemap.rate_counter WHERE key = :key"),
                         {"key": key[:200]})

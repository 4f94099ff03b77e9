"""The one settings object: every ONEMAP_* environment variable is read here and nowhere else."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_pg_bin() -> Path:
    """Find PostgreSQL's server binaries: Debian keeps them outside PATH, conda puts them on it."""
    debian = Path("/usr/lib/postgresql/15/bin")
    if (debian / "pg_ctl").exists():
        return debian
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            return Path(out.stdout.strip())
    return debian


# each gunicorn worker serves this many requests at once; its database pools keep as many
# connections open (fewer made every overflowing request open and close one: bench/intake.py)
THREADS_PER_WORKER = 8


class Settings(BaseSettings):
    """OneMap settings; each field is the environment variable ONEMAP_<FIELD NAME>."""

    model_config = SettingsConfigDict(
        env_prefix="ONEMAP_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(
        default=None,
        description="An external PostgreSQL (>= 13, PostGIS >= 3.1) to use instead of the "
        "embedded cluster, e.g. postgresql://user:pass@host:5432/onemap. Unset: embedded.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="With ONEMAP_DATABASE_URL: the URL the web app uses, logging in as the "
        "role onemap_app (LOGIN, created by the migrations; give it a password). Unset: the "
        "app logs in as the owner and switches to onemap_app with SET ROLE. The embedded "
        "cluster needs neither: it gives onemap_app a password of its own.",
    )
    auth_database_url: str | None = Field(
        default=None,
        description="With ONEMAP_DATABASE_URL: the URL sign-in and sessions use, logging in as "
        "the role onemap_auth (LOGIN, created by the migrations; give it a password). Unset: "
        "the owner with SET ROLE. The embedded cluster gives onemap_auth a password of its own.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A streaming replica of the database (hot standby) for the wall's and the "
        "cockpit's reads: their map layers, vector tiles, rail and figures, and every screen's "
        "live poll; everything that writes, sign-in and sessions stay on the primary. A URL "
        "without a user logs in as the app does on the primary (the embedded cluster's "
        "onemap_app, ONEMAP_APP_DATABASE_URL's login, else the owner with SET ROLE): roles and "
        "their passwords replicate. `onemap db replica DIR` makes one of the embedded cluster "
        "and prints this setting. Unset: every read on the primary.",
    )
    pg_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "pg",
        description="Folder of the embedded cluster (data, socket, log, password).",
    )
    pg_port: int = Field(
        default=54329,
        description="Port of the embedded cluster: names its unix socket and, when "
        "pg_listen is set, the TCP port it listens on.",
    )
    pg_listen: str = Field(
        default="",
        description="TCP address the embedded cluster also listens on, e.g. 127.0.0.1 "
        "(for QGIS on this machine; its pg_hba admits loopback only). Empty: unix socket only.",
    )
    pg_bin: Path = Field(
        default_factory=_default_pg_bin,
        description="Folder holding initdb and pg_ctl.",
    )
    pg_shared_buffers: str = Field(
        default="512MB", description="shared_buffers of the embedded cluster."
    )
    pg_fsync: bool = Field(
        default=True,
        description="fsync in the embedded cluster; the test suite turns it off for its "
        "throwaway clusters.",
    )
    db_name: str = Field(default="onemap", description="Database name in the embedded cluster.")
    host: str = Field(default="127.0.0.1", description="Address the dashboard listens on.")
    port: int = Field(default=8050, description="Port the dashboard listens on.")
    workers: int = Field(
        # one per core: a worker runs Python on one core at a time, and the database's share
        # of a request is smaller than the app's (bench/intake.py: 1 worker 230, 2 workers
        # 300 reports/s on 2 cores)
        default_factory=lambda: os.cpu_count() or 1,
        description=f"gunicorn worker processes ({THREADS_PER_WORKER} threads each); "
        "default: one per core.",
    )
    log_level: str = Field(default="INFO", description="Log level of the web server.")
    secret_key: str | None = Field(
        default=None,
        description="Key that signs session cookies. Unset: one is generated once and kept in "
        "var/secret_key, so sessions survive restarts and are shared by all workers.",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only (browsers also accept it from "
        "http://127.0.0.1). Set false only to serve plain HTTP on a trusted network.",
    )
    session_hours: float = Field(
        default=12.0,
        description="A session ends after this many hours without a request (a shift).",
    )
    session_max_hours: float = Field(
        default=24.0,
        description="A session ends this many hours after sign-in, however busy it is.",
    )
    login_rate_limit: str = Field(
        default="10 per minute", description="Login attempts allowed per address."
    )
    lookup_rate_limit: str = Field(
        default="120 per minute", description="Person look-ups allowed per user."
    )
    lookup_miss_limit: str = Field(
        default="30 per day",
        description="Person look-ups and searches that find nobody, per user, before the "
        "user's look-ups are locked until an administrator unlocks them (enumeration).",
    )
    max_body_bytes: int = Field(
        default=1_048_576, gt=0,
        description="Largest request body accepted (1 MB); a larger one is answered 413 "
        "before it is read, with or without Content-Length.",
    )

    basemap: str = Field(
        default="none",
        description="Basemap under the layers: none (offline), xyz, tianditu, amap or tencent.",
    )
    basemap_url: str | None = Field(
        default=None,
        description="Tile URL template for basemap=xyz, e.g. http://tiles.local/{z}/{x}/{y}.png.",
    )
    tianditu_key: str | None = Field(default=None, description="Tianditu (天地图) browser key.")
    live_poll_seconds: float = Field(
        default=1.5, description="How often an open screen asks whether anything changed."
    )
    office_hours: str = Field(
        default="08:30-12:00,13:30-17:30",
        description="Office hours of a working day (Asia/Shanghai), on which time limits in "
        "working hours and working days are counted.",
    )
    simulate: bool = Field(
        default=True,
        description="Whether `onemap simulate` runs (and `make run` starts it): false on a "
        "database with real cases, which must never get simulated ones.",
    )
    export_dir: Path = Field(
        default=PROJECT_ROOT / "var" / "exports",
        description="Folder the export page's files are written to (one folder per job, "
        "created if missing); the worker writes there and the server reads from there.",
    )
    export_hours: float = Field(
        default=24.0, gt=0,
        description="Hours an export page's file stays downloadable; the worker then "
        "deletes it.",
    )
    calendar_overrides: Path | None = Field(
        default=None,
        description="CSV of the district's own days off and days on (date,kind,note), winning "
        "over the State Council's notices; unset: geodata/reference/calendar_overrides.csv.",
    )

    @field_validator("office_hours")
    @classmethod
    def _office_hours_read(cls, value: str) -> str:
        from onemap.domain.working_calendar import WorkingCalendar, parse_office_hours

        WorkingCalendar(periods=parse_office_hours(value))  # in order, each ending after start
        return value

    @field_validator("basemap")
    @classmethod
    def _known_basemap(cls, value: str) -> str:
        from layers.basemaps import BASEMAPS

        value = value.strip().lower()
        if value not in BASEMAPS:
            raise ValueError(f"ONEMAP_BASEMAP must be one of {', '.join(BASEMAPS)}")
        return value

    @field_validator("database_url", "app_database_url", "auth_database_url",
                     "read_database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        """Accept only PostgreSQL URLs and make SQLAlchemy use psycopg 3."""
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        raise ValueError(
            "ONEMAP_DATABASE_URL must be a PostgreSQL URL (postgresql://user:pass@host/db)"
        )

    def session_secret(self) -> str:
        """The session-signing key: the setting, or one generated once into var/secret_key.
        Every gunicorn worker reads it as it starts; on the first start they may all find no
        file and make one at the same moment, so a key is written whole under a name of its
        own and linked into place, which only the first to get there does: every worker then
        reads that one (never a half-written file, never a key of its own)."""
        if self.secret_key:
            return self.secret_key
        path = PROJECT_ROOT / "var" / "secret_key"
        if not path.exists():
            import secrets
            import tempfile

            path.parent.mkdir(parents=True, exist_ok=True)
            handle, written = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")  # 0600
            try:
                with os.fdopen(handle, "w") as out:
                    out.write(secrets.token_hex(32))
                try:
                    os.link(written, path)
                except FileExistsError:  # another worker's came first: that one is the key
                    pass
            finally:
                os.unlink(written)
        return path.read_text().strip()

    @property
    def embedded(self) -> bool:
        """True when OneMap runs its own PostgreSQL cluster."""
        return self.database_url is None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment and .env."""
    return Settings()

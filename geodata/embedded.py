"""OneMap's own PostgreSQL 15 + PostGIS cluster, kept in a folder and started on demand.

PostgreSQL refuses to run as root, so when we are root the server programs run as the
`postgres` system user; the folder layout keeps what that user owns (data, socket, log)
apart from what only we read (the password).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import secrets
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "onemap"
# the role a streaming replica logs in as (REPLICATION, nothing else): its password sits in the
# replica's postgresql.auto.conf (primary_conninfo), so it must not be the superuser's
REPLICATION_ROLE = "onemap_replication"
SOCKET_PATH_LIMIT = 107  # sun_path in Linux's sockaddr_un, minus the terminating NUL


class EmbeddedError(RuntimeError):
    """The embedded cluster could not be set up, started or stopped; the message says why."""


@dataclass(frozen=True)
class ClusterStatus:
    """What `onemap db status` reports about the embedded cluster."""

    initialised: bool
    running: bool
    pid: int | None
    data_dir: Path
    socket_dir: Path
    port: int


class EmbeddedPostgres:
    """A PostgreSQL cluster in `root`: root/data, root/run (socket), root/log, root/password."""

    def __init__(
        self,
        root: Path,
        *,
        port: int,
        bin_dir: Path,
        db_name: str = "onemap",
        listen: str = "",
        shared_buffers: str = "512MB",
        fsync: bool = True,
    ) -> None:
        self.root = Path(root).absolute()
        self.port = port
        self.bin_dir = Path(bin_dir)
        self.db_name = db_name
        self.listen = listen
        self.shared_buffers = shared_buffers
        self.fsync = fsync
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "log" / "postgresql.log"
        self.password_file = self.root / "password"

    # -- running the server programs -------------------------------------------------------

    @property
    def _as_postgres(self) -> bool:
        return os.geteuid() == 0

    @staticmethod
    def _require(program: Path) -> None:
        if not program.exists():
            raise EmbeddedError(
                f"{program} not found: install PostgreSQL 15 and PostGIS "
                "(apt-get install postgresql-15 postgresql-15-postgis-3) or set ONEMAP_PG_BIN"
            )

    def _run(self, *args: str, check: bool = True,
             env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program from bin_dir, as `postgres` when we are root."""
        program = self.bin_dir / args[0]
        self._require(program)
        kwargs: dict = {}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
               **(env_extra or {})}
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            kwargs = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            env["HOME"] = account.pw_dir
        result = subprocess.run(
            [str(program), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.root,
            env=env,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            raise EmbeddedError(
                f"{args[0]} failed ({result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
                + (f"\nsee {self.log_file}" if self.log_file.exists() else "")
            )
        return result

    def _give_to_server_user(self, *paths: Path) -> None:
        if not self._as_postgres:
            return
        account = pwd.getpwnam("postgres")
        for path in paths:
            os.chown(path, account.pw_uid, account.pw_gid)

    @contextmanager
    def _lock(self):
        """Serialise set-up and start-up between processes (make run and a test run, say)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def initialised(self) -> bool:
        """True once initdb has made the data folder."""
        return (self.data_dir / "PG_VERSION").exists()

    def _check_reachable(self) -> None:
        """The server user must be able to walk down to our folder, or initdb fails obscurely."""
        if not self._as_postgres:
            return
        probe = subprocess.run(
            ["test", "-x", str(self.root)], user="postgres", check=False, extra_groups=[]
        )
        if probe.returncode != 0:
            raise EmbeddedError(
                f"the postgres system user cannot reach {self.root}: a parent folder is not "
                "world-executable. Set ONEMAP_PG_DIR to a folder it can reach, "
                "e.g. /var/lib/onemap/pg"
            )
        socket = self.socket_dir / f".s.PGSQL.{self.port}"
        if len(str(socket)) > SOCKET_PATH_LIMIT:
            raise EmbeddedError(
                f"the socket path {socket} is longer than {SOCKET_PATH_LIMIT} bytes; "
                "set ONEMAP_PG_DIR to a shorter path"
            )

    def init(self) -> None:
        """Create the cluster (initdb) if the folder holds none yet."""
        with self._lock():
            if self.initialised:
                return
            self._require(self.bin_dir / "initdb")
            self.root.chmod(0o755)
            self._check_reachable()
            for folder in (self.data_dir, self.socket_dir, self.log_file.parent):
                folder.mkdir(parents=True, exist_ok=True)
            if any(self.data_dir.iterdir()):
                raise EmbeddedError(
                    f"{self.data_dir} is not empty but holds no cluster; move it away and retry"
                )
            self.data_dir.chmod(0o700)
            self.socket_dir.chmod(0o700)
            self._give_to_server_user(self.data_dir, self.socket_dir, self.log_file.parent)

            password = secrets.token_hex(16)
            self.password_file.write_text(password + "\n")
            self.password_file.chmod(0o600)
            initdb_password = self.root / "log" / ".initdb-password"
            initdb_password.write_text(password + "\n")
            self._give_to_server_user(initdb_password)
            try:
                self._run(
                    "initdb",
                    "-D", str(self.data_dir),
                    "-U", SUPERUSER,
                    f"--pwfile={initdb_password}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                )
            except EmbeddedError:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                raise
            finally:
                initdb_password.unlink(missing_ok=True)
            with open(self.data_dir / "postgresql.conf", "a") as conf:
                conf.write("\ninclude_if_exists = 'onemap.conf'\n")

    def _write_config(self) -> None:
        """Settings we own, rewritten at every start so changed ONEMAP_* values take effect."""
        conf = self.data_dir / "onemap.conf"
        conf.write_text(
            "# written by OneMap at every start; edit ONEMAP_PG_* settings instead\n"
            f"listen_addresses = '{self.listen}'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            f"shared_buffers = '{self.shared_buffers}'\n"
            "work_mem = '32MB'\n"
            "maintenance_work_mem = '512MB'\n"
            "max_connections = 100\n"
            "random_page_cost = 1.1\n"
            "effective_io_concurrency = 100\n"
            "jit = off\n"
            f"fsync = {'on' if self.fsync else 'off'}\n"
            f"synchronous_commit = {'on' if self.fsync else 'off'}\n"
            f"full_page_writes = {'on' if self.fsync else 'off'}\n"
            "timezone = 'Asia/Shanghai'\n"
            "log_min_duration_statement = 1000\n"
            # the server log keeps no personal data: no bound values with slow or failing
            # statements, no DETAIL lines ("Failing row contains (...)" quotes the row)
            "log_parameter_max_length = 0\n"
            "log_parameter_max_length_on_error = 0\n"
            "log_error_verbosity = terse\n"
            # read by a streaming replica only (make_replica): its long reads hold back the
            # primary's vacuum instead of being cancelled by it
            "hot_standby_feedback = on\n"
        )
        self._give_to_server_user(conf)

    def status(self) -> ClusterStatus:
        """Whether the cluster exists and runs, from pg_ctl's point of view."""
        running, pid = False, None
        if self.initialised:
            result = self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False)
            running = result.returncode == 0
            pid_file = self.data_dir / "postmaster.pid"
            if running and pid_file.exists():
                pid = int(pid_file.read_text().split("\n", 1)[0])
        return ClusterStatus(
            self.initialised, running, pid, self.data_dir, self.socket_dir, self.port
        )

    def start(self) -> None:
        """Initialise if needed, start if not running, and make sure the database exists."""
        self.init()
        with self._lock():
            if not self.status().running:
                self._write_config()
                self._run(
                    "pg_ctl", "start", "-w", "-t", "60",
                    "-D", str(self.data_dir), "-l", str(self.log_file),
                )
            self._create_database()

    def stop(self) -> bool:
        """Stop the cluster if it runs; True when it was running."""
        if not self.status().running:
            return False
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", str(self.data_dir))
        return True

    def destroy(self) -> None:
        """Stop the cluster and delete its folder (throwaway test clusters)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.libpq_url("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (self.db_name,)
            ).fetchone()
            if not exists:
                conn.execute(f'create database "{self.db_name}"')

    # -- addresses -------------------------------------------------------------------------

    @property
    def password(self) -> str:
        """The superuser's password, written at initdb."""
        return self.password_file.read_text().strip()

    def libpq_url(self, db_name: str | None = None, *, user: str = SUPERUSER,
                  password: str | None = None) -> str:
        """A URL psql and psycopg understand, through the unix socket."""
        return (
            f"postgresql://{user}:{quote(password or self.password)}@/{db_name or self.db_name}"
            f"?host={quote(str(self.socket_dir))}&port={self.port}"
        )

    def login_for(self, role: str) -> str:
        """Let an existing role log in with a password of its own (kept in root/<role>.password);
        returns the password. The web app logs in as its roles this way, so it can never act as
        the owner, not even with RESET ROLE."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            # the workers of a first `onemap serve` all ask at once: without the lock each
            # would set a password of its own and the file would keep the first, not the last
            conn.execute("SELECT pg_advisory_lock(hashtext('onemap.login_for'), hashtext(%s))",
                         (role,))
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                raise EmbeddedError(f"role {role} does not exist yet: run `onemap db migrate`")
            password = self.known_login(role) or secrets.token_hex(16)
            conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)))
            self._remember_login(role, password)
        return password

    def _remember_login(self, role: str, password: str) -> None:
        """Write root/<role>.password once the role accepts it (a file means a login), whole
        or not at all: a reader never sees half a password."""
        path = self.root / f"{role}.password"
        if path.exists():
            return
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(password + "\n")
        os.replace(draft, path)

    def known_login(self, role: str) -> str | None:
        """The password `login_for` gave the role, or None when it has given none yet."""
        path = self.root / f"{role}.password"
        return path.read_text().strip() if path.exists() else None

    def sqlalchemy_url(self) -> str:
        """The same address for SQLAlchemy with psycopg 3."""
        return self.libpq_url().replace("postgresql://", "postgresql+psycopg://", 1)

    # -- a streaming replica ---------------------------------------------------------------

    @property
    def is_standby(self) -> bool:
        """True for a replica made by `make_replica` (pg_basebackup -R left standby.signal)."""
        return (self.data_dir / "standby.signal").exists()

    def read_url(self) -> str:
        """The replica's address without a user: ONEMAP_READ_DATABASE_URL in this form logs
        the web app in with the primary's own login of onemap_app (geodata/scope.py)."""
        return f"postgresql:///{self.db_name}?host={quote(str(self.socket_dir))}&port={self.port}"

    def _replication_login(self) -> str:
        """Let REPLICATION_ROLE log in (created the first time, password in root/<role>.password)
        and make sure the server takes replication connections on its socket; the password."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            wal_level = conn.execute("SHOW wal_level").fetchone()[0]
            senders = int(conn.execute("SHOW max_wal_senders").fetchone()[0])
            if wal_level == "minimal" or senders < 1:
                raise EmbeddedError("the primary cannot stream: it needs wal_level = replica "
                                    f"and max_wal_senders > 0 (has {wal_level}, {senders})")
            password = self.known_login(REPLICATION_ROLE) or secrets.token_hex(16)
            verb = "ALTER" if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                           (REPLICATION_ROLE,)).fetchone() else "CREATE"
            conn.execute(sql.SQL(verb + " ROLE {} WITH LOGIN REPLICATION PASSWORD {}").format(
                sql.Identifier(REPLICATION_ROLE), sql.Literal(password)))
            # initdb's pg_hba.conf has "local replication all scram-sha-256"; a cluster whose
            # file lost it gets a line for the role alone
            rules = conn.execute("SELECT type, database, user_name FROM pg_hba_file_rules"
                                 " WHERE error IS NULL").fetchall()
            if not any(kind == "local" and "replication" in databases
                       and ({"all", REPLICATION_ROLE} & set(users))
                       for kind, databases, users in rules):
                with open(self.data_dir / "pg_hba.conf", "a") as hba:
                    hba.write(f"\nlocal replication {REPLICATION_ROLE} scram-sha-256\n")
                conn.execute("SELECT pg_reload_conf()")
        self._remember_login(REPLICATION_ROLE, password)
        return password

    def make_replica(self, root: Path, *, port: int) -> EmbeddedPostgres:
        """A hot-standby streaming replica of this cluster in `root` (its own data, socket, log;
        `port` names its socket), made with pg_basebackup -R, started, and returned. The
        primary is started if it is not running. A folder that already holds a replica is
        started again, not made anew. No replication slot: a replica stopped for longer than
        the primary keeps its WAL (max_wal_size) must be made again."""
        replica = EmbeddedPostgres(
            root, port=port, bin_dir=self.bin_dir, db_name=self.db_name, listen=self.listen,
            shared_buffers=self.shared_buffers, fsync=self.fsync)
        if replica.root == self.root or (replica.port == self.port and self.listen):
            raise EmbeddedError("a replica needs a folder of its own (and with ONEMAP_PG_LISTEN "
                                "set, a port of its own)")
        if replica.initialised and not replica.is_standby:
            raise EmbeddedError(f"{replica.data_dir} holds a cluster that is not a replica")
        self.start()
        with replica._lock():
            if not replica.initialised:
                password = self._replication_login()
                replica.root.chmod(0o755)
                replica._check_reachable()
                for folder in (replica.data_dir, replica.socket_dir, replica.log_file.parent):
                    folder.mkdir(parents=True, exist_ok=True)
                if any(replica.data_dir.iterdir()):
                    raise EmbeddedError(f"{replica.data_dir} is not empty but holds no cluster")
                replica.data_dir.chmod(0o700)
                replica.socket_dir.chmod(0o700)
                replica._give_to_server_user(
                    replica.data_dir, replica.socket_dir, replica.log_file.parent)
                try:  # the password in the environment, never on a command line
                    replica._run(
                        "pg_basebackup", "-D", str(replica.data_dir), "-h", str(self.socket_dir),
                        "-p", str(self.port), "-U", REPLICATION_ROLE, "-w", "-R",
                        "-X", "stream", "-c", "fast",
                        env_extra={"PGPASSWORD": password, "PGAPPNAME": replica.root.name})
                except EmbeddedError:
                    shutil.rmtree(replica.data_dir, ignore_errors=True)
                    raise
                # roles replicate, and so do their passwords: the superuser's opens the
                # replica (its start, `onemap db status` with ONEMAP_PG_DIR on it)
                replica.password_file.touch(mode=0o600)
                replica.password_file.write_text(self.password + "\n")
        replica.start()
        return replica

"""Backups of OneMap's schema with pg_dump's custom format, and their restore.

A backup holds the schema `onemap` only (tables, rows, functions, policies, grants), not the
extensions in `public` nor the cluster-wide roles: a restore creates what the migrations would
(PostGIS, pg_trgm, the roles onemap_app and onemap_auth) when the target lacks them. Its
schema revision is the row of `onemap.alembic_version` in it, which `pg_restore` reads back
without restoring anything.

A restore replaces the whole schema in one transaction: psql runs our preparation, the SQL
pg_restore writes and a COMMIT that is sent only once pg_restore has written everything, so a
failure anywhere (a damaged file, a refused statement, a lost connection) changes nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from . import users
from .db import SCHEMA, make_engine
from .embedded import EmbeddedPostgres
from .migrate import alembic_config, current_revision
from .scope import APP_ROLE, AUTH_ROLE

# what the migrations create outside the schema, which a dump of the schema does not hold:
# PostGIS (migrations/env.py), pg_trgm (0021), the app's roles (0002, 0004)
EXTENSIONS = ("postgis", "pg_trgm")
ROLES = (APP_ROLE, AUTH_ROLE)

_TOC_ENTRY = re.compile(r"^\d+; \d+ \d+ ((?:[A-Z]+ )+)(\S+) (.*)$")
_OWN_SCHEMA_ENTRIES = {f"SCHEMA - {SCHEMA}", f"ACL - SCHEMA {SCHEMA}",
                       f"COMMENT - SCHEMA {SCHEMA}"}
# default privileges are dumped for the role that ran the migrations, which a target cluster
# may not have; the restoring owner takes them over, as it takes over the objects
_DEFAULT_PRIVILEGES_FOR = re.compile(
    r'^ALTER DEFAULT PRIVILEGES FOR ROLE (?:"(?:[^"]|"")+"|\S+) ', re.MULTILINE)
_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup or restore could not be made or was refused; the message says why and where.
    Nothing was changed."""


class NotABackup(BackupError):
    """The file is not one `onemap backup` wrote."""


class NewerSchema(BackupError):
    """Restoring the file would roll the database's schema back (or the file's schema is
    newer than this code)."""


@dataclass(frozen=True)
class Archive:
    """A backup file as `pg_restore -l` lists it, with the schema revision it holds."""

    path: Path
    revision: str
    size: int
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Done:
    """What a backup or restore did: where, at which revision, how much and how long."""

    database: str
    path: Path
    revision: str
    size: int
    tables: int
    rows: int
    seconds: float
    previous_revision: str | None = None


# -- talking to the server through libpq's programs -------------------------------------------


@dataclass(frozen=True)
class _Target:
    """A database as the PostgreSQL programs reach it: a conninfo without the password (which
    would show in `ps`), the password in the environment."""

    conninfo: str
    env: dict[str, str]
    where: str
    database: str


def _target(url: str) -> _Target:
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    env = dict(os.environ, PGAPPNAME="onemap backup", PGCONNECT_TIMEOUT="10")
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    host = parsed.host or parsed.query.get("host") or "the local socket"
    port = parsed.port or parsed.query.get("port")
    where = f"database {parsed.database} on {host}" + (f" port {port}" if port else "")
    return _Target(conninfo, env, where, parsed.database or "")


def describe(url: str) -> str:
    """'database onemap on /var/lib/onemap/pg/run port 54329': where a message points."""
    return _target(url).where


def _program(bin_dir: Path, name: str) -> str:
    path = Path(bin_dir) / name
    if not path.exists():
        raise BackupError(f"{path} not found: install PostgreSQL 15's client programs "
                          "(apt-get install postgresql-client-15) or set ONEMAP_PG_BIN")
    return str(path)


def _last_lines(message: str) -> str:
    """The end of a program's error output, where PostgreSQL's programs say what failed."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return "\n".join(lines[-5:]) or "no message"


def _first_line(exc: DBAPIError) -> str:
    """The server's or the driver's message, without SQLAlchemy's statement and links."""
    return str(exc.orig or exc).strip().splitlines()[0]


# -- reading a file ------------------------------------------------------------------------------


def read_archive(path: Path, bin_dir: Path) -> Archive:
    """The backup at `path`, checked to be one `onemap backup` wrote (the schema `onemap`
    alone, with its revision), without restoring anything."""
    path = Path(path)
    _check_readable(path)
    pg_restore = _program(bin_dir, "pg_restore")
    entries = _list_entries(path, pg_restore)
    _check_entries(path, entries)
    return Archive(path, _read_revision(path, pg_restore), path.stat().st_size, entries)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise NotABackup(f"{path}: no such file")
    if not path.is_file():
        raise NotABackup(f"{path} is a folder or a device, not a backup file")
    if not os.access(path, os.R_OK):
        raise NotABackup(f"{path} cannot be read: permission denied (backups are readable by "
                         "the account that made them only)")


def _list_entries(path: Path, pg_restore: str) -> tuple[str, ...]:
    """pg_restore's table of contents, read from the file's head: one line per object."""
    listed = subprocess.run([pg_restore, "-l", str(path)],
                            capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        raise NotABackup(f"{path} is not a OneMap backup: pg_restore cannot read it as an "
                         f"archive ({_last_lines(listed.stderr)})")
    return tuple(line for line in listed.stdout.splitlines() if line and not line.startswith(";"))


def _check_entries(path: Path, entries: tuple[str, ...]) -> None:
    """Refuse an archive that holds more than the schema (a whole-database dump would bring
    extensions and other schemas along) or lacks its revision."""
    foreign = [entry for entry in entries if not _in_schema(entry)]
    if foreign:
        raise NotABackup(
            f"{path} is not a OneMap backup: it holds more than the schema {SCHEMA} "
            f"({len(foreign)} entries such as {_describe(foreign[0])!r}); "
            "make backups with `onemap backup`")
    if not any(_describe(entry) == f"TABLE DATA {SCHEMA} alembic_version" for entry in entries):
        raise NotABackup(f"{path} is not a OneMap backup: it holds no {SCHEMA}.alembic_version, "
                         "the schema revision")


def _read_revision(path: Path, pg_restore: str) -> str:
    """The one row of alembic_version in the file, as pg_restore writes it out (a COPY)."""
    data = subprocess.run(
        [pg_restore, "-a", "-n", SCHEMA, "-t", "alembic_version", "-f", "-", str(path)],
        capture_output=True, text=True, check=False)
    if data.returncode != 0:
        raise NotABackup(f"{path}: the schema revision cannot be read: pg_restore failed: "
                         + _last_lines(data.stderr))
    found = re.search(rf"^COPY {SCHEMA}\.alembic_version \(version_num\) FROM stdin;\n"
                      r"(.*?)^\\\.$", data.stdout, re.MULTILINE | re.DOTALL)
    revisions = found.group(1).split() if found else []
    if len(revisions) != 1:
        raise NotABackup(f"{path} is not a OneMap backup: {SCHEMA}.alembic_version holds "
                         f"{len(revisions)} revisions instead of one")
    return revisions[0]


def _describe(entry: str) -> str:
    """'TABLE DATA onemap person' from pg_restore's '5035; 0 19566 TABLE DATA onemap person
    onemap'."""
    return entry.split(" ", 3)[3].rsplit(" ", 1)[0] if entry.count(" ") >= 4 else entry


def _in_schema(entry: str) -> bool:
    parsed = _TOC_ENTRY.match(entry)
    if parsed is None:
        return False
    namespace = parsed.group(2)
    if namespace == SCHEMA:
        return True
    return namespace == "-" and _describe(entry) in _OWN_SCHEMA_ENTRIES


# -- revisions -----------------------------------------------------------------------------------


def revision_order() -> list[str]:
    """The revisions this code knows, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("postgresql://"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def check_restorable(archive: Archive, target: str | None, where: str) -> None:
    """Refuse a file whose schema this code does not know, and a restore that would take the
    database's schema back to an older revision."""
    order = revision_order()
    head = order[-1]
    if archive.revision not in order:
        raise NewerSchema(
            f"{archive.path} holds schema revision {archive.revision}, which this OneMap does "
            f"not know (its newest is {head}): restore it with the OneMap that made it. "
            "Nothing was changed.")
    if target is None:
        return
    if target not in order or order.index(target) > order.index(archive.revision):
        raise NewerSchema(
            f"{where} is at schema revision {target}, newer than revision {archive.revision} "
            f"in {archive.path}: restoring would roll the schema back. Nothing was changed. "
            "Restore into an empty database (another ONEMAP_PG_DIR or ONEMAP_DATABASE_URL), "
            f"then `onemap db migrate` brings it to {head}.")


def target_revision(url: str) -> str | None:
    """The schema revision of the database at `url` (None: no OneMap schema there)."""
    try:
        return current_revision(url)
    except DBAPIError as exc:
        raise BackupError(f"{_target(url).where} does not answer: {_first_line(exc)}") from exc


def schema_tables(url: str) -> int:
    """How many tables the schema `onemap` holds at `url` (0: none, or no schema)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')"),
                {"schema": SCHEMA}).scalar()
    finally:
        engine.dispose()


# -- counting and auditing -----------------------------------------------------------------------


def _count_rows(conn) -> tuple[int, int]:
    """(tables, rows) of the schema, as this connection's snapshot sees them."""
    tables = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :schema AND c.relkind = 'r' ORDER BY c.relname"),
        {"schema": SCHEMA}).scalars().all()
    if not tables:
        return 0, 0
    quote = conn.dialect.identifier_preparer.quote
    counts = " UNION ALL ".join(f"SELECT count(*) AS n FROM {SCHEMA}.{quote(name)}"
                                for name in tables)
    return len(tables), int(conn.execute(text(f"SELECT sum(n) FROM ({counts}) c")).scalar())


def _audit(conn, action: str, actor: str, done: Done) -> None:
    details = {"file": str(done.path.absolute()), "bytes": done.size,
               "revision": done.revision, "tables": done.tables, "rows": done.rows,
               "seconds": round(done.seconds, 2)}
    if action == "db_restore":
        details["previous_revision"] = done.previous_revision
    users.audit(conn, action=action, username=actor, object_kind="database",
                object_id=done.database, details=details)


# -- backup --------------------------------------------------------------------------------------


def backup(url: str, path: Path, *, bin_dir: Path, actor: str, replace: bool = False) -> Done:
    """Write the schema `onemap` of the database at `url` to `path` (custom format, readable
    by its owner only: it holds personal data), then an audit row in the database. The file
    appears under its name only once complete."""
    path = Path(path)
    target = _target(url)
    _check_destination(path, replace)
    pg_dump = _program(bin_dir, "pg_dump")
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            # pg_dump reads the snapshot this transaction exported, so the rows counted here
            # are the rows in the file
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                revision = _schema_revision(conn, target.where)
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
                _dump(pg_dump, target, snapshot, path)
                tables, rows = _count_rows(conn)
        done = Done(target.database, path, revision, path.stat().st_size, tables, rows,
                    time.perf_counter() - started)
        with engine.begin() as conn:
            _audit(conn, "db_backup", actor, done)
    except DBAPIError as exc:
        raise BackupError(f"backing up {target.where}: {_first_line(exc)}") from exc
    finally:
        engine.dispose()
    return done


def _check_destination(path: Path, replace: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the name of the file to write")
    if path.exists() and not replace:
        raise BackupError(f"{path} exists already: give another name, or --replace it")
    if not path.parent.is_dir():
        raise BackupError(f"folder {path.parent} does not exist")


def _dump(pg_dump: str, target: _Target, snapshot: str, path: Path) -> None:
    """pg_dump into a hidden file beside `path`, renamed to it once whole: an interrupted or
    failed backup never leaves a file that looks like a backup, nor spoils an older one."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        # created here with its mode, so the rows are never readable by others, not even
        # for the moment before a chmod
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        dumped = subprocess.run(
            [pg_dump, "-Fc", "-n", SCHEMA, f"--snapshot={snapshot}", "-f", str(partial),
             "-d", target.conninfo],
            capture_output=True, text=True, env=target.env, check=False)
        if dumped.returncode != 0:
            raise BackupError(f"backing up {target.where} to {path}: pg_dump failed: "
                              f"{_last_lines(dumped.stderr)}")
        os.replace(partial, path)
    except OSError as exc:
        raise BackupError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _schema_revision(conn, where: str) -> str:
    if conn.execute(text(f"SELECT to_regclass('{SCHEMA}.alembic_version')")).scalar() is None:
        raise BackupError(f"{where} holds no OneMap schema: nothing to back up")
    revision = conn.execute(text(f"SELECT version_num FROM {SCHEMA}.alembic_version")).scalar()
    if revision is None:
        raise BackupError(f"{where}: {SCHEMA}.alembic_version is empty; the schema's revision "
                          "is unknown")
    return revision


# -- restore -------------------------------------------------------------------------------------


def restore(url: str, path: Path, *, bin_dir: Path, actor: str,
            cluster: EmbeddedPostgres | None = None, archive: Archive | None = None) -> Done:
    """Replace the schema `onemap` of the database at `url` with the backup at `path`, in one
    transaction, then write an audit row there. Refused (NotABackup, NewerSchema) before
    anything changes. `cluster`: the embedded cluster, whose roles get their logins back."""
    target = _target(url)
    archive = archive or read_archive(path, bin_dir)
    previous = target_revision(url)
    check_restorable(archive, previous, target.where)
    started = time.perf_counter()
    _restore_in_one_transaction(archive, target, bin_dir)
    if cluster is not None:
        _give_back_logins(cluster)
    try:
        return _analyze_and_audit(url, archive, previous, actor, started)
    except DBAPIError as exc:
        raise BackupError(f"{archive.path} was restored into {target.where}, but the tables "
                          f"could not be analysed and audited afterwards: {_first_line(exc)}"
                          ) from exc


def _restore_in_one_transaction(archive: Archive, target: _Target, bin_dir: Path) -> None:
    """One psql session: our preparation, the SQL pg_restore writes, then the confirmation and
    COMMIT only once pg_restore has written everything. Any failure ends psql's input without
    a COMMIT, and PostgreSQL rolls the whole transaction back."""
    psql, pg_restore = _program(bin_dir, "psql"), _program(bin_dir, "pg_restore")
    with tempfile.TemporaryDirectory(prefix="onemap-restore-") as scratch:
        folder = Path(scratch)
        schema_list, defaults_list = _write_lists(archive, folder)
        with open(folder / "psql.err", "w+") as psql_errors:
            session = subprocess.Popen(
                [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target.conninfo],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors,
                env=target.env)
            failure = None
            try:
                session.stdin.write(_preparation().encode())
                failure = _pipe([pg_restore, "--no-owner", "-L", str(schema_list), "-f", "-",
                                 str(archive.path)], session.stdin, folder)
                if failure is None and defaults_list is not None:
                    failure = _pipe([pg_restore, "-L", str(defaults_list), "-f", "-",
                                     str(archive.path)], session.stdin, folder,
                                    rewrite=_default_privileges_for_the_owner)
                if failure is None:
                    session.stdin.write(_confirmation(archive.revision).encode())
            except BrokenPipeError:
                pass  # psql stopped at a refused statement: its message says which
            finally:
                with contextlib.suppress(BrokenPipeError):
                    session.stdin.close()  # without a COMMIT, the transaction rolls back
                returncode = session.wait()
            psql_errors.seek(0)
            refused = psql_errors.read()
    if failure is not None or returncode != 0:
        reason = failure or f"psql failed: {_last_lines(refused)}"
        raise BackupError(f"restoring {archive.path} into {target.where}: {reason}\n"
                          "The transaction was rolled back: nothing was changed.")


def _write_lists(archive: Archive, folder: Path) -> tuple[Path, Path | None]:
    """pg_restore's lists of what to restore (-L): everything but the default privileges, and
    those alone (None when there are none), which need their role rewritten."""
    defaults = [e for e in archive.entries if _describe(e).startswith("DEFAULT ACL ")]
    schema_list = folder / "schema.list"
    schema_list.write_text("\n".join(e for e in archive.entries if e not in defaults) + "\n")
    if not defaults:
        return schema_list, None
    defaults_list = folder / "defaults.list"
    defaults_list.write_text("\n".join(defaults) + "\n")
    return schema_list, defaults_list


def _default_privileges_for_the_owner(sql: str) -> str:
    return _DEFAULT_PRIVILEGES_FOR.sub("ALTER DEFAULT PRIVILEGES ", sql)


def _preparation() -> str:
    """What the migrations make outside the schema, then the schema dropped: the first part of
    the restore's transaction."""
    roles = "\n".join(
        f"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN\n"
        f"    CREATE ROLE {role} NOLOGIN;\n  END IF;" for role in ROLES)
    return "\n".join([
        "SET client_min_messages = warning;",
        "BEGIN;",
        f"DO $roles$ BEGIN\n{roles}\nEND $roles$;",
        # the owner acts as the app's roles with SET ROLE when they have no login of their own
        *(f"GRANT {role} TO CURRENT_USER;" for role in ROLES),
        *(f"CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA public;" for name in EXTENSIONS),
        # as migration 0002 does: a privilege on public, which a dump of onemap does not hold
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE};",
        # the look-up functions SET pg_trgm.similarity_threshold (0021, 0022), which only a
        # superuser may name before pg_trgm's library is loaded; calling it loads the library
        "SELECT public.similarity('', '');",
        f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;",
        "",
    ])


def _confirmation(revision: str) -> str:
    """The end of the restore's transaction: the revision the file promised, then COMMIT."""
    return ("DO $check$ BEGIN\n"
            f"  IF (SELECT version_num FROM {SCHEMA}.alembic_version) IS DISTINCT FROM "
            f"'{revision}' THEN\n"
            "    RAISE EXCEPTION 'the restored schema is not at the file''s revision';\n"
            "  END IF;\nEND $check$;\n"
            "COMMIT;\n")


def _pipe(command: list[str], into: IO[bytes], scratch: Path,
          rewrite: Callable[[str], str] | None = None) -> str | None:
    """Run `command` and feed what it writes to `into`; None when it succeeded, else why not.
    `rewrite` edits the whole output first (small outputs only)."""
    with open(scratch / "pg_restore.err", "w+") as errors:
        producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        try:
            if rewrite is None:
                shutil.copyfileobj(producer.stdout, into, _CHUNK)
            else:
                into.write(rewrite(producer.stdout.read().decode()).encode())
        finally:
            producer.stdout.close()  # a producer still writing (psql gave up) stops at once
            returncode = producer.wait()
        errors.seek(0)
        message = errors.read()
    return None if returncode == 0 else f"pg_restore failed: {_last_lines(message)}"


def _give_back_logins(cluster: EmbeddedPostgres) -> None:
    """The embedded cluster's app roles log in with passwords kept in its folder; a role the
    restore had to create has none yet, so give it the one the folder holds."""
    for role in ROLES:
        if cluster.known_login(role):
            cluster.login_for(role)


def _analyze_and_audit(url: str, archive: Archive, previous: str | None, actor: str,
                       started: float) -> Done:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            # a restore brings rows, not the planner's statistics: without them the first
            # queries plan blind until autovacuum comes round
            names = conn.execute(text(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND c.relkind = 'r'"), {"schema": SCHEMA}).scalars()
            conn.execute(text(f"ANALYZE {', '.join(names)}"))
            tables, rows = _count_rows(conn)
            done = Done(_target(url).database, archive.path, archive.revision, archive.size,
                        tables, rows, time.perf_counter() - started, previous)
            _audit(conn, "db_restore", actor, done)
    finally:
        engine.dispose()
    return done

"""Database connection: SQLite by default (``data/fundradar.db``), PostgreSQL through ``FUNDRADAR_DB``.

The schema is owned by alembic: :func:`open_database` applies pending migrations on first use, and
``fundradar db upgrade`` does it explicitly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.core.errors import StoreError
from pipeline.core.sql import (  # noqa: F401 (database_url: read here too)
    database_url,
    migration_head,
    pg_liveness,
    sqlite_functions,
)
from pipeline.core.text import folder_not_database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connections beyond the pool's 5 kept open: serve runs up to ten jobs at once, and each holds
# a connection for its job lock and one for its run lock (session-level advisory locks) while it fetches,
# beside its session's; SQLAlchemy's default of 10 ran out with five sources due together
PG_POOL_OVERFLOW = 45
# SQLite's page cache per connection, in KiB (a negative cache_size): with the default 2 MB each row of a
# large write costs more than the one before (index pages evicted and read again): 1M score rows of
# 100,000 calls took 115 s with it, 48 s with 64 MB, which keeps the score table's indexes in memory. A
# limit, not an allocation: a connection that reads a few pages holds a few pages.
SQLITE_CACHE_KIB = 65_536


_PASSWORD = re.compile(r"(://[^/@:]*:)[^/]*@")  # up to the last "@" before the path


def _ats(url: str) -> int:
    """How many "@" the URL has before its path (one at most in a URL written as it must be)."""
    return url.partition("://")[2].partition("/")[0].count("@")


# libpq takes a password in the query string too (?password=, ?sslpassword= for the client key)
_QUERY_PASSWORD = re.compile(r"(?i)([?&](?:ssl)?password=)[^&#]*")


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs; a URL SQLAlchemy cannot parse, or one
    whose password holds an unescaped "@" (SQLAlchemy would show its end as the host), is shown with
    whatever sits between ``user:`` and the last ``@`` hidden. A password in the query is hidden too."""
    return _QUERY_PASSWORD.sub(r"\1***", _without_user_password(url))


def _without_user_password(url: str) -> str:
    if _ats(url) > 1:
        return _PASSWORD.sub(r"\1***@", url)
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return _PASSWORD.sub(r"\1***@", url)


_URL_HELP = "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
_DAMAGED = ("{{db}} is damaged ({what}); nothing was written: restore it from a backup, or recover what it "
            "holds with sqlite3 {{path}} .recover into a new file and point FUNDRADAR_DB / --db at that")
# What the database says (lower case) -> what it means and what to do; {db} names the database.
_FAULTS = (
    ("database or disk is full", "the disk holding {db} is full; nothing of this write was stored, free "
                                 "some space and run the command again"),
    ("no space left on device", "the disk holding {db} is full; nothing of this write was stored, free "
                                "some space and run the command again"),
    ("readonly database", "{db} is read-only; nothing was written, make the file and its folder writable "
                          "or point FUNDRADAR_DB / --db at a writable database"),
    ("read-only file system", "{db} is on a read-only file system; point FUNDRADAR_DB / --db at a "
                              "database on a writable disk"),
    ("file is not a database", "{db} is not a SQLite database; point FUNDRADAR_DB / --db at a fundradar "
                               "database (a new path creates one)"),
    # a file whose header is SQLite's and whose pages are not (a disk fault, a copy taken mid-write)
    ("database disk image is malformed", _DAMAGED.format(what="database disk image is malformed")),
    ("malformed database schema", _DAMAGED.format(what="malformed database schema")),
    ("unable to open database file", "cannot open {db}; check that its folder exists and is writable, "
                                     "or point FUNDRADAR_DB / --db elsewhere"),
    ("disk i/o error", "reading or writing {db} failed (disk I/O error); check the disk, nothing of this "
                       "write was stored"),
    # PostgreSQL: a search_path (libpq options in the URL) naming no schema that exists
    ("no schema has been selected to create in",
     "{db}: its search_path names no schema that exists (no schema has been selected to create in); "
     "nothing was changed, create the schema (CREATE SCHEMA …) or correct the search_path in the URL's "
     "options"),
    # SQLite waited BUSY_TIMEOUT_MS for another connection's write lock and gave up
    ("database is locked", "{db} is locked by another writer (another fundradar command, or a tool with "
                           "the file open); nothing of this write was stored, run the command again when "
                           "it has finished"),
    # PostgreSQL waited lock_timeout (BUSY_TIMEOUT_MS) for another session's lock
    ("canceling statement due to lock timeout",
     f"{{db}} is locked by another session for more than {BUSY_TIMEOUT_MS // 1000} s (another fundradar "
     "command, or a transaction "
     "left open in psql or another tool); nothing of this write was stored, run the command again when "
     "it has finished"),
    # PostgreSQL: the database's or role's statement_timeout (a DBA's guard) ran out
    ("canceling statement due to statement timeout",
     "{db} cancelled a statement that ran past its statement_timeout; nothing of this write was stored, "
     "raise statement_timeout for fundradar's database or role (ALTER ROLE … SET statement_timeout = "
     "'5min') and run the command again"),
    ("canceling statement due to user request",
     "{db}: another session cancelled this command's statement (pg_cancel_backend); nothing of this write "
     "was stored, run the command again"),
)


# PostgreSQL refusing the role: "permission denied for schema public" (PostgreSQL 15 and later give a
# role that owns nothing no CREATE there), "… for table call", "must be owner of table call" (ALTER)
_DENIED = re.compile(r"(permission denied for|must be owner of) (\w+) (\"[^\"]+\"|[^\s\".,;]+)")


def _denied(error: BaseException, url: str) -> str | None:
    """One line for a role without the rights the command needs, naming the grant that gives them."""
    found = _DENIED.search(str(error).split("\n")[0])
    if found is None:
        return None
    try:
        role = sa.engine.make_url(url).username or "fundradar's role"
    except (sa.exc.ArgumentError, ValueError):
        role = "fundradar's role"
    said = found.group(0)
    if found.group(2) == "database":  # at connection: a role without CONNECT, which no CREATE gives
        database = found.group(3).strip('"')
        return (f"{describe_url(url)}: role {role} may not connect to database {database} ({said}); nothing "
                f'was changed: GRANT CONNECT ON DATABASE "{database}" TO {role}')
    if found.group(2) == "schema" or found.group(1) == "must be owner of":
        return (f"{describe_url(url)}: role {role} may not create or change fundradar's tables ({said}); "
                "nothing was changed: run `fundradar db upgrade` once as the database's owner, or GRANT "
                f"CREATE ON SCHEMA public TO {role}")
    return (f"{describe_url(url)}: role {role} may not write fundradar's tables ({said}); nothing of this "
            "write was stored: GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "
            f"{role} and GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}, or connect as the tables' "
            "owner")


# PostgreSQL refusing every write: a standby server (a read replica), or default_transaction_read_only on
_READ_ONLY_PG = re.compile(r"cannot execute ([A-Za-z ]+?) in a read-only transaction")


def fault_message(error: BaseException, url: str) -> str | None:
    """One line for a database fault a person must fix (disk full, read-only, not a database, a role
    without rights), or None for any other error."""
    denied = _denied(error, url)
    if denied is not None:
        return denied
    read_only = _READ_ONLY_PG.search(str(error))
    if read_only is not None:
        return (f"{describe_url(url)} takes no writes ({read_only.group(0)}: a standby server, or "
                "default_transaction_read_only is on); nothing was written, point FUNDRADAR_DB / --db at the "
                "primary server, or turn default_transaction_read_only off for fundradar's database and role")
    text = str(error).lower()
    if "unable to open database file" in text and _read_only_folder(url):
        text = "read-only file system"
    if "disk i/o error" in text and _full_folder(url):  # WAL's -shm and -wal cannot be written
        text = "database or disk is full"
    for marker, message in _FAULTS:
        if marker in text:
            return message.format(db=describe_url(url), path=_file_of(url))
    return None


def _file_of(url: str) -> str:
    """The file of a SQLite URL, for a command to run on it; the URL itself otherwise."""
    try:
        return sa.engine.make_url(url).database or describe_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return describe_url(url)


def _read_only_folder(url: str) -> bool:
    """The folder of a SQLite database file is on a file system mounted read-only."""
    try:
        database = sa.engine.make_url(url).database
        folder = Path(database).resolve().parent if database else None
        return bool(folder is not None and os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, ValueError, sa.exc.ArgumentError):
        return False


def _full_folder(url: str) -> bool:
    """The file system holding a SQLite database file has no space left for an unprivileged writer."""
    try:
        database = sa.engine.make_url(url).database
        folder = Path(database).resolve().parent if database else None
        return bool(folder is not None and os.statvfs(folder).f_bavail == 0)
    except (OSError, ValueError, sa.exc.ArgumentError):
        return False


def _lost_server(context: Any, url: str) -> str | None:
    """One line for a database server that went away mid-command: a connection dropped (the server
    rolls its open transaction back, so nothing of it was stored), or a new one refused."""
    if context.is_disconnect:
        return (f"lost the connection to {describe_url(url)} (the database server went away); nothing "
                "of the interrupted write was stored, run the command again when it is back")
    if context.connection is None and isinstance(context.sqlalchemy_exception, sa.exc.OperationalError):
        detail = " ".join(str(context.original_exception).split())[:300]
        return f"cannot open database {describe_url(url)}: {detail}; {open_advice(detail)}"
    return None


# PostgreSQL refusing a connection for want of slots: max_connections, or a role's or database's limit
_OUT_OF_CONNECTIONS = ("too many connections for", "too many clients already",
                       "remaining connection slots are reserved")


def open_advice(detail: object) -> str:
    """What to do about a database that could not be opened, from what its server said."""
    if any(marker in str(detail).lower() for marker in _OUT_OF_CONNECTIONS):
        return ("the server's connection limit is reached (other programs' sessions, or serve's jobs): run "
                "the command again when some have ended, or raise the limit (max_connections, the role's or "
                "the database's CONNECTION LIMIT)")
    if "timeout expired" in str(detail).lower():  # libpq's connect_timeout (pipeline.core.sql.PG_LIVENESS)
        return ("the server did not answer within the connect timeout (it is frozen or unreachable, or a "
                "firewall drops the packets): check that it is up and reachable, and FUNDRADAR_DB or --db")
    return "check FUNDRADAR_DB or --db"


def _on_error(url: str):
    def handle(context) -> None:
        # Raising here replaces SQLAlchemy's exception after it rolled back the transaction, so the
        # caller (session_scope) sees one readable StoreError and nothing is half-written.
        message = fault_message(context.original_exception, url)
        if message is None and not context.is_pre_ping:  # a failed ping is SQLAlchemy's to reconnect
            message = _lost_server(context, url)
        if message is not None:
            raise StoreError(message) from None
    return handle


def create_db_engine(url: str) -> Engine:
    if _ats(url) > 1:  # the driver's error would name the password's end as the host it cannot find
        raise StoreError(f"database URL {describe_url(url)!r} has more than one '@' before its host; write "
                         "an '@' of the password as %40, e.g. postgresql+psycopg://USER:PA%40SS@HOST/DB")
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise StoreError(f"database URL {describe_url(url)!r} is not valid; {_URL_HELP}") from None
    if parsed.get_backend_name() == "sqlite":
        uri = str(parsed.query.get("uri", "")).lower() in ("true", "1")
        if parsed.database and parsed.database != ":memory:" and not uri:
            if Path(parsed.database).is_dir():
                raise StoreError(folder_not_database(parsed.database))
            folder = Path(parsed.database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder {folder} for the database "
                                 f"({exc.strerror or exc}); point FUNDRADAR_DB / --db at a writable "
                                 "path") from None
        engine = _create(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        if parsed.database and parsed.database != ":memory:" and not uri:
            _FileWatch(Path(parsed.database).resolve(), url).listen(engine)
    else:
        # a write waiting for another session's lock (a forgotten transaction in psql, a LOCK TABLE)
        # gives up after BUSY_TIMEOUT_MS, as a SQLite write does, instead of waiting for ever
        # (added to the libpq options the URL may set, such as a search_path, unless it sets its own)
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        options = {} if "lock_timeout" in given else \
            {"options": f"{given} -c lock_timeout={BUSY_TIMEOUT_MS}".strip()}
        engine = _create(url, pool_pre_ping=True, max_overflow=PG_POOL_OVERFLOW,
                         connect_args={**pg_liveness(parsed.query), **options})
    sa.event.listen(engine, "handle_error", _on_error(url))
    return engine


class _FileWatch:
    """Keeps an engine's connections on the file its path names. A SQLite connection keeps the file it
    opened, so after the file is deleted (``make clean``, a tidy-up) a long-running process (serve) would
    go on writing into the deleted inode, every write "stored" and lost at exit, and after it is replaced
    (a backup restored with ``mv``) its writes would never reach the new one. Before a pooled
    connection is used its file is checked against the path: a replaced file is reopened, a deleted one
    refused, also for new connections, which would otherwise make an empty database in its place."""

    def __init__(self, path: Path, url: str) -> None:
        self.path, self.url, self.opened = path, url, False

    def listen(self, engine: Engine) -> None:
        sa.event.listen(engine, "do_connect", self._before_connect)
        sa.event.listen(engine, "connect", self._connected)
        sa.event.listen(engine, "checkout", self._checkout)

    def _identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    def _deleted(self) -> StoreError:
        return StoreError(f"{describe_url(self.url)} was deleted while this fundradar process had it open; "
                          "nothing of this write was stored, restore the file from a backup, or restart the "
                          "process to start a new, empty database")

    def _before_connect(self, _dialect: Any, _record: Any, _args: Any, _params: Any) -> None:
        if self.opened and self._identity() is None:
            raise self._deleted()

    def _connected(self, _dbapi_connection: Any, record: Any) -> None:
        self.opened = True
        record.info["file"] = self._identity()

    def _checkout(self, _dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        now = self._identity()
        if now is None:
            raise self._deleted()
        if record.info.get("file") not in (None, now):
            # DisconnectionError: the pool closes this connection and opens the file the path names now
            raise sa.exc.DisconnectionError(f"{self.path} was replaced; reopening it")


def _create(url: str, **kw: object) -> Engine:
    try:
        return sa.create_engine(url, **kw)
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ImportError) as exc:
        scheme = url.split("://", 1)[0]
        raise StoreError(f"database URL scheme {scheme!r} is not supported ({exc}); {_URL_HELP}") from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate), as the pysqlite docs advise.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    sqlite_functions(dbapi_connection)


WRITE = {"sqlite_begin": "IMMEDIATE"}  # execution options of a connection that will write


def _sqlite_begin(conn) -> None:
    # A transaction that will write (session_scope, migrations: the WRITE execution option) starts with
    # BEGIN IMMEDIATE: it takes the write lock up front, so two writers wait on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade to a write. Every other
    # transaction only reads and starts DEFERRED: in WAL mode a reader never waits for a writer, so
    # `calls list` stays instant while a long scoring transaction holds the write lock.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine.execution_options(**WRITE)
    return cfg


def upgrade(engine: Engine) -> str | None:
    """Apply every pending migration; returns the new head revision."""
    from alembic import command

    cfg = alembic_config(engine)
    current = current_revision(engine)
    if current is not None and not known_revision(current):
        raise StoreError(f"{describe_url(str(engine.url))}: schema revision {current} is newer than this "
                         f"fundradar knows (its newest is {head_revision()}): a newer fundradar upgraded it; "
                         "run that version against this database, nothing was changed")
    try:
        command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot migrate {describe_url(str(engine.url))}: {exc.orig}") from None
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The schema revision stored in the database; StoreError when the database cannot be reached."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot open database {describe_url(str(engine.url))}: {exc.orig}; "
                         f"{open_advice(exc.orig)}") from None


def known_revision(revision: str) -> bool:
    """The revision is one of this build's migrations; a revision it does not know was written by a
    newer fundradar (alembic cannot upgrade from it, nor should this build write to its schema)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _quick_up_to_date(engine: Engine) -> bool:
    """True when the database is surely at the single head revision, found without importing alembic
    (which costs a command a third of a second); False means "ask alembic"."""
    head = migration_head(MIGRATIONS)
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.ProgrammingError:  # PostgreSQL: no alembic_version table yet
        return False
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc.orig):  # SQLite: a new database
            return False
        raise StoreError(f"cannot open database {describe_url(str(engine.url))}: {exc.orig}; "
                         f"{open_advice(exc.orig)}") from None
    return stored == [head]


def open_database(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema at the newest migration."""
    url = database_url(url)
    engine = create_db_engine(url)
    if migrate and not _quick_up_to_date(engine):
        try:
            up_to_date = current_revision(engine) == head_revision()
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open database {describe_url(url)}: {exc.orig}; "
                             f"{open_advice(exc.orig)}") from None
        if not up_to_date:
            upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: nothing is half-written. It is
    the one way to write: on SQLite its transaction starts with BEGIN IMMEDIATE (see _sqlite_begin)."""
    session = Session(engine.execution_options(**WRITE), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

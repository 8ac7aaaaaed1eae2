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

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.core.errors import StoreError
from pipeline.core.paths import DEFAULT_DB_PATH

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000


def database_url(explicit: str | None = None) -> str:
    """The URL to use: an explicit one, ``FUNDRADAR_DB``, or the default SQLite file."""
    url = explicit or os.environ.get("FUNDRADAR_DB")
    if not url:
        return f"sqlite:///{DEFAULT_DB_PATH}"
    if "://" not in url:  # a plain path means a SQLite file
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def create_db_engine(url: str) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(f"database URL {url!r} is not valid; use sqlite:///PATH or "
                         "postgresql+psycopg://USER@HOST/DB") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate), as the pysqlite docs advise.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


WRITE = {"sqlite_begin": "IMMEDIATE"}  # execution options of a connection that will write


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # A transaction that will write (session_scope, migrations: the WRITE execution option) starts with
    # BEGIN IMMEDIATE: it takes the write lock up front, so two writers wait on busy_timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade to a write. Every other
    # transaction only reads and starts DEFERRED: in WAL mode a reader never waits for a writer, so
    # `calls list` stays instant while a long scoring transaction holds the write lock.
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', 'DEFERRED')}")


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine.execution_options(**WRITE)
    return cfg


def upgrade(engine: Engine) -> str | None:
    """Apply every pending migration; returns the new head revision."""
    from alembic import command

    cfg = alembic_config(engine)
    try:
        command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        raise StoreError(f"cannot migrate {describe_url(str(engine.url))}: {exc.orig}") from None
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]*)['\"]|None)", re.M)


def _quick_up_to_date(engine: Engine) -> bool:
    """True when the database is surely at the single head revision, found without importing alembic
    (which costs a command a third of a second); False means "ask alembic"."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for kind, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        return False
    try:
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    except sa.exc.ProgrammingError:  # PostgreSQL: no alembic_version table yet
        return False
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc.orig):  # SQLite: a new database
            return False
        raise StoreError(f"cannot open database {describe_url(str(engine.url))}: {exc.orig}; check "
                         "FUNDRADAR_DB or --db") from None
    return stored == list(heads)


def open_database(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema at the newest migration."""
    url = database_url(url)
    engine = create_db_engine(url)
    if migrate and not _quick_up_to_date(engine):
        try:
            up_to_date = current_revision(engine) == head_revision()
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open database {describe_url(url)}: {exc.orig}; check "
                             "FUNDRADAR_DB or --db") from None
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

"""Reading the store with SQL text over a plain DB-API connection: the one way read queries are written.

The queries behind the read commands (``calls list``, ``calls why`` of a current call, ``deadlines``)
are written once, here as SQL text, and run on a :class:`Database`: either a connection of its own
(:func:`connect`: ``sqlite3`` for a SQLite file, opened read-only, or ``psycopg`` for PostgreSQL), so a
command that only reads never imports SQLAlchemy, or the DB-API connection under a SQLAlchemy session
(:func:`database`, after a flush), so digests, evaluation, the strategy preview and serve read the same
rows in the same order, their own pending writes included.

The values come back as the ORM gives them (pipeline/core/models.py): :func:`utc` for times (SQLite
keeps UTC as ISO text without an offset), :func:`json_value` for JSON columns, :func:`flag` for
booleans (SQLite stores 0 and 1).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.core.clock import UTC, as_utc
from pipeline.core.paths import DEFAULT_DB_PATH, PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "pipeline" / "core" / "migrations"
BUSY_TIMEOUT_S = 30.0  # as the engine's (pipeline.core.db.BUSY_TIMEOUT_MS)

# libpq waits on a silent peer for ever by default: a frozen server (a VM paused, a network path
# dropping packets, no reset sent) held a query, or a new connection, without end. These bound it: a
# connection idle 30 s is probed every 10 s and dropped after 3 unanswered probes, data unacknowledged
# for 60 s drops it too (a query sent to a server that froze before reading it), and a server that does
# not answer a new connection in 10 s is given up. A database URL's own values are kept.
PG_LIVENESS = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10",
               "keepalives_count": "3", "tcp_user_timeout": "60000", "connect_timeout": "10"}


def pg_liveness(given: Mapping[str, Any]) -> dict[str, str]:
    """The :data:`PG_LIVENESS` parameters the connection parameters ``given`` (a URL's) do not set."""
    return {name: value for name, value in PG_LIVENESS.items() if name not in given}


_NAMED = re.compile(r"(?<![:\w]):(\w+)")  # :name, not a PostgreSQL ::cast
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]*)['\"]|None)", re.M)


def database_url(explicit: str | None = None) -> str:
    """The URL to use: an explicit one, ``FUNDRADAR_DB``, or the default SQLite file; PostgreSQL through
    psycopg whichever way the URL spells it."""
    url = explicit or os.environ.get("FUNDRADAR_DB")
    if not url:
        return f"sqlite:///{DEFAULT_DB_PATH}"
    if "://" not in url:  # a plain path means a SQLite file
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    # libpq's spellings (hosting services hand out postgres://) mean the driver fundradar depends on:
    # SQLAlchemy knows no "postgres" dialect, and its default driver for "postgresql" may be psycopg2
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def in_memory(url: str) -> bool:
    """Whether ``url`` is a SQLite database in memory (``sqlite://``, ``sqlite:///:memory:``, a
    ``file:`` URI of ``:memory:`` or ``mode=memory``): one that is gone when its process ends."""
    if not url.startswith("sqlite") or "://" not in url:
        return False
    rest = url.split("://", 1)[1]
    if not rest.startswith("/"):  # no path: sqlite:// (a host before a path is no SQLite URL)
        return rest.partition("?")[0] == ""
    database, _, query = rest[1:].partition("?")
    if database.startswith("file:"):
        return database.removeprefix("file:") in ("", ":memory:") or "mode=memory" in query
    return database in ("", ":memory:")


def kept_database_url(explicit: str | None = None) -> str:
    """:func:`database_url` for a command; UserInputError for a SQLite database in memory, which every
    command would fill or read as an empty database and lose at its end: a sync's calls stored nowhere."""
    from pipeline.core.errors import UserInputError

    url = database_url(explicit)
    if in_memory(url):
        raise UserInputError(f"database URL {url!r} is a SQLite database in memory, gone when the "
                             "command ends (nothing fetched or changed would be kept); use "
                             "sqlite:///PATH (three slashes, then the file's path) in FUNDRADAR_DB or --db")
    return url


def sqlite_file(url: str) -> str | None:
    """The file of a ``sqlite:///PATH`` URL; None for any other URL (memory, URI options, a server)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:" or "?" in path:
        return None
    return path


class Database:
    """A DB-API connection and its dialect (``sqlite`` or ``postgresql``), for SQL text with named
    ``:param`` placeholders. A list or tuple value expands into ``(:p_0, :p_1, ...)`` for ``IN``."""

    def __init__(self, connection: Any, dialect: str, *, owned: bool = False) -> None:
        self.connection, self.dialect, self._owned = connection, dialect, owned

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(*self._statement(sql, params or {}))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def _statement(self, sql: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        flat: dict[str, Any] = {}

        def place(match: re.Match[str]) -> str:
            name = match.group(1)
            value = params[name]
            if isinstance(value, list | tuple):
                if not value:  # an empty list: IN matches nothing, NOT IN everything
                    return "(SELECT 1 WHERE 1 = 0)"
                names = [f"{name}_{index}" for index in range(len(value))]
                flat.update(zip(names, value, strict=True))
                return "(" + ", ".join(self._marker(n) for n in names) + ")"
            flat[name] = value
            return self._marker(name)

        text = sql if self.dialect == "sqlite" else sql.replace("%", "%%")
        return _NAMED.sub(place, text), flat

    def _marker(self, name: str) -> str:
        return f":{name}" if self.dialect == "sqlite" else f"%({name})s"

    def moment(self, value: datetime) -> Any:
        """``value`` (aware) as a parameter compared with a stored time: on SQLite the UTC text the
        engine stores (``UTCDateTime``: no offset, microseconds), elsewhere the aware value."""
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be compared; give it a time zone")
        if self.dialect == "sqlite":
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def ilike(self, column: str, param: str) -> str:
        """``column`` contains the pattern ``:param`` regardless of case, every letter folded as
        PostgreSQL's ILIKE folds it (SQLite's own lower() and LIKE fold ASCII letters only, so 'öresund'
        would miss 'Öresund' there): on SQLite through :data:`LOWER`, which every connection has
        (:func:`sqlite_functions`)."""
        if self.dialect == "postgresql":
            return f"{column} ILIKE :{param}"
        return f"{LOWER}({column}) LIKE {LOWER}(:{param})"

    def close(self) -> None:
        if self._owned:
            self.connection.close()


LOWER = "fundradar_lower"


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def sqlite_functions(connection: Any) -> None:
    """The SQL functions the queries here use on a SQLite connection (the engine's and :func:`connect`'s)."""
    connection.create_function(LOWER, 1, _lower, deterministic=True)


def database(source: Any) -> Database:
    """A :class:`Database` for a Database (itself) or a SQLAlchemy Session or Connection: the DB-API
    connection under it, after a flush, so the queries see its pending rows inside its transaction."""
    if isinstance(source, Database):
        return source
    if hasattr(source, "flush"):
        source.flush()
    connection = source.connection()
    return Database(connection.connection.driver_connection, connection.dialect.name)


def connect(url: str) -> Database | None:
    """A connection of its own to the database at ``url`` for reading: a SQLite file opened read-only
    (a mistyped path never creates a file), or PostgreSQL through psycopg. None when ``url`` is neither,
    the file does not exist, or it cannot be opened: the caller then goes through the engine
    (pipeline.core.db), which says what is wrong in its usual words."""
    path = sqlite_file(url)
    if path is not None:
        import sqlite3

        if not Path(path).is_file():
            return None
        try:
            connection = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                         isolation_level=None, check_same_thread=False)
            sqlite_functions(connection)
            # one read transaction for the whole command: every query sees the same state, as the
            # engine's session does (in WAL mode a reader never waits for a writer)
            connection.execute("BEGIN")
        except sqlite3.Error:
            return None
        return Database(connection, "sqlite", owned=True)
    scheme, _, rest = url.partition("://")
    if scheme in ("postgresql", "postgresql+psycopg", "postgres"):
        try:
            import psycopg
        except ImportError:
            return None
        try:
            conninfo = f"postgresql://{rest}"
            connection = psycopg.connect(conninfo, **pg_liveness(psycopg.conninfo.conninfo_to_dict(conninfo)))
            connection.read_only = True  # its transactions are READ ONLY: a read never writes
        except psycopg.Error:
            return None
        return Database(connection, "postgresql", owned=True)
    return None


def migration_head(folder: Path = MIGRATIONS) -> str | None:
    """The single head revision of the migration scripts, read from their text (alembic costs a
    command a third of a second to import); None when there is not exactly one."""
    revisions, parents = set(), set()
    for script in (folder / "versions").glob("*.py"):
        for kind, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            if value:
                (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else None


def at_head(db: Database) -> bool:
    """True when the database's schema is surely at the newest migration; False means "ask alembic"
    (a new database, an older schema, or no single head)."""
    head = migration_head()
    if head is None:
        return False
    try:
        stored = [row[0] for row in db.rows("SELECT version_num FROM alembic_version")]
    except Exception:  # no alembic_version table: a new or foreign database
        if db.dialect == "postgresql":
            db.connection.rollback()
        return False
    return stored == [head]


# --- values as the ORM gives them -----------------------------------------------------------------

def utc(value: Any) -> datetime | None:
    """A stored time as aware UTC, as ``UTCDateTime`` reads it: SQLite's ISO text without an offset is
    UTC, PostgreSQL's aware value is converted."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def json_value(value: Any) -> Any:
    """A JSON column's value: SQLite keeps the text, psycopg decodes it already."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """``values`` in slices of ``size``: an ``IN`` list stays within every backend's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start:start + size]

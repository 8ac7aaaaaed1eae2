"""A lock per scheduled job, so one job never runs twice at the same time, also across processes.

- PostgreSQL: a session-level ``pg_try_advisory_lock`` on a key derived from the job name, held on a
  dedicated connection for the duration of the job. The server drops it when the connection closes,
  so a killed ``fundradar serve`` never leaves a stale lock.
- SQLite: an exclusive, non-blocking ``fcntl.flock`` on a file next to the database file
  (``<db>.locks/<job>.lock``). A SQLite database is only ever shared by processes on one machine, and
  the kernel releases the lock when the process dies; a lock row in a table would need an expiry to
  recover from a crash, and its expiry would have to guess how long a run may take. flock locks belong
  to the open file, so two schedulers inside one process exclude each other too.
- An in-memory SQLite database only exists in one process: a process-wide set of held names.

``JobLock(engine, name).acquire()`` never waits: it returns False when the job is running elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_memory_locks: set[tuple[str, str]] = set()
_memory_guard = threading.Lock()


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (pg advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(f"fundradar:{name}".encode()).digest()[:8], "big", signed=True)


def database_file(database: str) -> str | None:
    """The file of a SQLite URL's database part: the path itself, or the path of a ``file:`` URI
    (``sqlite:///file:/x/fundradar.db?mode=ro&uri=true``), whose query would otherwise end up in the
    lock folder's name, relative to the working directory; None for an in-memory database."""
    if database.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(database)
        if "mode=memory" in parts.query or parts.path in ("", ":memory:"):
            return None
        return unquote(parts.path)
    return None if database in ("", ":memory:") else database


def lock_path(database: str, name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "job"
    return Path(f"{database}.locks") / f"{slug}.lock"


class JobLock:
    """A non-blocking lock on one job name; use ``acquire``/``release`` or ``with JobLock(...) as held``."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, name
        self._conn: Any = None
        self._fd: int | None = None
        self._memory_key: tuple[str, str] | None = None
        self.held = False

    def acquire(self) -> bool:
        if self.held:
            return True
        backend = self.engine.url.get_backend_name()
        if backend == "postgresql":
            self.held = self._acquire_pg()
        elif backend == "sqlite" and (path := database_file(self.engine.url.database or "")):
            self.held = self._acquire_file(path)
        else:
            self.held = self._acquire_memory()
        return self.held

    def _acquire_pg(self) -> bool:
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"),
                                    {"key": advisory_key(self.name)}).scalar())
            conn.commit()  # the lock is session-level: it outlives this transaction
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _acquire_file(self, database: str) -> bool:
        import fcntl

        path = lock_path(database, self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        try:  # the holder's pid, for a person looking: the flock is the lock, so a full disk costs only this
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass
        self._fd = fd
        return True

    def _acquire_memory(self) -> bool:
        key = (str(self.engine.url), self.name)
        with _memory_guard:
            if key in _memory_locks:
                return False
            _memory_locks.add(key)
        self._memory_key = key
        return True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": advisory_key(self.name)})
                self._conn.commit()
            except Exception:
                # the session is gone (terminated, the server restarted) or unusable: the server releases
                # a session's advisory locks with it, so closing the connection for good, not back into
                # the pool, releases this one whatever happened; the work done under it stands
                self._conn.invalidate()
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        if self._memory_key is not None:
            with _memory_guard:
                _memory_locks.discard(self._memory_key)
            self._memory_key = None

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def held_elsewhere(engine: Engine, name: str) -> bool | None:
    """Whether another process (or thread) holds the lock ``name`` now; None when it cannot be told (the
    lock folder cannot be written, the database does not answer). Takes the lock for a moment."""
    lock = JobLock(engine, name)
    try:
        got = lock.acquire()
    except Exception:  # a read must not fail for it: unknown
        return None
    lock.release()
    return not got


def hold_for_transaction(session: Any, name: str) -> None:
    """Serialise the transaction of ``session`` with every other one holding ``name``.

    PostgreSQL: ``pg_advisory_xact_lock`` waits for the lock and the server releases it at commit or
    rollback. Two runs of one source that both insert a new call otherwise collide on its unique key
    (READ COMMITTED lets both see the call as new); with the lock the second reads the first's rows
    and updates them. SQLite needs nothing: a writing transaction starts with BEGIN IMMEDIATE, which
    already admits one writer at a time (see :mod:`pipeline.core.db`)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})

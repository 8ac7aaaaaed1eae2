"""An unreachable database server or a hostile database URL: one line naming the database and what to do,
never a traceback, and never the URL's password."""

from __future__ import annotations

import socket
import sqlite3
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.errors import StoreError

SECRET = "S3cr3tPassw0rd"


def _closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", [["db", "status"], ["db", "upgrade"], ["calls", "list"]])
def test_an_unreachable_postgresql_server_is_one_line(command: list[str]) -> None:
    url = f"postgresql+psycopg://fundradar:{SECRET}@127.0.0.1:{_closed_port()}/fundradar"
    result = _run("--db", url, *command)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output and SECRET not in result.stderr
    assert "fundradar:***@127.0.0.1" in result.stderr


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://fundradar:{SECRET}@127.0.0.1:notaport/fundradar",
    f"postgres ql://fundradar:{SECRET}@db/fundradar",
])
@pytest.mark.parametrize("command", [["db", "status"], ["calls", "list"], ["sync"]])
def test_a_malformed_database_url_is_one_line_without_its_password(url: str, command: list[str]) -> None:
    result = _run("--db", url, *command)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database URL ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert SECRET not in result.stderr
    assert "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB" in result.stderr


def _impatient(db_url: str):
    """The test's database through an engine that waits 0.1 s, not 30, for another writer's lock."""
    from pipeline.core.db import create_db_engine

    engine = create_db_engine(db_url)
    sa.event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout = 100"))
    return engine


def test_a_database_locked_by_another_writer_is_one_line(db_url: str) -> None:
    from pipeline.core.db import open_database
    from watcher.store import begin_run

    open_database(db_url).dispose()
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        with pytest.raises(StoreError) as caught:
            begin_run(_impatient(db_url), "eu_ft", datetime(2026, 8, 22, tzinfo=UTC))
    finally:
        holder.rollback()
        holder.close()
    assert str(caught.value) == (f"{db_url} is locked by another writer (another fundradar command, or a "
                                 "tool with the file open); nothing of this write was stored, run the "
                                 "command again when it has finished")

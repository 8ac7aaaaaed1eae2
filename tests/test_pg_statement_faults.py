"""PostgreSQL cancelling a statement: the database's or role's ``statement_timeout`` running out (a DBA's
guard against runaway queries) and an administrator's ``pg_cancel_backend``. Each is one line naming the
database and what to do, and nothing of the write is stored; before, the command ended in psycopg's
QueryCanceled traceback (a sync's scoring, the first step not inside a source run)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa
from sqlmodel import select

from pipeline.core.db import open_database, session_scope
from pipeline.core.errors import StoreError
from pipeline.core.models import Idea


def _admin(pg_url: str) -> str:
    return pg_url.replace("postgresql+psycopg://", "postgresql://")


def test_a_statement_timeout_of_the_database_is_one_line_and_stores_nothing(pg_url: str) -> None:
    open_database(pg_url).dispose()
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE \"{name}\" SET statement_timeout = '200ms'")
    engine = open_database(pg_url)
    with pytest.raises(StoreError) as caught, session_scope(engine) as session:
        moment = datetime(2026, 8, 22, tzinfo=UTC)
        session.add(Idea(title="Kept out", created_at=moment, updated_at=moment))
        session.flush()
        session.execute(sa.text("SELECT pg_sleep(2)"))
    assert str(caught.value) == (
        f"{pg_url} cancelled a statement that ran past its statement_timeout; nothing of this write was "
        "stored, raise statement_timeout for fundradar's database or role (ALTER ROLE … SET "
        "statement_timeout = '5min') and run the command again")
    with session_scope(engine) as session:
        assert session.exec(select(Idea)).all() == []
    engine.dispose()


def test_a_statement_an_administrator_cancelled_is_one_line(pg_url: str) -> None:
    engine = open_database(pg_url)
    pid: list[int] = []

    def cancel() -> None:  # once the session is in its long statement, not before (it would be idle)
        while not pid:
            time.sleep(0.05)
        with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active' "
                    "AND query LIKE 'SELECT pg_sleep%%'", (pid[0],)).fetchone() == (0,):
                time.sleep(0.05)
            conn.execute("SELECT pg_cancel_backend(%s)", (pid[0],))

    thread = threading.Thread(target=cancel)
    thread.start()
    with pytest.raises(StoreError) as caught, session_scope(engine) as session:
        pid.append(session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        session.execute(sa.text("SELECT pg_sleep(120)"))
    thread.join()
    assert str(caught.value) == (
        f"{pg_url}: another session cancelled this command's statement (pg_cancel_backend); nothing of "
        "this write was stored, run the command again")
    engine.dispose()


def test_a_sync_under_a_statement_timeout_ends_in_one_line(pg_url: str, samples) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    open_database(pg_url).dispose()
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        # Scoring, the first step outside a source run, gets a statement that is sure to run long
        # (storing a verdict waits half a second), so the outcome does not hang on how fast this
        # machine runs the sync's small statements.
        conn.execute("CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$")
        conn.execute('CREATE TRIGGER slow_insert BEFORE INSERT ON verdict '
                     "FOR EACH ROW EXECUTE FUNCTION slow_insert()")
        conn.execute(f"ALTER DATABASE \"{name}\" SET statement_timeout = '100ms'")
    result = CliRunner().invoke(app, ["--db", pg_url, "sync", "--replay", str(samples / "euro_access")],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    # the sources' table comes first (the sync stored its runs), then the scoring step's one line
    assert errors == [f"Error: scoring strategy 'greentech-dk' failed: {pg_url} cancelled a statement that "
                      "ran past its statement_timeout; nothing of this write was stored, raise "
                      "statement_timeout for fundradar's database or role (ALTER ROLE … SET "
                      "statement_timeout = '5min') and run the command again (the sources' runs are "
                      "stored; `fundradar score` finishes the scoring)"], result.output
    assert result.output.index("euro_access ") < result.output.index("Error: scoring"), result.output
    assert "Traceback" not in result.output

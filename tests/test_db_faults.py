"""Database faults are one line naming the database and what to do, and nothing is half-written: a
full disk, a read-only file or file system, a file that is not a database, an unknown URL scheme;
on PostgreSQL two simultaneous runs of one source both complete (the run lock holds for writes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.core.db import create_db_engine, open_database
from pipeline.core.errors import FetchError, StoreError
from pipeline.core.models import Call, FetchRun
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import SEARCH, Portal, eu_ft
from watcher.http import fetch_text, make_client
from watcher.records import CallRecord
from watcher.runner import run_source
from watcher.store import begin_run, finish_run

NOW = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent


def records(count: int) -> list[CallRecord]:
    return [CallRecord(external_id=f"C{n}", title=f"Call {n} " + "x" * 2000, text="y" * 4000)
            for n in range(count)]


def test_disk_full_writes_nothing_and_says_so(db_url: str) -> None:
    engine = open_database(db_url)
    full = create_db_engine(db_url)  # the same file, on a "disk" that holds only a few more pages
    sa.event.listen(full, "connect", lambda conn, _: conn.execute("PRAGMA max_page_count = 40"))
    run_id = begin_run(engine, "eu_ft", NOW)
    with pytest.raises(StoreError) as caught:
        finish_run(full, run_id, records(500), NOW, complete=True)
    message = str(caught.value)
    assert message == (f"the disk holding {db_url} is full; nothing of this write was stored, free some "
                       "space and run the command again")
    with Session(engine) as session:
        assert session.exec(select(Call)).all() == []
        assert session.get(FetchRun, run_id).outcome == "running"  # the runner then marks it failed


def test_read_only_database_file(db_url: str) -> None:
    open_database(db_url).dispose()
    path = db_url.removeprefix("sqlite:///")
    read_only = open_database(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StoreError, match=r"is read-only; nothing was written, make the file and its folder "
                                         r"writable or point FUNDRADAR_DB / --db at a writable database$"):
        begin_run(read_only, "eu_ft", NOW)


def test_not_a_database_and_unknown_scheme_are_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"these are my notes, not a database\n" * 200)
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(junk), "calls", "list"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: sqlite:///{junk} is not a SQLite database; point FUNDRADAR_DB / "
                             "--db at a fundradar database (a new path creates one)\n")
    assert junk.read_bytes() == b"these are my notes, not a database\n" * 200  # untouched
    result = runner.invoke(app, ["--db", "mysqlx://db/fundradar", "db", "status"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database URL scheme 'mysqlx' is not supported (")
    assert result.stderr.endswith("use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB\n")
    assert result.stderr.count("\n") == 1


def _can_mount_read_only() -> bool:
    return shutil.which("unshare") is not None and os.geteuid() == 0 and subprocess.run(
        ["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs root and unshare to mount a read-only folder")
def test_db_status_on_a_read_only_file_system(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    open_database(str(folder / "fundradar.db")).dispose()
    fundradar = Path(sys.executable).with_name("fundradar")
    script = (f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && "
              f"{fundradar} --db {folder / 'fundradar.db'} db status")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"Error: sqlite:///{folder / 'fundradar.db'} is on a read-only file system; point "
                           "FUNDRADAR_DB / --db at a database on a writable disk\n")


def test_two_simultaneous_runs_of_one_source_on_postgresql(pg_url: str, server: LocalServer,
                                                           samples: Path) -> None:
    """Both runs read every page before either writes (the last page waits for both), then both
    write the same 731 new calls: the second waits for the first and updates its rows."""
    engine = open_database(pg_url)
    portal = Portal(server, samples)
    both_on_last_page = threading.Barrier(2, timeout=30)
    answer = portal.handle

    def last_page_waits(request):
        if request.query.get("pageNumber") == ["8"]:
            both_on_last_page.wait()
        return answer(request)

    server.route("POST", SEARCH, last_page_waits)
    results: list = []

    def one_run() -> None:
        with make_client(retries=0) as client:
            results.append(run_source(engine, eu_ft(server), client, NOW))

    try:
        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert sorted((r.outcome, r.error) for r in results) == [("ok", None), ("ok", None)]
        assert sorted(r.new for r in results) == [0, 731]
        with Session(engine) as session:
            assert len(session.exec(select(Call)).all()) == 731
            assert {r.outcome for r in session.exec(select(FetchRun))} == {"ok"}
    finally:
        engine.dispose()


def test_dripping_answer_hits_the_total_limit(server: LocalServer) -> None:
    # a byte every 0.05 s, far inside the 1 s read timeout however loaded the machine; the whole body
    # would take 60 s, far past the 3 s total limit
    server.route("GET", "/drip", lambda request: Reply(200, b"x" * 1200, {"Content-Type": "text/plain"},
                                                       drip=0.05))
    with make_client(retries=0, timeout=1) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, server.url("/drip"), source="slow")
    assert str(caught.value) == (f"source 'slow': {server.url('/drip')} was still arriving after its total "
                                 "time limit (a slow, dripping answer); try again later or raise "
                                 "timeout_seconds")


def test_an_at_sign_in_a_password_is_named_without_showing_the_password(cli) -> None:
    """A password with an unescaped "@" made the driver look up its end as the host, and the error
    showed it twice: "postgres:***@pw@127.0.0.1" and "failed to resolve host 'pw@127.0.0.1'"."""
    result = cli("--db", "postgresql+psycopg://postgres:s3cret@pw@127.0.0.1:5432/test", "calls", "list")
    assert result.exit_code == 1
    assert "pw" not in result.stderr.replace("psycopg", "") and "s3cret" not in result.stderr
    assert result.stderr == ("Error: database URL 'postgresql+psycopg://postgres:***@127.0.0.1:5432/test' "
                             "has more than one '@' before its host; write an '@' of the password as %40, "
                             "e.g. postgresql+psycopg://USER:PA%40SS@HOST/DB\n")

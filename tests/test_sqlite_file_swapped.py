"""The SQLite file deleted or replaced under a running process (``serve``, a long ``sync``): an open
connection keeps writing into the deleted file's inode, so every write "succeeded" and was lost when the
process ended, and a replaced file (a backup restored with ``mv``) never saw them. Now a deleted file is
one line at the next write, nothing written and no empty database made in its place; a replaced file
is reopened and the write goes into it. Real SQLite files; serve's source job as the scheduler runs it,
its feed served by the local server."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.core.db import open_database, session_scope
from pipeline.core.errors import StoreError
from pipeline.core.models import Call, Idea
from pipeline.serve import Service
from tests.localserver import LocalServer, Reply
from tests.test_serve_faults import FEED, feed_config

MOMENT = datetime(2026, 8, 22, tzinfo=UTC)


def _idea(title: str) -> Idea:
    return Idea(title=title, created_at=MOMENT, updated_at=MOMENT)


def _remove(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def test_a_database_deleted_under_an_open_engine_refuses_the_next_write(db_url: str) -> None:
    path = db_url.removeprefix("sqlite:///")
    engine = open_database(db_url)
    with session_scope(engine) as session:
        session.add(_idea("before"))
    _remove(path)
    with pytest.raises(StoreError) as caught, session_scope(engine) as session:
        session.add(_idea("after"))
    assert str(caught.value) == (
        f"{db_url} was deleted while this fundradar process had it open; nothing of this write was stored, "
        "restore the file from a backup, or restart the process to start a new, empty database")
    assert not os.path.exists(path)  # no empty database made in its place
    engine.dispose()


def test_a_database_replaced_under_an_open_engine_is_reopened(db_url: str, tmp_path: Path) -> None:
    path = db_url.removeprefix("sqlite:///")
    engine = open_database(db_url)
    with session_scope(engine) as session:
        session.add(_idea("in the old file"))
    with engine.connect() as conn:  # a backup made with SQLite's own VACUUM INTO
        conn.connection.driver_connection.execute("VACUUM main INTO ?", (str(tmp_path / "copy.db"),))
    engine2 = open_database(f"sqlite:///{tmp_path / 'copy.db'}")
    with session_scope(engine2) as session:
        session.add(_idea("restored"))
    engine2.dispose()
    _remove(path)
    shutil.move(tmp_path / "copy.db", path)  # a backup restored with mv while the process runs
    with session_scope(engine) as session:
        session.add(_idea("after the restore"))
    engine.dispose()
    check = sa.create_engine(db_url)
    with Session(check) as session:
        titles = sorted(i.title for i in session.exec(select(Idea)))
    check.dispose()
    assert titles == ["after the restore", "in the old file", "restored"]


def test_serve_source_job_on_a_deleted_database_logs_one_line_and_stores_nothing(
        db_url: str, tmp_path: Path, server: LocalServer, caplog) -> None:
    path = db_url.removeprefix("sqlite:///")
    rss = {"Content-Type": "application/rss+xml"}
    server.route("GET", "/feed.xml", lambda r: Reply(200, FEED.read_bytes(), rss))
    engine = open_database(db_url)
    service = Service(engine, feed_config(tmp_path, server.url("/feed.xml")), digests=False)
    service.run_source("bsr_news")
    with Session(engine) as session:
        stored = len(session.exec(select(Call)).all())
    assert stored > 0
    _remove(path)
    with caplog.at_level(logging.WARNING):
        assert service.run_source("bsr_news") is None
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines and all("was deleted while this fundradar process had it open" in line for line in lines)
    assert all("\n" not in line for line in lines)
    assert not os.path.exists(path)
    engine.dispose()

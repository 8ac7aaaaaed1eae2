"""PostgreSQL ending the session that holds a source's run lock while the source is fetched (an
administrator's pg_terminate_backend, a connection killed by a proxy or an idle timeout): the server
releases a session's advisory locks with it, so there is nothing left to unlock. Before, releasing the
lock on the dead connection raised "lost the connection" out of the finished run: its result was
reported as a failure though it was stored, and in ``fundradar sync`` the sources after it never ran.
The real server, two feeds served by the local server, the session ended from another connection."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
from sqlmodel import Session, select

from pipeline.core.config import LoadedConfig, load_config
from pipeline.core.db import open_database
from pipeline.core.models import FetchRun
from pipeline.sync import plan_sources, run_sources
from tests.localserver import LocalServer, Reply
from tests.test_serve_faults import FEED

RSS = {"Content-Type": "application/rss+xml"}


def two_feeds(tmp_path: Path, server: LocalServer) -> LoadedConfig:
    path = tmp_path / "two.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          first: {{type: feed, url: '{server.url("/first/")}', programme: X}}
          second: {{type: feed, url: '{server.url("/second/")}', programme: X}}
        """), encoding="utf-8")
    return load_config(path)


def test_the_run_lock_session_ended_mid_fetch_keeps_the_run_and_the_next_source(
        pg_url: str, server: LocalServer, tmp_path: Path) -> None:
    admin = pg_url.replace("postgresql+psycopg://", "postgresql://")
    ended: list[int] = []

    def first(_request) -> Reply:  # while the run lock is held: end the session holding it
        with psycopg.connect(admin, autocommit=True) as conn:
            pids = [row[0] for row in conn.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid <> pg_backend_pid()")]
            for pid in pids:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            ended.extend(pids)
        return Reply(200, FEED.read_bytes(), RSS)

    server.route("GET", "/first/", first)
    server.route("GET", "/second/", lambda r: Reply(200, FEED.read_bytes(), RSS))
    engine = open_database(pg_url)
    config = two_feeds(tmp_path, server)
    runs = run_sources(engine, plan_sources(engine, config))
    assert ended  # the lock's session was there and was ended
    assert [(r.source, r.outcome) for r in runs] == [("first", "ok"), ("second", "ok")]
    with Session(engine) as session:
        assert sorted((r.source, r.outcome) for r in session.exec(select(FetchRun))) == [
            ("first", "ok"), ("second", "ok")]
    engine.dispose()

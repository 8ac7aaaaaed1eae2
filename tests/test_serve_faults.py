"""``fundradar serve``'s jobs under faults, each run as the scheduler's job function runs it
(:meth:`pipeline.serve.Service.run`): the database going away mid-run or being down when a job starts is
one logged line per job, never an exception out of the job (APScheduler logs that with a traceback, at
every interval)."""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from pipeline.core.config import LoadedConfig, load_config
from pipeline.core.db import open_database
from pipeline.serve import JOB_TABLE, Service
from tests.localserver import LocalServer, Reply
from tests.test_hostile_audit_pg_gone import Relay

FEED = Path(__file__).resolve().parent / "fixtures" / "feed" / "interreg_baltic_feed.xml"


def feed_config(tmp_path: Path, url: str) -> LoadedConfig:
    path = tmp_path / "strategy.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          bsr_news: {{type: feed, url: '{url}', programme: Interreg Baltic Sea Region,
                      schedule: {{every: 1h, jitter_seconds: 0}}}}
        """), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def relayed(pg_url: str) -> Iterator[tuple[str, Relay]]:
    parts = urlsplit(pg_url)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    yield pg_url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{relay.port}"), relay
    relay.cut()


def test_postgresql_going_away_mid_job_and_down_at_the_next_is_one_line_each(
        relayed, server: LocalServer, tmp_path: Path, caplog) -> None:
    url, relay = relayed
    engine = open_database(url)

    def answer(request):  # the server goes away while the source answers
        relay.cut()
        return Reply(200, FEED.read_bytes(), {"Content-Type": "application/rss+xml"})

    server.route("GET", "/feed/", answer)
    service = Service(engine, feed_config(tmp_path, server.url("/feed/")), digests=False, reload_seconds=0)
    service.declared.update({job: spec for job, spec in service.job_specs().items()})
    caplog.set_level(logging.WARNING)
    try:
        assert service.run("source", "bsr_news") is None  # mid-run
        assert service.run("source", "bsr_news") is None  # down when the job starts
    finally:
        engine.dispose()
    lines = [r.getMessage() for r in caplog.records if r.name == "pipeline.serve"]
    assert len(lines) == 2, lines
    # the run's store finds the server gone (releasing the run lock on the dead session is no error)
    assert lines[0].startswith("source bsr_news could not run: cannot open database ")
    assert lines[1].startswith("job source:bsr_news could not run: cannot open database ")
    assert all(r.exc_info is None for r in caplog.records)


def test_a_run_due_while_serve_restarted_still_happens(server: LocalServer, engine, tmp_path: Path) -> None:
    """Next run times live in the job store so that they survive a restart: a run that fell due while
    serve was down for a moment (an upgrade, a reboot) happens when it is back, within the grace time,
    instead of waiting a whole interval (a day for a daily source, a week for a weekly digest)."""
    rss = {"Content-Type": "application/rss+xml"}
    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), rss))
    config = feed_config(tmp_path, server.url("/feed/"))
    first = Service(engine, config, digests=False, reload_seconds=0)
    first.start()
    first.stop()
    # the job store as a stop of an hour leaves it: the run fell due a minute ago, while serve was down
    store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job("source:bsr_news")
    assert job is not None and job.next_run_time > datetime.now(UTC) + timedelta(minutes=59)
    job.next_run_time = datetime.now(UTC) - timedelta(minutes=1)
    store.update_job(job)
    assert server.requests == []
    second = Service(engine, config, digests=False, reload_seconds=0)
    second.start()
    try:
        deadline = time.monotonic() + 60
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        second.stop()
    assert len(server.requests) == 1


def two_feeds(tmp_path: Path, server: LocalServer) -> LoadedConfig:
    path = tmp_path / "two.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          slow: {{type: feed, url: '{server.url("/slow/")}', programme: X,
                  schedule: {{every: 1h, jitter_seconds: 0}}}}
          quick: {{type: feed, url: '{server.url("/quick/")}', programme: X,
                   schedule: {{every: 1h, jitter_seconds: 0}}}}
        """), encoding="utf-8")
    return load_config(path)


def test_a_run_falling_due_while_serve_stops_runs_after_the_restart(
        server: LocalServer, engine, tmp_path: Path) -> None:
    """Stopping waits for the running jobs; a run falling due meanwhile is not started, and stays due
    for the next start instead of being counted as run (which moved it a whole interval on)."""
    rss = {"Content-Type": "application/rss+xml"}
    quick_due: list[datetime] = []

    def slow(request):  # answers only once quick's due time has passed, so it falls due during the stop
        while not quick_due or datetime.now(UTC) < quick_due[0] + timedelta(seconds=0.5):
            time.sleep(0.05)
        return Reply(200, FEED.read_bytes(), rss)

    server.route("GET", "/slow/", slow)
    server.route("GET", "/quick/", lambda r: Reply(200, FEED.read_bytes(), rss))
    config = two_feeds(tmp_path, server)
    first = Service(engine, config, digests=False, reload_seconds=0)
    first.start()
    first.scheduler.modify_job("source:slow", next_run_time=datetime.now(UTC))
    while not any(r.path == "/slow/" for r in server.requests):
        time.sleep(0.02)
    # two seconds for this thread to reach stop() (which pauses the scheduler at once), however loaded
    # the machine; slow's run holds the stop until they have passed
    quick_due.append(datetime.now(UTC) + timedelta(seconds=2))
    first.scheduler.modify_job("source:quick", next_run_time=quick_due[0])
    first.stop()  # waits for slow's run; quick falls due meanwhile
    assert [r.path for r in server.requests] == ["/slow/"]
    second = Service(engine, config, digests=False, reload_seconds=0)
    second.start()
    try:
        deadline = time.monotonic() + 60
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        second.stop()
    assert [r.path for r in server.requests] == ["/slow/", "/quick/"]


@pytest.mark.slow
@pytest.mark.postgres
def test_a_postgresql_table_locked_by_another_session_is_one_line_not_a_hang(pg_url: str) -> None:
    """A session holding a lock fundradar's write needs (a forgotten transaction in psql, a maintenance
    LOCK TABLE) made the run wait for ever: serve's job never ended and every later run of the source was
    skipped as "already running". It now gives up after the 30 s a SQLite write waits, in one line."""
    import threading

    import psycopg

    from pipeline.core.errors import StoreError
    from watcher.store import begin_run

    engine = open_database(pg_url)
    holder = psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    holder.execute("LOCK TABLE fetch_run IN ACCESS EXCLUSIVE MODE")  # and the transaction stays open
    outcome: list[BaseException | int] = []

    def write() -> None:
        try:
            outcome.append(begin_run(engine, "eu_ft", datetime(2026, 8, 22, tzinfo=UTC)))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=write, daemon=True)
    worker.start()
    worker.join(timeout=60)
    holder.rollback()
    holder.close()
    worker.join(timeout=10)
    engine.dispose()
    assert outcome, "the write still waited for the lock after a minute"
    (error,) = outcome
    assert isinstance(error, StoreError), error
    assert str(error).startswith(f"{pg_url} is locked by another session for more than 30 s")


def test_a_digest_slack_failed_at_its_time_is_retried_within_its_period(engine, monkeypatch) -> None:
    """serve's digest job runs once a period: a Slack outage at that moment (HTTP 500 on every post)
    left the week without a digest until the next one superseded it. The job now tries again soon,
    while the period lasts, and the digest arrives once Slack is back."""
    from tests.slack_data import CONFIG, NOW, TOKEN, add_call
    from tests.slack_server import SlackServer

    add_call(engine, 1, score=0.7)
    config = load_config(CONFIG)
    with SlackServer(token=TOKEN) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # serve reads Slack's settings from its environment
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        service = Service(engine, config, now=lambda: NOW, reload_seconds=0, retry_seconds=0.5)
        service.start()
        try:
            slack.fail_next("chat.postMessage", "500", times=3)  # every post of this run
            (outcome,) = service.run("digest", "#eu-fundraising")
            assert outcome.status == "failed"
            deadline = time.monotonic() + 60
            while not slack.messages and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            service.stop()
        assert len(slack.posted_to("#eu-fundraising")) == 1

"""Faults met for real, round six, through the real client against local servers into a real SQLite
file (and the real scheduler): what one failing source leaves for the next, and what a restart finds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.core.config import FeedSource
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply, Request
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter

FEED = FIXTURES / "feed" / "interreg_baltic_feed.xml"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# Two sources on one host (a funder's news feed and its calls feed, two programmes of one portal): the
# first failing after its retries (its path down) had the second, run next in the same `fundradar sync`,
# refused its retries ("not retried: the host failed so after its retries earlier in this run"), so a
# 503 a retry would have passed failed it too: one failing source stopped another.


def test_a_source_failing_after_its_retries_leaves_the_next_source_on_its_host_its_retries(
        server: LocalServer, engine) -> None:
    server.route("GET", "/down/", lambda r: Reply(503, b"busy", {"Retry-After": "0"}))
    answers = [Reply(503, b"busy", {"Retry-After": "0"}), Reply(200, FEED.read_bytes(), RSS)]

    def news(_request: Request) -> Reply:
        return answers.pop(0) if answers else Reply(200, FEED.read_bytes(), RSS)

    server.route("GET", "/news/", news)
    down = FeedAdapter("down", FeedSource(type="feed", url=server.url("/down/"), programme="X"))
    up = FeedAdapter("news", FeedSource(type="feed", url=server.url("/news/"), programme="X"))
    with make_client(timeout=10, backoff=0.01) as client:  # one client for the sync, as `sync` has
        first = run_source(engine, down, client, NOW)
        second = run_source(engine, up, client, NOW)
    assert first.outcome == "failed"
    assert (second.outcome, second.new) == ("ok", 2), second.error
    assert [r.path for r in server.requests] == ["/down/"] * 4 + ["/news/"] * 2


# A weekly digest falling due while serve was down for more than the scheduler's misfire grace of 15
# minutes (a reboot for updates at 07:50 taking half an hour, a laptop asleep, the clock of a VM put
# forward after a pause) was skipped: APScheduler logged "Run time of job … was missed" and the digest
# waited a whole week. Its own period log keeps a digest to one post per period, so run late it is the
# period's digest, once.


def test_a_digest_that_fell_due_long_before_serve_came_back_is_still_posted(engine, monkeypatch) -> None:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from pipeline.core.config import load_config
    from pipeline.serve import JOB_TABLE, Service
    from tests.slack_data import CONFIG, TOKEN, add_call
    from tests.slack_data import NOW as MONDAY
    from tests.slack_server import SlackServer

    add_call(engine, 1, score=0.7)
    config = load_config(CONFIG)
    with SlackServer(token=TOKEN) as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        first = Service(engine, config, now=lambda: MONDAY, reload_seconds=0)
        first.start()
        first.stop()
        # the job store as a stop of two hours leaves it: the digest fell due an hour ago
        store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
        store.start(BackgroundScheduler(), "default")
        job = store.lookup_job("digest:#eu-fundraising")
        assert job is not None
        job.next_run_time = datetime.now(UTC) - timedelta(hours=1)
        store.update_job(job)
        second = Service(engine, config, now=lambda: MONDAY, reload_seconds=0)
        second.start()
        try:
            deadline = time.monotonic() + 60
            while not slack.posted_to("#eu-fundraising") and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            second.stop()
        assert len(slack.posted_to("#eu-fundraising")) == 1


# Slack rate-limiting chat.update (`ratelimited`, HTTP 429 with Retry-After: a burst of clicks on one
# digest) left the message as it was: the click was stored, but nobody else saw it, and the clicker was
# told "Slack did not redraw the message (ratelimited)". A short wait Slack asks for is now waited.


def test_a_redraw_slack_rate_limits_is_sent_after_the_wait_it_asks_for(engine, caplog) -> None:
    from pipeline.notify.socket import start_interactions, stop_interactions
    from tests.slack_clicks import click, digest, env, marks, tracebacks
    from tests.slack_data import NOW as MONDAY
    from tests.slack_data import TOKEN, add_call, loaded
    from tests.slack_socket import SocketSlack

    call = add_call(engine, 1, score=0.7)
    config = loaded()
    with SocketSlack(token=TOKEN) as slack:
        posted = digest(engine, slack)
        runners = start_interactions(engine, lambda: config, environ=env(slack), now=lambda: MONDAY)
        slack.socket.wait_connected()
        try:
            slack.fail_next("chat.update", "429", retry_after=1)
            slack.socket.send(click(posted, "relevant", call))
            assert runners[0].wait_handled(1, timeout=60)
        finally:
            stop_interactions(runners)
        assert marks(engine) == [(call, None, "relevant", "mette")]
        assert len(slack.updates) == 1
        assert slack.ephemeral == []
    assert tracebacks(caplog) == []


# A server closing every connection without an answer (a crashing backend behind its proxy, a rate
# limiter dropping the client) read "cannot fetch URL (RemoteProtocolError: Server disconnected without
# sending a response.); check the URL and the network": nothing of its three retries, and a URL that was
# fine to check.


def test_a_server_hanging_up_without_an_answer_says_so_with_its_retries(server: LocalServer, engine) -> None:
    from tests.localserver import Drop

    def hang_up(_request: Request) -> Reply:
        raise Drop()

    server.route("GET", "/feed", hang_up)
    adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed"), programme="X"))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    assert result.error == (f"cannot fetch {server.url('/feed')}: the server closed the connection without "
                            "answering (after 3 retries); the site is failing, try again later")
    assert len(server.requests) == 4


# `fundradar serve` stopped (SIGTERM from systemd or docker) while a source hung: the stop waited for
# the source's every retry of the hanging request and every page after it (4 x 3 x timeout_seconds per
# page, minutes), so the supervisor killed serve (SIGKILL after 90 s, docker's after 10 s). A stop now
# lets the request in flight end but sends no retry and no further request; the run is recorded.


def test_a_stop_of_serve_sends_no_retry_of_a_hanging_source(server: LocalServer, engine,
                                                           tmp_path) -> None:
    import textwrap
    import threading

    from sqlmodel import Session, select

    from pipeline.core.config import load_config
    from pipeline.core.models import FetchRun
    from pipeline.serve import Service

    released = threading.Event()

    def hanging(_request: Request) -> Reply:
        released.wait(60)
        return Reply(200, FEED.read_bytes(), RSS)

    server.route("GET", "/feed/", hanging)
    path = tmp_path / "strategy.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          slow: {{type: feed, url: '{server.url("/feed/")}', programme: X, timeout_seconds: 5,
                  schedule: {{every: 1h, jitter_seconds: 0}}}}
        """), encoding="utf-8")
    service = Service(engine, load_config(path), digests=False, reload_seconds=0)
    service.start()
    try:
        service.scheduler.modify_job("source:slow", next_run_time=datetime.now(UTC))
        deadline = time.monotonic() + 60
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        service.stop()  # while the first attempt waits for its answer
    finally:
        released.set()
    assert len(server.requests) == 1
    with Session(engine) as session:
        run = session.exec(select(FetchRun)).one()
    assert run.outcome == "failed"
    assert run.error == (f"timed out fetching {server.url('/feed/')} (not retried: fundradar serve is "
                         "stopping); try again later or raise timeout_seconds")


# A valid config edit that serve noticed while its database refused writes (the file moved away for a
# moment, a full disk, the server restarting): storing the changed jobs raised out of the check, with a
# traceback, and out of the job that ran it (the job did not run); the edit counted as read, so its
# jobs were never stored: a source added to the config was skipped as "no longer in the config" until
# serve restarted. The edit is now applied at the next check once the database takes writes again.


def test_a_config_edit_met_by_a_database_refusing_writes_is_applied_once_it_takes_them(
        server: LocalServer, db_url: str, engine, tmp_path, caplog) -> None:
    import logging
    import os
    import textwrap

    from pipeline.core.config import load_config
    from pipeline.serve import Service

    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), RSS))

    def strategy(*names: str) -> str:
        sources = "".join(f"  {name}: {{type: feed, url: '{server.url('/feed/')}', programme: X, "
                          "schedule: {every: 1h, jitter_seconds: 0}}\n" for name in names)
        return textwrap.dedent("""\
            name: faults
            organisation: Test Cluster
            focus_areas:
              energy: {label: Energy, keywords: [offshore wind, hydrogen]}
            sources:
            """) + sources

    path = tmp_path / "strategy.yaml"
    path.write_text(strategy("first"), encoding="utf-8")
    service = Service(engine, load_config(path), digests=False, reload_seconds=0)
    service.start()
    database = db_url.removeprefix("sqlite:///")
    try:
        path.write_text(strategy("first", "second"), encoding="utf-8")
        os.rename(database, database + ".away")  # the database refuses every write for a moment
        try:
            assert service.check_config() is False
        finally:
            os.rename(database + ".away", database)
        # only the config check's own lines: a source job the scheduler ran meanwhile may warn too
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(
            ("pipeline.serve", "fundradar.serve")) and r.getMessage().startswith("config ")]
        assert len(warnings) == 1 and warnings[0].exc_info is None
        assert warnings[0].getMessage().startswith(f"config {path} changed and is valid, but its jobs could "
                                                   "not be stored (")
        assert service.check_config() is True
        assert service.scheduler.get_job("source:second") is not None
        result = service.run("source", "second")
        assert result is not None and result.outcome == "ok"
    finally:
        service.stop()


# A sync killed mid-run (cron's `timeout` sending SIGTERM, the OOM killer, a reboot) left its run row
# "running", and `sources status` showed the source as running, its columns empty and no error, until
# the source's next run (a day later for a daily cron): a monitor reading `--json` saw nothing wrong.
# A run no process holds any more now reads as the interrupted failure the next run records it as.


def test_a_sync_killed_mid_run_shows_as_interrupted_not_as_running(server: LocalServer, db_url: str,
                                                                    tmp_path, cli) -> None:
    import json
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import threading

    from tests.conftest import ROOT

    released = threading.Event()

    def hanging(_request: Request) -> Reply:
        released.wait(60)
        return Reply(200, FEED.read_bytes(), RSS)

    server.route("GET", "/feed/", hanging)
    config = tmp_path / "strategy.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          news: {{type: feed, url: '{server.url("/feed/")}', programme: X}}
        """), encoding="utf-8")
    fundradar = Path(sys.executable).with_name("fundradar")
    sync = subprocess.Popen([str(fundradar), "--db", db_url, "--config", str(config), "sync"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests, "the sync never asked the source"
        (live,) = json.loads(cli("--config", str(config), "sources", "status", "--json").stdout)
        assert (live["outcome"], live["last_error"]) == ("running", None)  # alive: running it is
        os.kill(sync.pid, signal.SIGKILL)
        sync.wait(timeout=30)
    finally:
        released.set()
        if sync.poll() is None:
            sync.kill()
    done = cli("--config", str(config), "sources", "status", "--json")
    assert done.exit_code == 0, done.output
    (row,) = json.loads(done.stdout)
    assert (row["outcome"], row["consecutive_failures"]) == ("failed", 1)
    assert row["last_error"] == ("interrupted: the run never finished (its process stopped or was "
                                 "killed); nothing of it was stored")


# The SEDIA search moved, its old address answering 301 to the new one: httpx follows a 301 (302, 303)
# of a POST with a GET, as browsers do, and the new address refused the bodiless GET with 405. The run
# failed as "HTTP 405 from <old address> (not retried: the server refuses this request); check the URL
# and the source config", naming neither the redirect nor the address that refused, and the URL the
# secretariat checks is the one that still redirects. The failure now names both and what to set.


def test_a_moved_search_redirecting_the_post_as_a_get_names_the_new_address(server: LocalServer,
                                                                            engine) -> None:
    from pipeline.core.config import EuFtSource
    from watcher.sources import BuildContext
    from watcher.sources.eu_ft import EuFtAdapter

    old, new = server.url("/api/search"), server.url("/api/v2/search")
    server.route("POST", "/api/search", lambda r: Reply(301, b"", {"Location": "/api/v2/search"}))
    server.route("GET", "/api/v2/search", lambda r: Reply(405, b"Method Not Allowed",
                                                          {"Content-Type": "text/plain", "Allow": "POST"}))
    adapter = EuFtAdapter("eu_ft", EuFtSource(type="eu_ft", url=old), BuildContext())
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    asked = [(r.method, r.path) for r in server.requests]
    assert asked == [("POST", "/api/search"), ("GET", "/api/v2/search")]
    assert result.error == (f"HTTP 405 from {old} (page 1, Horizon Europe), redirected to {new} and asked "
                            "there with GET (a 301, 302 or 303 redirect drops a POST's body); set the "
                            f"source's url to {new}")


# `fundradar run` (the cron job: sync, score, digest) whose digest step failed (a bot token with no
# digest channel to post to, another process holding the digest's send lock for minutes, the database
# failing at that step) printed only that error: the sync had run and stored its calls, but its per-source
# summary, a source that failed among them, was never shown. The summary now comes first, then the error.


def test_a_run_whose_digest_step_fails_still_shows_what_the_sync_did(server: LocalServer, tmp_path,
                                                                     cli) -> None:
    import textwrap

    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), RSS))
    server.route("GET", "/down/", lambda r: Reply(404, b"gone", {"Content-Type": "text/plain"}))
    config = tmp_path / "strategy.yaml"
    config.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          news: {{type: feed, url: '{server.url("/feed/")}', programme: X}}
          old: {{type: feed, url: '{server.url("/down/")}', programme: X}}
        """), encoding="utf-8")
    done = cli("--config", str(config), "run", env={"SLACK_BOT_TOKEN": "xoxb-test",
                                                     "SLACK_API_URL": server.url("/api/")})
    assert done.exit_code == 2, done.output
    lines = done.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["news", "old"], done.stderr
    assert lines[1] == (f"old: failed, 0 seen, 0 new, 0 changed, 0 closed, 0 removed (HTTP 404 from "
                        f"{server.url('/down/')} (the page is not there); check the URL, the page may have "
                        "moved)")
    assert "No digest to send." not in done.stderr
    assert lines[-1] == (f"Error: {config}: slack.digests: no digest channel configured, so the bot token "
                         "has none to post to; add one, e.g. digests: [{channel: '#eu-funding'}]")

"""Faults met for real, round five: the network's proxies from the environment, through the real client
against local servers into a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.config import FeedSource
from pipeline.core.db import open_database
from tests.conftest import FIXTURES, ROOT
from tests.localserver import LocalServer, Reply, closed_port
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter

FEED = FIXTURES / "feed" / "interreg_baltic_feed.xml"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# A network reaching the web only through its proxy (HTTPS_PROXY, HTTP_PROXY) had every source fail:
# the watcher's client, built on a transport of its own for its retries and limits, is sent by httpx
# past the environment's proxies, straight to the funder's host, which such a network never lets it reach.



def test_a_source_is_fetched_through_the_proxy_of_the_environment(
    server: LocalServer, engine, no_proxies: pytest.MonkeyPatch
) -> None:
    # the local server is the proxy: the funder's host name exists nowhere, only the proxy reaches it
    server.route("GET", "/feed", lambda r: Reply(200, FEED.read_bytes(), RSS))
    no_proxies.setenv("HTTP_PROXY", server.base_url)
    adapter = FeedAdapter("news", FeedSource(type="feed", url="http://funder.invalid/feed"))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert (result.outcome, result.new) == ("ok", 2), result.error
    assert [(r.path, r.headers["host"]) for r in server.requests] == [("/feed", "funder.invalid")]


def test_a_proxy_nothing_answers_on_is_named_without_its_password(
    engine, no_proxies: pytest.MonkeyPatch
) -> None:
    with closed_port() as port:
        no_proxies.setenv("HTTPS_PROXY", f"http://cluster:s3cret@127.0.0.1:{port}")
        adapter = FeedAdapter("news", FeedSource(type="feed", url="https://funder.invalid/feed"))
        with make_client(timeout=10, backoff=0.01) as client:
            result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "failed"
    assert result.error == (
        "cannot fetch https://funder.invalid/feed: the proxy "
        f"http://127.0.0.1:{port} (from HTTPS_PROXY) cannot be reached ([Errno 111] "
        "Connection refused) (after 3 retries); check the proxy variable, or name the "
        "host in NO_PROXY if it is reached without the proxy"
    )
    assert "s3cret" not in result.error


def test_a_host_in_no_proxy_is_fetched_without_the_proxy(
    server: LocalServer, engine, no_proxies: pytest.MonkeyPatch
) -> None:
    server.route("GET", "/feed", lambda r: Reply(200, FEED.read_bytes(), RSS))
    with closed_port() as port:
        no_proxies.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        no_proxies.setenv("NO_PROXY", "localhost,127.0.0.1")
        adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed")))
        with make_client(timeout=10, backoff=0.01) as client:
            result = run_source(engine, adapter, client, NOW)
    assert (result.outcome, result.new) == ("ok", 2), result.error


# `--db sqlite://` (or `sqlite:///:memory:`, a `file:` URI in memory; a path's third slash forgotten)
# was taken as a database: `fundradar sync` fetched every source, printed what it stored as new, and
# kept nothing, the database gone with the process; `calls list` answered "No calls match."


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file::memory:?uri=true",
        "sqlite:///file:x?mode=memory&uri=true",
    ],
)
@pytest.mark.parametrize("command", [["sync"], ["calls", "list"], ["digest", "--dry-run"]])
def test_a_sqlite_database_in_memory_is_refused_before_anything_is_fetched(
    server: LocalServer, tmp_path: Path, url: str, command: list[str]
) -> None:
    server.route("GET", "/feed", lambda r: Reply(200, FEED.read_bytes(), RSS))
    config = tmp_path / "strategy.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        sources:
          funder_news: {{type: feed, url: '{server.url("/feed")}'}}
        """),
        encoding="utf-8",
    )
    done = CliRunner().invoke(app, ["--db", url, "--config", str(config), *command])
    assert done.exit_code != 0
    assert done.output.strip().splitlines() == [
        f"Error: database URL '{url}' is a SQLite database in memory, gone when the command ends (nothing "
        "fetched or changed would be kept); use sqlite:///PATH (three slashes, then the file's path) in "
        "FUNDRADAR_DB or --db"
    ], done.output
    assert server.requests == []


# With HTTPS_PROXY=http://user:password@proxy:3128 (the usual form of a proxy that wants a login),
# `fundradar -vv digest` printed the proxy's password on stderr: slack_sdk logs the proxy URL it
# loaded from the environment, password and all, at debug level.


def test_the_password_of_the_proxy_is_not_logged_at_any_verbosity(tmp_path: Path) -> None:
    config = tmp_path / "strategy.yaml"
    config.write_text(
        textwrap.dedent("""\
        name: faults
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          energy: {label: Energy, keywords: [offshore wind, hydrogen]}
        sources:
          funder_news: {type: feed, url: 'http://127.0.0.1:9/feed'}
        """),
        encoding="utf-8",
    )
    db = tmp_path / "fundradar.db"
    open_database(f"sqlite:///{db}").dispose()
    with closed_port() as port:
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
            "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
            "HTTPS_PROXY": f"http://cluster:s3cretpw@127.0.0.1:{port}",
            "HTTP_PROXY": f"http://cluster:s3cretpw@127.0.0.1:{port}",
        }
        done = subprocess.run(
            [
                str(Path(sys.executable).with_name("fundradar")),
                "-vv",
                "--db",
                str(db),
                "--config",
                str(config),
                "digest",
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )
    assert "proxy URL has been loaded" in done.stderr, done.stderr  # the line that carried it
    assert f"http://cluster:[redacted]@127.0.0.1:{port}" in done.stderr
    assert "s3cretpw" not in done.stderr + done.stdout

"""Faults met for real, round six, through the real client against local servers into a real SQLite
file (and the real scheduler): what one failing source leaves for the next, and what a restart finds."""

from __future__ import annotations

from datetime import UTC, datetime

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

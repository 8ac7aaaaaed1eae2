"""A source whose answer breaks off after its headers (the connection reset mid-body) is retried as a
refused connection or a 503 is, through a real source run with the real httpx client against the local
server; before, one such failure failed the source at once, telling to check the URL and the network."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.core.config import FeedSource
from tests.localserver import LocalServer, Reply
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter

FEED = (Path(__file__).parent / "fixtures" / "feed" / "interreg_baltic_feed.xml").read_bytes()
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
NOW = datetime(2025, 10, 20, 6, 0, tzinfo=UTC)


def _adapter(url: str) -> FeedAdapter:
    return FeedAdapter("bsr_news", FeedSource(type="feed", url=url, programme="Interreg Baltic Sea Region"))


def _cut() -> Reply:  # the headers promise the whole feed, the connection closes a tenth of the way in
    headers = {**RSS, "Content-Length": str(len(FEED)), "Connection": "close"}
    return Reply(200, FEED[: len(FEED) // 10], headers)


def test_an_answer_failing_mid_body_is_retried(server: LocalServer, engine) -> None:
    answers = [_cut(), _cut(), Reply(200, FEED, RSS)]
    server.route("GET", "/feed/", lambda request: answers.pop(0))
    with make_client(timeout=0.5, retries=3, backoff=0.01) as client:
        result = run_source(engine, _adapter(server.url("/feed/")), client, NOW)
    assert (result.outcome, result.seen, result.new) == ("ok", 2, 2)
    assert len(server.requests) == 3


def test_an_answer_failing_mid_body_every_time_says_it_was_retried(server: LocalServer, engine) -> None:
    server.route("GET", "/feed/", lambda request: _cut())
    with make_client(timeout=0.5, retries=2, backoff=0.01) as client:
        result = run_source(engine, _adapter(server.url("/feed/")), client, NOW)
    assert result.outcome == "failed"
    assert result.error == (f"cannot fetch {server.url('/feed/')} (RemoteProtocolError: peer closed "
                            "connection without sending complete message body (received "
                            f"{len(FEED) // 10} bytes, expected {len(FEED)})) (after 2 retries); try again "
                            "later")
    assert len(server.requests) == 3

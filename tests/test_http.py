"""watcher.http against the local HTTP server: retries on 429 (Retry-After), 5xx and dropped
connections, timeouts, size limits, User-Agent, and the replay transport."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from pipeline.core.errors import FetchError
from tests.localserver import Drop, LocalServer, Reply, closed_port
from watcher.http import USER_AGENT, RetryTransport, fetch_text, make_client, retry_after_seconds
from watcher.replay import ReplayTransport, multipart_fields


def sequence(*replies: Reply | type[Drop]):
    """A handler answering with the given replies in turn (the last one repeats)."""
    answers = list(replies)

    def handle(request):
        reply = answers.pop(0) if len(answers) > 1 else answers[0]
        if reply is Drop:
            raise Drop()
        return reply

    return handle


def test_429_retry_after_is_honoured(server: LocalServer) -> None:
    server.route("GET", "/feed", sequence(Reply(429, "slow down", {"Retry-After": "1"}), Reply(200, "ok")))
    waits: list[float] = []
    client = httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), retries=3, backoff=0.01,
                                                   sleep=waits.append))
    with client:
        assert fetch_text(client, server.url("/feed"), source="news") == "ok"
    assert waits == [1.0]  # the server's wait, not the short backoff
    assert len(server.requests) == 2


def test_429_end_to_end_with_make_client(server: LocalServer) -> None:
    server.route("GET", "/feed", sequence(Reply(429, "", {"Retry-After": "1"}), Reply(200, "fine")))
    started = time.monotonic()
    with make_client(backoff=0.01) as client:
        assert fetch_text(client, server.url("/feed"), source="news") == "fine"
    assert time.monotonic() - started >= 0.9
    assert server.requests[0].headers["user-agent"] == USER_AGENT


def test_5xx_and_dropped_connections_are_retried_then_reported(server: LocalServer) -> None:
    server.route("GET", "/flaky", sequence(Reply(503, "busy"), Drop, Reply(200, "recovered")))
    with make_client(retries=3, backoff=0.01) as client:
        assert fetch_text(client, server.url("/flaky"), source="news") == "recovered"
    server.route("GET", "/down", sequence(Reply(500, "boom")))
    with make_client(retries=2, backoff=0.01) as client, pytest.raises(FetchError) as info:
        fetch_text(client, server.url("/down"), source="news")
    assert str(info.value) == (f"source 'news': HTTP 500 from {server.url('/down')} (after 2 retries); "
                               "the source is failing, try again later")
    assert len([r for r in server.requests if r.path == "/down"]) == 3


def test_404_is_not_retried(server: LocalServer) -> None:
    with make_client(retries=3, backoff=0.01) as client, pytest.raises(FetchError, match="HTTP 404"):
        fetch_text(client, server.url("/missing"), source="news")
    assert len(server.requests) == 1


def test_timeout_is_one_readable_line(server: LocalServer) -> None:
    released = threading.Event()

    def slow(request):  # answers only after the client gave up, however late its timer fires
        released.wait(30)
        return Reply(200, "late")

    server.route("GET", "/slow", slow)
    try:
        with make_client(timeout=0.1, retries=1, backoff=0.01) as client, pytest.raises(FetchError) as info:
            fetch_text(client, server.url("/slow"), source="news")
    finally:
        released.set()
    assert str(info.value) == (f"source 'news': timed out fetching {server.url('/slow')} (after 1 retry); "
                               "try again later or raise timeout_seconds")


def test_body_size_limited(server: LocalServer) -> None:
    server.route("GET", "/big", sequence(Reply(200, b"x" * 5000)))
    with make_client(retries=0) as client:
        with pytest.raises(FetchError) as info:
            fetch_text(client, server.url("/big"), source="news", max_bytes=1000)
        assert str(info.value) == (f"source 'news': {server.url('/big')} is 5,000 bytes, more than the limit "
                                   "of 1,000; refusing to read it")
        assert len(fetch_text(client, server.url("/big"), source="news", max_bytes=5000)) == 5000


def test_charset_from_headers(server: LocalServer) -> None:
    server.route("GET", "/latin", sequence(Reply(200, "Øresund".encode("latin-1"),
                                                 {"Content-Type": "text/plain; charset=iso-8859-1"})))
    with make_client(retries=0) as client:
        assert fetch_text(client, server.url("/latin"), source="news") == "Øresund"


def test_unreachable_host() -> None:
    with closed_port() as port, make_client(retries=0) as client, \
            pytest.raises(FetchError, match="cannot fetch .* check the URL"):
        fetch_text(client, f"http://127.0.0.1:{port}/x", source="news")


def test_retry_after_http_date() -> None:
    now = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Sat, 22 Aug 2026 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds("7") == 7 and retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


def test_retry_after_too_long_is_not_waited(server: LocalServer) -> None:
    server.route("GET", "/later", sequence(Reply(503, "", {"Retry-After": "3600"})))
    waits: list[float] = []
    with httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), sleep=waits.append)) as client:
        with pytest.raises(FetchError, match="HTTP 503"):
            fetch_text(client, server.url("/later"), source="news")
    assert waits == [] and len(server.requests) == 1


def test_replay_transport_and_multipart() -> None:
    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path != "/search":
            return None
        fields = multipart_fields(request.headers["content-type"], request.content)
        return httpx.Response(200, content=fields["query"])

    with make_client(transport=ReplayTransport([answer]), retries=0) as client:
        response = client.post("https://api.example.eu/search", files={"query": ("blob", b'{"a":1}',
                                                                                 "application/json")})
        assert response.content == b'{"a":1}'
        with pytest.raises(FetchError, match="no recording answers GET https://api.example.eu/other"):
            fetch_text(client, "https://api.example.eu/other", source="x")

"""Hostile HTTP answers: a server asking for a longer wait than a run gives it (429 or 503 with a long
Retry-After) is reported as asking so, not as retried; a server dripping its headers is cut off at the
request's total time limit like one dripping its body."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from pipeline.core.errors import FetchError
from tests.localserver import LocalServer, Reply
from watcher.http import fetch_text, make_client


@pytest.mark.parametrize("status", [429, 503])
def test_a_long_retry_after_is_reported_as_asked(server: LocalServer, status: int) -> None:
    server.route("GET", "/feed", lambda request: Reply(status, "slow down", {"Retry-After": "3600"}))
    with make_client(timeout=5) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, server.url("/feed"), source="news")
    assert len(server.requests) == 1
    assert str(caught.value) == (f"source 'news': HTTP {status} from {server.url('/feed')}, asking to wait "
                                 "3600 s (Retry-After), longer than the 120 s a run waits; try again later")


def test_a_server_dripping_its_headers_hits_the_total_limit() -> None:
    """httpx's timeouts bound each read; the total limit (3 x timeout) bounded only the body, so a server
    sending its status line and then a header line every 0.1 s held a request for as long as it liked."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed"

    def drip() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                # a header line every 0.05 s, far inside the 1 s read timeout however loaded the
                # machine, until the client hangs up (or 60 s, long past its 3 s total limit)
                for _ in range(1200):
                    time.sleep(0.05)
                    conn.sendall(b"X-Pad: a\r\n")
                conn.sendall(b"Content-Length: 2\r\n\r\nok")
            except OSError:  # the client hung up
                pass

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    with make_client(retries=0, timeout=1) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, url, source="slow")
    assert str(caught.value) == (f"source 'slow': {url} was still arriving after its total time limit (a "
                                 "slow, dripping answer); try again later or raise timeout_seconds")
    listener.close()


def test_a_gzip_body_cut_short_is_refused(server: LocalServer) -> None:
    """A gzip body cut in half with whole HTTP framing (its Content-Length says the half) was handed
    out as what decompressed so far: half a listing, read as the whole of it."""
    import gzip

    listing = ("<html><body>" + "".join(f'<div class="item"><a href="/c/{i}">Call {i}</a></div>'
                                        for i in range(200)) + "</body></html>").encode()
    packed = gzip.compress(listing)
    gz = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
    server.route("GET", "/cut", lambda request: Reply(200, packed[:len(packed) // 2], gz))
    server.route("GET", "/whole", lambda request: Reply(200, packed + b"trailing bytes", gz))
    with make_client(timeout=5, retries=0) as client:
        assert fetch_text(client, server.url("/whole"), source="ifd").count('class="item"') == 200
        with pytest.raises(FetchError) as caught:
            fetch_text(client, server.url("/cut"), source="ifd")
    assert str(caught.value) == (f"source 'ifd': {server.url('/cut')} was cut short: its compressed body "
                                 "ends before the compressed data does; try again later")


@pytest.mark.parametrize(("status", "advice"), [
    (404, "(the page is not there); check the URL, the page may have moved"),
    (410, "(the page is not there); check the URL, the page may have moved"),
    (403, "(not retried: the server refuses this request); check the URL and the source config"),
])
def test_a_client_error_is_not_reported_as_retried(server: LocalServer, status: int, advice: str) -> None:
    """A 404 or 410 is not retried, but its message said "(after 3 retries); the source is failing,
    try again later": a moved page would never come back by waiting."""
    server.route("GET", "/feed", lambda request: Reply(status, "gone"))
    with make_client(timeout=5) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, server.url("/feed"), source="news")
    assert str(caught.value) == f"source 'news': HTTP {status} from {server.url('/feed')} {advice}"
    assert len(server.requests) == 1


def test_a_redirect_loop_is_named_as_one(server: LocalServer) -> None:
    """It read "cannot fetch … (TooManyRedirects: Exceeded maximum allowed redirects.)"."""
    server.route("GET", "/a", lambda request: Reply(302, "", {"Location": "/b"}))
    server.route("GET", "/b", lambda request: Reply(302, "", {"Location": "/a"}))
    with make_client(timeout=5) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, server.url("/a"), source="loop")
    assert str(caught.value) == (f"source 'loop': redirect loop at {server.url('/a')} (more than "
                                 f"{client.max_redirects} redirects); check the source's URL")

"""Odd answers of a source's server, through the real httpx client and a local server: each is one
line that says what the server did, not "check the URL and the network" about a URL that is right."""

from __future__ import annotations

import pytest

from pipeline.core.errors import FetchError
from tests.localserver import LocalServer, Reply
from watcher.http import fetch_text, make_client


def _error(server: LocalServer, path: str, **kwargs) -> str:
    with make_client(timeout=5, backoff=0.01) as client, pytest.raises(FetchError) as caught:
        fetch_text(client, server.url(path), source="news", **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("hosts", [None, ["127.0.0.1"]])
@pytest.mark.parametrize(("location", "shown"), [
    ("ftp://example.org/calls.xml", "ftp://example.org/calls.xml"),
    ("file:///etc/passwd", "file://127.0.0.1/etc/passwd"),  # httpx fills in the host it came from
])
def test_a_redirect_to_another_scheme_is_named_as_one(server: LocalServer, location: str, shown: str,
                                                      hosts) -> None:
    """It read "cannot fetch … (UnsupportedProtocol: Request URL has an unsupported protocol 'ftp://'.);
    check the URL and the network"."""
    server.route("GET", "/feed", lambda request: Reply(302, "", {"Location": location}))
    assert _error(server, "/feed", hosts=hosts) == (
        f"source 'news': {server.url('/feed')} redirects to {shown}, which is not an http or https "
        "address; only web pages are read, check the source's URL")


@pytest.mark.parametrize("hosts", [None, ["127.0.0.1"]])
def test_a_redirect_to_no_url_is_named_as_one(server: LocalServer, hosts) -> None:
    """It read "… is not a URL that can be fetched (For absolute URLs, path must be empty or begin with
    '/'); check the URL" of the source's own URL, which is fine."""
    server.route("GET", "/feed", lambda request: Reply(302, "", {"Location": "mailto:calls@example.org"}))
    assert _error(server, "/feed", hosts=hosts) == (
        f"source 'news': {server.url('/feed')} redirects to an address that cannot be fetched (For "
        "absolute URLs, path must be empty or begin with '/'); the site's redirect is broken, try again "
        "later or report it to the site")


def test_not_modified_to_an_unconditional_request_is_no_missing_redirect(server: LocalServer) -> None:
    """fundradar never asks "if modified since"; a 304 read "HTTP 304 from … without a Location to
    follow; the page is not there as asked, check the URL"."""
    server.route("GET", "/feed", lambda request: Reply(304, "", {}))
    assert _error(server, "/feed") == (
        f"source 'news': HTTP 304 (not modified) from {server.url('/feed')}, an answer to a question "
        "fundradar did not ask (it sends no If-Modified-Since or If-None-Match): a cache or proxy on the "
        "way answers wrongly; try again later")
    assert not {name.lower() for name in server.requests[0].headers} & {"if-modified-since", "if-none-match"}


@pytest.mark.parametrize(("body", "why"), [
    (b"\x1f\x8b\x08\x00" + b"garbage" * 20, "invalid code lengths set"),
    (b"<rss><channel></channel></rss>", "incorrect header check"),  # plain text labelled gzip
])
def test_a_gzip_body_that_does_not_decompress_is_named_as_one(server: LocalServer, body: bytes,
                                                             why: str) -> None:
    """It read "cannot fetch … (DecodingError: Error -3 while decompressing data: …); check the URL and
    the network"."""
    server.route("GET", "/feed", lambda request: Reply(200, body, {"Content-Encoding": "gzip"}))
    assert _error(server, "/feed") == (
        f"source 'news': {server.url('/feed')} was sent as gzip but does not decompress (Error -3 while "
        f"decompressing data: {why}); the site sent it broken, try again later or report it to the site")


@pytest.mark.parametrize(("retry_after", "shown"), [
    ("Wed, 21 Oct 2099 07:28:00 GMT", "more than a year"),  # it read "2.30007e+09 s"
    ("99999999999999999999999", "more than a year"),  # "1e+23 s"
    ("1209600", "14 days"),  # "1.2096e+06 s"
    ("3600", "3600 s"),
])
def test_a_long_retry_after_reads_as_a_wait_a_person_can_read(server: LocalServer, retry_after: str,
                                                               shown: str) -> None:
    server.route("GET", "/feed", lambda request: Reply(429, "slow down", {"Retry-After": retry_after}))
    assert _error(server, "/feed") == (
        f"source 'news': HTTP 429 from {server.url('/feed')}, asking to wait {shown} (Retry-After), longer "
        "than the 120 s a run waits; try again later")


def test_slack_asking_for_a_wait_of_years_reads_as_one() -> None:
    from pipeline.notify.senders import _deferred

    assert str(_deferred(2.3e9, "#eu-fundraising")) == (
        "Slack rate limit on #eu-fundraising: asked to wait more than a year, more than the 30 s a run "
        "waits; sent on the next run")

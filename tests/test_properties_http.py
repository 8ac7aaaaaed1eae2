"""Truncated and oversized HTTP responses, through the real httpx client against the local server:
a body shorter than its Content-Length, a chunked body cut off or larger than the limit, a declared
size over the limit, and a SEDIA page cut short in the middle of a sync. Each is refused with one
readable line; a failed sync closes nothing and the next good one completes.

(tests/test_http.py has the declared-size limit and the retries; tests/test_eu_ft_sync.py a page of
junk JSON. These are the cases those leave out.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from pipeline.core.config import FeedSource, IcalSource
from pipeline.core.errors import FetchError
from pipeline.core.models import FetchRun
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply, Request
from tests.test_eu_ft_sync import SEARCH_PATH, Portal, changes, sync, table
from watcher.http import fetch_text, make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter
from watcher.sources.ical import IcalAdapter

FEED = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_bytes()
ICS = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()
NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)


def cut_short(body: bytes, sent: int, *, content_type: str = "application/rss+xml") -> Reply:
    """The first ``sent`` bytes of ``body`` under a Content-Length of the whole, then the server hangs up."""
    return Reply(200, body[:sent], {"Content-Type": content_type, "Content-Length": str(len(body)),
                                    "Connection": "close"})


def chunked(body: bytes, size: int = 1000, *, finished: bool = True) -> Reply:
    """``body`` in chunks of ``size`` bytes without a Content-Length; unfinished = no last chunk."""
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    wire = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts)
    return Reply(200, wire + (b"0\r\n\r\n" if finished else b""),
                 {"Transfer-Encoding": "chunked", "Connection": "close"})


def one_line(error: str) -> str:
    assert error and "\n" not in error and len(error) < 400, error
    return error


# --- the client -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sent", [0, 1, 2500, len(FEED) - 1])
def test_body_shorter_than_its_content_length(server: LocalServer, sent: int) -> None:
    server.route("GET", "/feed", lambda request: cut_short(FEED, sent))
    url = server.url("/feed")
    with make_client(retries=0) as client, pytest.raises(FetchError) as info:
        fetch_text(client, url, source="bsr_news")
    message = one_line(str(info.value))
    assert message.startswith(f"source 'bsr_news': cannot fetch {url} (RemoteProtocolError: ")
    assert f"received {sent} bytes, expected {len(FEED)}" in message


def test_chunked_body_over_the_limit_is_refused_while_reading(server: LocalServer) -> None:
    server.route("GET", "/feed", lambda request: chunked(FEED, 500))
    url = server.url("/feed")
    with make_client(retries=0) as client:
        with pytest.raises(FetchError) as info:
            fetch_text(client, url, source="bsr_news", max_bytes=2000)
        assert one_line(str(info.value)) == (f"source 'bsr_news': {url} sent more than 2,000 bytes; refusing "
                                             "to read the rest")
        assert fetch_text(client, url, source="bsr_news").encode("utf-8") == FEED  # whole when allowed


def test_chunked_body_cut_off(server: LocalServer) -> None:
    server.route("GET", "/feed", lambda request: chunked(FEED[:3000], 1000, finished=False))
    url = server.url("/feed")
    with make_client(retries=0) as client, pytest.raises(FetchError) as info:
        fetch_text(client, url, source="bsr_news")
    assert one_line(str(info.value)).startswith(f"source 'bsr_news': cannot fetch {url} (RemoteProtocolError")


# --- sources: a refused body fails the run, with one line -----------------------------------------

def test_feed_and_ical_sources_fail_on_cut_and_oversized_bodies(engine, server: LocalServer) -> None:
    server.route("GET", "/feed", lambda request: cut_short(FEED, 1200))
    server.route("GET", "/cal.ics", lambda request: Reply(200, ICS[:10], {
        "Content-Type": "text/calendar", "Content-Length": "30000000", "Connection": "close"}))
    feed = FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed")))
    ical = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    with make_client(retries=0) as client:
        cut = run_source(engine, feed, client, NOW)
        big = run_source(engine, ical, client, NOW)
    assert (cut.outcome, cut.complete, cut.seen) == ("failed", False, 0)
    assert one_line(cut.error or "").startswith(f"cannot fetch {server.url('/feed')} (RemoteProtocolError: ")
    assert (big.outcome, big.seen) == ("failed", 0)
    assert big.error == (f"{server.url('/cal.ics')} is 30,000,000 bytes, more than the limit of 20,000,000; "
                         "refusing to read it")


# --- SEDIA: a page cut short in the middle of a sync ------------------------------------------------

class CuttingPortal(Portal):
    """The recorded search API, with chosen pages cut short: ``cut[page] = (kind, bytes sent)`` where
    kind is "json" (the body ends early, honestly framed) or "wire" (the connection drops before the
    Content-Length is reached), or "huge" (a Content-Length over the source's 50 MB limit)."""

    def __init__(self, server: LocalServer, samples: Path) -> None:
        super().__init__(server, samples)
        self.cut: dict[int, tuple[str, int]] = {}

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        number = int(request.query["pageNumber"][0])
        if number not in self.cut:
            return reply
        kind, sent = self.cut[number]
        body = reply.body if isinstance(reply.body, bytes) else reply.body.encode("utf-8")
        if kind == "json":
            return Reply(200, body[:sent], reply.headers)
        if kind == "wire":
            return cut_short(body, sent, content_type="application/json;charset=UTF-8")
        return Reply(200, body[:sent], {**reply.headers, "Content-Length": "60000000", "Connection": "close"})


@pytest.fixture
def cutting(server: LocalServer, samples: Path) -> CuttingPortal:
    return CuttingPortal(server, samples)


@pytest.mark.parametrize("kind,sent", [("json", 0), ("json", 1), ("json", 80_000), ("json", -1),
                                       ("wire", 50_000), ("huge", 100)])
def test_sedia_page_cut_short_fails_the_sync_and_closes_nothing(engine, server, cutting, kind, sent) -> None:
    cutting.serve("2026-08-21")
    sync(engine, server, "2026-08-21")
    before = table(engine)
    cutting.serve("2026-08-22").cut[5] = (kind, sent)
    failed = sync(engine, server, "2026-08-22")
    url = server.url(SEARCH_PATH)
    error = one_line(failed.error or "")
    if kind == "json":  # a ParseError naming the source's page
        assert error.startswith("page 5 of 8 (all programmes) is not valid JSON (")
        assert error.endswith("); the API answered something unexpected, try again later")
    elif kind == "wire":
        assert error.startswith(f"cannot fetch {url} (page 5 of 8, all programmes) (RemoteProtocolError: ")
    else:
        assert error == (f"{url} (page 5 of 8, all programmes) is 60,000,000 bytes, more than the limit of "
                         "50,000,000; refusing to read it")
    assert (failed.outcome, failed.complete, failed.closed) == ("failed", False, 0)
    assert table(engine) == before and changes(engine) == []  # nothing closed, no row touched
    with Session(engine) as session:
        run = session.get(FetchRun, failed.run_id)
        assert (run.outcome, run.complete, run.error) == ("failed", False, failed.error)
    cutting.cut.clear()
    good = sync(engine, server, "2026-08-22")
    assert (good.outcome, good.complete, good.seen, good.changed, good.closed, good.missing) == \
        ("ok", True, 723, 2, 0, 8)  # the 8 it lacks marked missing (removed if the next lacks them)

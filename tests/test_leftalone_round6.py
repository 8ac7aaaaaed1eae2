"""Defects noticed in an earlier session and left alone then: a bare "<" in a feed's title, ...;
through the real client against local servers into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from pipeline.core.config import FeedSource
from pipeline.core.models import Call
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter

NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}
# the recorded interreg-baltic.eu/feed/ (WordPress RSS 2.0); its channel image holds a <width>, which a
# stray </width> put out of place so that feedparser itself fails and lxml's recovering parser reads it
BALTIC_FEED = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_text(encoding="utf-8")
TITLE = "<title>Project platforms: the call is open for applications</title>"

# A hand-made feed writing a bare "<" in a title ("Heat < 100 °C", "a<b") is not well-formed XML:
# feedparser's loose parser took "<b" for a tag and cut the title there, and when the feed also had a
# stray end tag, lxml's recovering parser dropped the "<" along with every "&lt;" and "&amp;".


@pytest.mark.parametrize("stray_end_tag", [False, True])
@pytest.mark.parametrize("title", [
    "Heat < 100 °C: the call is open for applications",
    "Call for heat pumps, COP>3 and T<90 °C, is open",
    "Call for a<b designs stays open (R&D, 5 &lt; 6)",
])
def test_a_bare_less_than_in_a_feed_title_keeps_the_whole_title(
    server: LocalServer, engine, title: str, stray_end_tag: bool
) -> None:
    feed = BALTIC_FEED.replace(TITLE, f"<title>{title}</title>")
    if stray_end_tag:
        feed = feed.replace("<width>32</width>", "<width>32</width></width>")
    server.route("GET", "/feed", lambda r: Reply(200, feed.encode(), RSS))
    adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed")))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "ok", result.error
    written = title.replace("&lt;", "<")
    with Session(engine) as session:
        titles = set(session.exec(select(Call.title).where(Call.source == "news")).all())
    assert written in titles, titles

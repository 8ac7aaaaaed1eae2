"""Hostile answers of the sources, round three: variants of real answers served by the local server,
read through the real client into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from pipeline.core.config import FeedSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import run
from watcher.sources.feed import FeedAdapter

NOW = datetime(2026, 8, 22, 10, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}


def _titles(engine) -> dict[str, str]:
    with Session(engine) as session:
        return {c.external_id: c.title for c in session.exec(select(Call))}


def _feed(server: LocalServer, body: bytes) -> FeedAdapter:
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    return FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed/"),
                                              programme="Interreg Baltic Sea Region"))


def test_a_bare_ampersand_in_a_feed_title_is_kept_as_written(engine, server: LocalServer) -> None:
    """A feed writing '&' unescaped (not well-formed XML, common in hand-made feeds) went to
    feedparser's loose parser, which reads '&D' as an entity: 'R&D; call', 'Q&A; session'."""
    items = [("R&D call for SMEs in the Baltic Sea region", "g1"),
             ("Call for proposals: Q&A session and Tools&Methods 2027", "g2"),
             ("<![CDATA[Call for R&D & innovation]]>", "g3"),
             ("Call for AT&amp;T partners &#38; others", "g4")]
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            + "".join(f"<item><title>{title}</title><link>https://interreg-baltic.eu/news/{guid}?a=1&b=2</link>"
                      f"<guid>{guid}</guid><description>Call for proposals, R&D & more</description></item>"
                      for title, guid in items)
            + "</channel></rss>").encode()
    result = run(engine, _feed(server, body), NOW)
    assert (result.outcome, result.new) == ("ok", 4)
    assert _titles(engine) == {"g1": "R&D call for SMEs in the Baltic Sea region",
                               "g2": "Call for proposals: Q&A session and Tools&Methods 2027",
                               "g3": "Call for R&D & innovation", "g4": "Call for AT&T partners & others"}
    with Session(engine) as session:
        stored = session.exec(select(Call).where(Call.external_id == "g1")).one()
    assert stored.url == "https://interreg-baltic.eu/news/g1?a=1&b=2"
    assert stored.text == "Call for proposals, R&D & more"

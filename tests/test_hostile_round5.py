"""Hostile answers of the sources, round five: variants of the recordings in the shared samples and
of the fixtures in tests/fixtures/ (each fixture's file says where its markup came from), served by
the local server and read through the real client into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from pipeline.core.config import FeedSource, HtmlListSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import Portal, eu_ft, good_sync, portal, run, statuses  # noqa: F401 (portal: fixture)
from watcher.sources import BuildContext
from watcher.sources.feed import FeedAdapter
from watcher.sources.html_list import HtmlListAdapter

FIXTURES = Path(__file__).parent / "fixtures"
HTML = {"Content-Type": "text/html; charset=utf-8"}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\nstream\nx\x9c\xcb\x48\xcd\xc9\nendstream\n%%EOF\n"


def _innovationsfonden(server: LocalServer, eurostars: bytes, seen: list[str]) -> HtmlListAdapter:
    """The Innovationsfonden listing with Eurostars linked as ``eurostars`` (its other calls' pages are
    the Grand Solutions fixture); the paths asked for are appended to ``seen``."""
    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_bytes()
    hostile = listing.replace(b'href="/da/programmer/eurostars"', b'href="' + eurostars + b'"')
    assert hostile != listing
    detail = (FIXTURES / "html_list" / "innovationsfonden_grand_solutions.html").read_bytes()

    def page(request) -> Reply:
        seen.append(request.path)
        return Reply(200, detail, HTML)

    server.route("GET", "/da/programmer", lambda request: Reply(200, hostile, HTML))
    for path in ("/da/p/grand-solutions/grand-solutions-2027", "/da/programmer/innobooster"):
        server.route("GET", path, page)
    return HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden", item=".views-row",
        title="h3", link="h3 a[href]", text=".teaser__dates, .teaser__amount, .teaser__text", detail=True,
        detail_text=".node__content"))


def test_a_call_published_as_a_pdf_is_read_from_the_list(engine, server: LocalServer) -> None:
    """Funders link a call to its PDF ("Opslag (PDF)") or to an address answering with one: read as
    the call's page, the PDF "ends before </html> (cut off?)", a failed call page on every run, so
    the source was never complete and none of its calls was ever closed. A link to a document is
    not fetched, an answer that is no page is no page text, and the call is read from the list."""
    seen: list[str] = []
    for eurostars, answer in ((b"/files/eurostars.pdf", None), (b"/da/programmer/eurostars-opslag",
                                                                  "application/pdf")):
        path = eurostars.decode()

        def document(request, answer: str | None = answer) -> Reply:
            seen.append(request.path)
            return Reply(200, PDF, {"Content-Type": answer or "application/pdf"})

        server.route("GET", path, document)
        adapter = _innovationsfonden(server, eurostars, seen)
        result = run(engine, adapter, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        assert (result.outcome, result.complete, result.error) == ("ok", True, None), path
        with Session(engine) as session:
            call = session.exec(select(Call).where(Call.url == server.url(path))).one()
        assert (call.title, call.status) == ("Eurostars", "open")
        assert call.deadline.replace(tzinfo=UTC) == datetime(2027, 3, 11, 13, 0, tzinfo=UTC)
        assert "%PDF" not in call.text and call.text.startswith("Ansøgningsfrist 11. marts 2027")
    assert "/files/eurostars.pdf" not in seen and "/da/programmer/eurostars-opslag" in seen


def test_a_search_total_short_of_its_results_closes_nothing(engine, server: LocalServer,
                                                             portal: Portal) -> None:  # noqa: F811
    """The search API declaring a totalResults below what it holds (650 for the 731 of the recording of
    2026-08-21): the pages were counted from it, page 7 came full where the total left 50 on it, page 8
    was never asked for, and the run was complete: its 31 calls were marked missing, and the next such
    answer removed them (4 % of the source, under the guard)."""
    before = good_sync(engine, server)

    def understated(number: int, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "totalResults": 650}

    portal.mutate = understated
    for hours in (6, 12):
        result = run(engine, eu_ft(server), datetime(2026, 8, 21, 10, 0, tzinfo=UTC) + timedelta(hours=hours))
        assert (result.outcome, result.complete, result.seen, result.closed) == ("ok", False, 700, 0)
        assert result.error == ("page 7 of 7 (all programmes) has 100 results where totalResults 650 leaves "
                                "50; the results go on past the total, so the pages after it were not read")
    assert statuses(engine) == before


def test_a_deadline_time_behind_a_dash_a_bracket_or_as_noon_is_the_deadlines_time(engine,
                                                                                 server: LocalServer) -> None:
    """A time written after the date the way editors write it ("– 12:00", "(kl. 12.00)", "at 12:00
    noon CET", "2 p.m.") was not read: the deadline was its day at 17:00, assumed, five hours after the
    noon it was, and "2:00 p.m." was read as 2 at night. The feed is the Interreg Baltic fixture's
    shape (tests/fixtures/feed) with its items' texts so written."""
    texts = {"1": "Deadline: 15 January 2027 at 12:00 noon CET.",
             "2": "Ansøgningsfrist: 3. marts 2027 (kl. 12.00).", "3": "Frist: 15.04.2027 – kl. 12.00",
             "4": "Deadline: 20 January 2027, 2:00 p.m. CET", "5": "Deadline: 1 June 2027 – 24:00"}
    items = "".join(f"<item><title>Call for proposals {n}</title><link>https://interreg-baltic.eu/news/call-{n}/</link>"
                    f"<guid>https://interreg-baltic.eu/?p={n}</guid><description>{text}</description></item>"
                    for n, text in texts.items())
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Interreg Baltic Sea '
            f"Region</title>{items}</channel></rss>").encode()
    server.route("GET", "/feed/", lambda request: Reply(200, body, {"Content-Type": "application/rss+xml"}))
    adapter = FeedAdapter("baltic", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 5)
    with Session(engine) as session:
        deadlines = {call.title[-1]: (call.deadline.replace(tzinfo=UTC).isoformat(),
                                      call.deadline_time_assumed) for call in session.exec(select(Call))}
    assert deadlines == {"1": ("2027-01-15T11:00:00+00:00", False), "2": ("2027-03-03T11:00:00+00:00", False),
                         "3": ("2027-04-15T10:00:00+00:00", False), "4": ("2027-01-20T13:00:00+00:00", False),
                         "5": ("2027-06-01T22:00:00+00:00", False)}

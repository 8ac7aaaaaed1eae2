"""Hostile answers of the sources, round four: variants of real answers (the recordings in the shared
samples, the interreg.no calendar fixture) served by the local server, read through the real client into
a real SQLite file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.config import FeedSource, HtmlListSource, IcalSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import DAY, _one_bad, eu_ft, good_sync, portal, run, with_meta  # noqa: F401
from watcher.sources import BuildContext
from watcher.sources.feed import FeedAdapter
from watcher.sources.html_list import HtmlListAdapter
from watcher.sources.ical import IcalAdapter

ICS = Path(__file__).parent / "fixtures" / "ical" / "interreg_no_calendar.ics"
ICAL_NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
HTML_NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _calls(engine) -> dict[str, Call]:
    with Session(engine) as session:
        return {c.external_id: c for c in session.exec(select(Call))}


def test_a_calendar_deadline_on_the_unix_epoch_closes_nothing(engine, server: LocalServer) -> None:
    """An export writing an unset end as Unix time 0 (DTEND 19700101T000000Z) made an open call's
    deadline 1 January 1970, and the call "closed" (its deadline passed) on that one answer."""
    good = ICS.read_bytes()
    answers = [good, good.replace(b"DTEND;TZID=Europe/Oslo:20260416T235900", b"DTEND:19700101T000000Z")]
    server.route("GET", "/cal.ics", lambda request: Reply(200, answers[0], {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")),
                          BuildContext(engine=engine))
    first = run(engine, adapter, ICAL_NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 4)
    key = "21544-1768208400-1776383940@interreg.no"
    before = _calls(engine)[key]
    answers.pop(0)
    result = run(engine, adapter, ICAL_NOW + timedelta(hours=6))
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert f"1 malformed record(s) skipped: {key}: deadline 1970-01-01T00:00:00+00:00 is outside the years" \
        in result.error
    after = _calls(engine)[key]
    assert (after.status, after.deadline, after.deadlines) == ("forthcoming", before.deadline,
                                                               before.deadlines)


def test_a_sedia_deadline_on_the_unix_epoch_keeps_the_stored_deadline(engine, server: LocalServer,
                                                                      portal) -> None:  # noqa: F811
    """A result whose deadlineDate is Unix time 0 (an unset date of the portal's back end) moved a
    stored call's deadline to 1 January 1970: its deadline passed, so a later short answer lacking it
    closed it at once, past the confirmation a call before its deadline gets."""
    good_sync(engine, server)
    portal.mutate = _one_bad(lambda r: with_meta(r, deadlineDate=["1970-01-01T00:00:00.000+0000"]))
    before = {key: call.deadlines for key, call in _calls(engine).items()}
    result = run(engine, eu_ft(server), DAY)
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert "1 malformed result(s) skipped: page 3 of 8 (all programmes), result 7" in result.error
    assert "is outside the years" in result.error
    assert {key: call.deadlines for key, call in _calls(engine).items()} == before


def test_a_historic_date_in_a_feed_item_is_no_deadline(engine, server: LocalServer) -> None:
    """A date from the funder's history in an announcement's prose ("since 12 May 1975") is outside a
    call's years: taken as the item's deadline it made the whole announcement a malformed record."""
    feed = (Path(__file__).parent / "fixtures" / "feed" / "interreg_baltic_feed.xml").read_bytes()
    # the first item's text without its own dates, and a sentence of history
    dates = b"opened on 1 September 2025. Organisations from the Baltic Sea region can apply until " \
            b"20 November 2025, 16:00 CET."
    body = feed.replace(dates, b"is open. Since 12 May 1975 the programme has funded cooperation.")
    server.route("GET", "/feed/", lambda request: Reply(200, body, {"Content-Type": "application/rss+xml"}))
    adapter = FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, ICAL_NOW)
    assert (result.outcome, result.new) == ("ok", 2)
    assert "malformed" not in result.error
    assert all(call.deadline is None or call.deadline.year >= 2025 for call in _calls(engine).values())


def test_a_sedia_result_whose_metadata_came_back_empty_keeps_the_stored_call(engine, server: LocalServer,
                                                                            portal) -> None:  # noqa: F811
    """A result with its reference and summary but every metadata field null (a back end that failed
    to load them) was read as an open call titled by its summary, without deadline or description:
    the stored call lost its deadlines and text, and a forthcoming call became open."""
    good_sync(engine, server)
    before = {key: (c.title, c.status, c.deadlines, c.text) for key, c in _calls(engine).items()}

    def emptied(number: int, data: dict) -> dict:
        if number != 2:
            return data
        results = [dict(r) for r in data["results"]]
        for result in results[:3]:
            result["metadata"] = {key: None for key in result["metadata"]}
        return {**data, "results": results}

    portal.mutate = emptied
    result = run(engine, eu_ft(server), DAY)
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert "3 malformed result(s) skipped: page 2 of 8 (all programmes), result 1" in result.error
    assert "gives no status" in result.error
    assert {key: (c.title, c.status, c.deadlines, c.text) for key, c in _calls(engine).items()} == before


def test_listing_links_carrying_a_session_id_are_one_call_each(engine, server: LocalServer) -> None:
    """A funder's site writing its session into every link (PHP's "?PHPSESSID=…", Java's
    ";jsessionid=…") gave each item a new link, its id, on every fetch: each run stored the listing's
    calls anew and marked the stored ones missing, removed by the run after."""
    listing = (Path(__file__).parent / "fixtures" / "html_list" / "innovationsfonden_list.html").read_bytes()
    fetches: list[int] = []

    def answer(request: object) -> Reply:
        fetches.append(1)
        session = f"{len(fetches)}f3a9c".encode()
        body = re.sub(rb'href="(/da/p/[^"]+)"', lambda m: b'href="' + m.group(1) + b";jsessionid=" + session
                      + b'"', listing)
        body = re.sub(rb'href="(/da/programmer/[^"]+)"', lambda m: b'href="' + m.group(1) + b"?PHPSESSID="
                      + session + b'&amp;lang=da"', body)
        return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})

    server.route("GET", "/da/programmer", answer)
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden", item=".views-row",
        title="h3", link="h3 a[href]", text=".teaser__dates, .teaser__amount, .teaser__text"),
        BuildContext(engine=engine))
    first = run(engine, adapter, HTML_NOW)
    again = run(engine, adapter, HTML_NOW + timedelta(days=1))
    assert (first.new, again.new, again.missing, again.unchanged) == (3, 0, 0, 3)
    assert sorted(c.url for c in _calls(engine).values()) == [
        server.url("/da/p/grand-solutions/grand-solutions-2027"),
        server.url("/da/programmer/eurostars?lang=da"), server.url("/da/programmer/innobooster?lang=da")]

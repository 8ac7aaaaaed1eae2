"""Hostile calendars and feeds, round five: variants of the interreg.no calendar and the Interreg
Baltic feed fixtures (tests/fixtures/ical, tests/fixtures/feed), served by the local server and read
through the real client into a real SQLite file."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pipeline.core.config import IcalSource
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import run
from watcher.sources.ical import IcalAdapter

ICS = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()
NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


def test_a_calendar_of_many_recurring_events_is_read_in_linear_time(engine, server: LocalServer) -> None:
    """Each recurring event's series was gathered by walking every event of the calendar: 1,000 yearly
    events took 9 s, 10,000 a quarter of an hour, and a hostile export of 100,000 held the main job
    for a day. 3,000 are read in well under the 80 s the quadratic walk took."""
    events = b"".join(
        b"BEGIN:VEVENT\r\nUID:yearly-%d@interreg.no\r\nSUMMARY:Interreg Aurora: Utlysning %d\r\n"
        b"DTSTART:20250101T100000Z\r\nDTEND:20250301T100000Z\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n"
        % (n, n) for n in range(3000))
    hostile = ICS.replace(b"END:VCALENDAR", events + b"END:VCALENDAR")
    server.route("GET", "/cal.ics", lambda request: Reply(200, hostile, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    started = time.monotonic()
    result = run(engine, adapter, NOW)
    elapsed = time.monotonic() - started
    assert (result.outcome, result.complete, result.seen) == ("ok", True, 3004)
    assert elapsed < 30, f"{elapsed:.1f} s"


RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def test_soft_hyphens_and_zero_width_spaces_in_a_feed_item_are_not_read_as_text(engine,
                                                                                server: LocalServer) -> None:
    """Sites hyphenate long Nordic words with soft hyphens ("Ut&shy;lysning") and CMS editors leave
    zero-width spaces: the item was skipped as no call announcement ("Ut\\xadlysning" is no
    "utlysning"), and a deadline written around a zero-width space was no date."""
    from sqlmodel import Session, select

    from pipeline.core.config import FeedSource
    from pipeline.core.models import Call
    from watcher.sources import BuildContext
    from watcher.sources.feed import FeedAdapter

    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Nyheter</title>'
            "<item><title>Ut&#173;lysning: Grønn plattform 2027</title>"
            "<link>https://interreg.no/nyheter/utlysning-2027/</link><guid>https://interreg.no/?p=1</guid>"
            "<description><![CDATA[<p>Søk&shy;nads&shy;frist&#8203; 12.&#8203;03.2027 kl. 13.00</p>]]>"
            "</description></item></channel></rss>").encode()
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    adapter = FeedAdapter("no_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    with Session(engine) as session:
        (call,) = session.exec(select(Call)).all()
    assert (call.title, call.text) == ("Utlysning: Grønn plattform 2027", "Søknadsfrist 12.03.2027 kl. 13.00")
    assert call.deadline.replace(tzinfo=UTC) == datetime(2027, 3, 12, 12, 0, tzinfo=UTC)


def test_a_soft_hyphen_in_a_calendar_summary_is_not_kept(engine, server: LocalServer) -> None:
    """A soft hyphen in an event's summary stayed in the stored title, and one inside a word of an
    event that is no call ("Web&shy;inar") let it through as a call."""
    from sqlmodel import Session, select

    from pipeline.core.models import Call

    hostile = ICS.replace(b"SUMMARY:Interreg Aurora: Utlysning",
                          b"SUMMARY:Interreg Aurora: Ut\xc2\xadlysning")
    event = (b"BEGIN:VEVENT\r\nUID:webinar@interreg.no\r\nSUMMARY:Interreg Aurora: Web\xc2\xadinar om "
             b"utlysningen\r\nDTSTART:20251201T100000Z\r\nDTEND:20251201T110000Z\r\nEND:VEVENT\r\n")
    hostile = hostile.replace(b"END:VCALENDAR", event + b"END:VCALENDAR")
    assert hostile != ICS
    server.route("GET", "/cal.ics", lambda request: Reply(200, hostile, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.seen) == ("ok", 4)
    with Session(engine) as session:
        titles = [call.title for call in session.exec(select(Call))]
    assert not any("\xad" in title for title in titles), titles


def test_listing_links_relative_to_a_base_element_are_resolved_against_it(engine,
                                                                          server: LocalServer) -> None:
    """A site writing ``<base href="https://site/">`` (TYPO3's baseURL) and links relative to it
    ("da/p/…") had them joined to the listing's own address ("/da/da/p/…"): every stored link was a
    page that does not exist and every call page failed, so no run was ever complete. The listing is
    the Innovationsfonden fixture with its head given a base element and its links made relative."""
    from pipeline.core.config import HtmlListSource
    from watcher.sources.html_list import HtmlListAdapter

    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_bytes()
    detail = (FIXTURES / "html_list" / "innovationsfonden_grand_solutions.html").read_bytes()
    listing = listing.replace(b"<head>", b'<head><base href="' + server.url("/").encode() + b'">')
    for path in (b"/da/p/", b"/da/programmer/"):
        listing = listing.replace(b'href="' + path, b'href="' + path[1:])
    html = {"Content-Type": "text/html; charset=utf-8"}
    server.route("GET", "/da/programmer", lambda request: Reply(200, listing, html))
    for path in ("/da/p/grand-solutions/grand-solutions-2027", "/da/programmer/innobooster",
                 "/da/programmer/eurostars"):
        server.route("GET", path, lambda request: Reply(200, detail, html))
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden", item=".views-row",
        title="h3", link="h3 a[href]", text=".teaser__dates, .teaser__amount, .teaser__text", detail=True,
        detail_text=".node__content"))
    result = run(engine, adapter, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert (result.outcome, result.complete, result.new) == ("ok", True, 3), result.error
    from sqlmodel import Session, select

    from pipeline.core.models import Call

    with Session(engine) as session:
        assert sorted(call.url for call in session.exec(select(Call))) == [
            server.url("/da/p/grand-solutions/grand-solutions-2027"), server.url("/da/programmer/eurostars"),
            server.url("/da/programmer/innobooster")]


def test_one_post_listed_twice_under_two_guids_is_one_call(engine, server: LocalServer) -> None:
    """A post republished (or listed once more with a newsletter's tracking link) under a new guid
    was a second call of the same announcement: both in the digest, both followed apart. An item with
    the link (tracking parameters aside) and the title of an earlier item of the answer is that item."""
    from sqlmodel import Session, select

    from pipeline.core.config import FeedSource
    from pipeline.core.models import Call
    from watcher.sources import BuildContext
    from watcher.sources.feed import FeedAdapter

    items = "".join(
        "<item><title>Call for proposals: small projects</title>"
        f"<link>https://interreg-baltic.eu/news/call-1/{query}</link><guid>https://interreg-baltic.eu/?p={n}</guid>"
        "<description>Apply until 15 January 2027.</description></item>"
        for n, query in ((48301, ""), (48213, "?utm_source=newsletter&amp;utm_medium=email")))
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            f"{items}</channel></rss>").encode()
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    adapter = FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    assert "1 item(s) repeat the link and title of an earlier item, read as that one (first: " \
           "https://interreg-baltic.eu/?p=48213)" in result.error
    with Session(engine) as session:
        assert [c.external_id for c in session.exec(select(Call))] == ["https://interreg-baltic.eu/?p=48301"]


def test_an_event_ending_before_it_starts_keeps_the_stored_call(engine, server: LocalServer) -> None:
    """RFC 5545 has DTEND later than DTSTART; an export that swapped or garbled them (DTEND 1 January,
    DTSTART 12 January) moved a stored call's deadline to before its opening, and the call "closed"
    on that answer. Such an event is left out and named, and the stored call is kept."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from pipeline.core.models import Call

    answers = [ICS, ICS.replace(b"DTEND;TZID=Europe/Oslo:20260416T235900",
                                b"DTEND;TZID=Europe/Oslo:20260101T235900")]
    assert answers[1] != ICS
    server.route("GET", "/cal.ics", lambda request: Reply(200, answers[0], {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    first = run(engine, adapter, NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 4)
    key = "21544-1768208400-1776383940@interreg.no"

    def stored() -> tuple:
        with Session(engine) as session:
            call = session.exec(select(Call).where(Call.external_id == key)).one()
            return call.status, call.deadlines

    before = stored()
    answers.pop(0)
    second = run(engine, adapter, datetime(2026, 1, 5, 8, 0, tzinfo=UTC) + timedelta(hours=1))
    assert (second.outcome, second.complete, second.closed) == ("ok", False, 0)
    assert second.error == (f"1 event(s) could not be read (first: event {key}: it ends (DTEND "
                            "2026-01-01 22:59 UTC) before it starts (DTSTART 2026-01-12 08:00 UTC))")
    assert stored() == before


def test_a_character_reference_xml_forbids_garbles_nothing(engine, server: LocalServer) -> None:
    """A reference to a surrogate ("&#xD800;", what a broken exporter writes for half an emoji) made
    feedparser give up on the whole feed: the title kept the surrogate's bytes read as Latin-1
    ("í €") and every run warned that the feed has errors. It is a replacement character now, and
    a reference to a control character ("&#27;[31m") is dropped."""
    from sqlmodel import Session, select

    from pipeline.core.config import FeedSource
    from pipeline.core.models import Call
    from watcher.sources import BuildContext
    from watcher.sources.feed import FeedAdapter

    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            "<item><title>Call for proposals: Grøn omstilling &#xD83D;</title><link>https://a.dk/1</link>"
            "<description>Ansøgningsfrist 1. marts 2027 &#27;[31m</description></item>"
            "</channel></rss>").encode()
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    adapter = FeedAdapter("dk_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    assert "has errors" not in result.error
    with Session(engine) as session:
        (call,) = session.exec(select(Call)).all()
    assert (call.title, call.text) == ("Call for proposals: Grøn omstilling \ufffd",
                                       "Ansøgningsfrist 1. marts 2027 [31m")


def test_feed_items_whose_links_go_nowhere_are_one_call_each(engine, server: LocalServer) -> None:
    """Items without a guid whose link is a script ("javascript:void(0)") or a data: URL were told by
    that link: two announcements shared one id, so both were refused as one id sent twice, and a
    script link was stored as the call's address. Such a link is no link; the item is told by its
    title."""
    from sqlmodel import Session, select

    from pipeline.core.config import FeedSource
    from pipeline.core.models import Call
    from watcher.sources import BuildContext
    from watcher.sources.feed import FeedAdapter

    items = "".join(f"<item><title>Call for proposals {n}: small projects</title><link>{link}</link>"
                    "<description>Apply until 15 January 2027.</description></item>"
                    for n, link in ((1, "javascript:void(0)"), (2, "javascript:void(0)"),
                                    (3, "data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;")))
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            f"{items}</channel></rss>").encode()
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    adapter = FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.new) == ("ok", 3), result.error
    with Session(engine) as session:
        assert sorted((c.external_id, c.url) for c in session.exec(select(Call))) == [
            (f"Call for proposals {n}: small projects", None) for n in (1, 2, 3)]


def test_a_calendar_event_linking_to_a_script_has_no_address(engine, server: LocalServer) -> None:
    """An event's URL "javascript:alert(1)" (or a data: URL) was stored as the call's address, shown
    by ``calls show`` and exported by ``calls list --csv``; as in feeds and listings it is no link."""
    from sqlmodel import Session, select

    from pipeline.core.models import Call

    old = b"URL:https://interreg.no/arrangement/interreg-oks-ansokningsomgang-2026-1/"
    assert old in ICS
    hostile = ICS.replace(old, b"URL:javascript:alert(1)")
    server.route("GET", "/cal.ics", lambda request: Reply(200, hostile, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.new) == ("ok", 4)
    with Session(engine) as session:
        key = "21544-1768208400-1776383940@interreg.no"
        call = session.exec(select(Call).where(Call.external_id == key)).one()
    assert call.url is None

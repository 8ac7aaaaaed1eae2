"""Feed source (WordPress RSS 2.0 as interreg-baltic.eu/feed/) and dates found in free text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from pipeline.core.config import FeedSource
from pipeline.core.errors import FetchError, ParseError
from pipeline.core.models import Call, CallChange
from tests.localserver import LocalServer, Reply
from watcher.dates import call_dates, find_dates
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter, parse_feed

FEED = Path(__file__).parent / "fixtures" / "feed" / "interreg_baltic_feed.xml"
NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}


def _adapter(url: str) -> FeedAdapter:
    return FeedAdapter("bsr_news", FeedSource(type="feed", url=url, programme="Interreg Baltic Sea Region"))


def test_call_items_become_announced_calls_with_dates() -> None:
    records, warning = parse_feed(FEED.read_bytes(), source="bsr_news",
                                  phrases=list(FeedSource(type="feed", url="https://example.dk/feed").call_phrases),
                                  programme="Interreg Baltic Sea Region")
    assert warning is None
    assert [r.external_id for r in records] == ["https://interreg-baltic.eu/?p=48213",
                                                "https://interreg-baltic.eu/?p=48102"]
    platforms, core = records
    assert platforms.status == "announced"
    assert platforms.title == "Project platforms: the call is open for applications"
    assert platforms.url == ("https://interreg-baltic.eu/news/"
                             "project-platforms-the-call-is-open-for-applications/")
    assert platforms.programme == "Interreg Baltic Sea Region"
    assert platforms.opening_date == datetime(2025, 8, 31, 22, 0, tzinfo=UTC)  # 1 September, CEST
    assert [(d.at, d.time_assumed) for d in platforms.deadlines] == \
        [(datetime(2025, 11, 20, 15, 0, tzinfo=UTC), False)]  # 16:00 CET
    assert "80 % ERDF co-financing" in platforms.text
    assert platforms.extra["categories"] == ["Call for applications", "News"]
    assert core.opening_date == datetime(2026, 2, 2, 23, 0, tzinfo=UTC)
    assert [(d.at, d.time_assumed) for d in core.deadlines] == \
        [(datetime(2026, 3, 17, 16, 0, tzinfo=UTC), True)]  # no time given: 17:00 CET assumed


def test_dates_in_danish_german_swedish_norwegian() -> None:
    da = call_dates("Ansøgningsfristen er 1. oktober 2026 kl. 12:00. Opslaget åbner 3. maj 2026.")
    assert da.opening == datetime(2026, 5, 2, 22, 0, tzinfo=UTC)
    assert [(d.at, d.time_assumed) for d in da.deadlines] == [(datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
                                                                False)]
    de = find_dates("Die Frist endet am 10.11.2025 um 17:00 Uhr.")
    assert [(d.at, d.kind) for d in de] == [(datetime(2025, 11, 10, 16, 0, tzinfo=UTC), "deadline")]
    sv = call_dates("Sista ansökningsdag är 12 september 2026.")
    assert sv.deadlines[0].at == datetime(2026, 9, 12, 15, 0, tzinfo=UTC)
    nb = call_dates("Søknadsfrist: 5. juni 2026")
    assert nb.deadlines[0].at == datetime(2026, 6, 5, 15, 0, tzinfo=UTC)
    assert find_dates("We need 3 partners from 2 countries; budget 2026 plan.") == []


def test_feed_over_http_into_the_database(server: LocalServer, engine) -> None:
    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), RSS))
    with httpx.Client() as client:
        first = run_source(engine, _adapter(server.url("/feed/")), client, NOW)
        again = run_source(engine, _adapter(server.url("/feed/")), client, NOW)
    assert (first.outcome, first.seen, first.new, first.complete) == ("ok", 2, 2, False)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)


def test_broken_feed_is_read_as_far_as_possible(server: LocalServer) -> None:
    body = FEED.read_bytes()
    truncated = body[:body.index(b"<item>", body.index(b"?p=48170"))]  # cut after the second item
    server.route("GET", "/feed/", lambda r: Reply(200, truncated, RSS))
    with httpx.Client() as client:
        result = _adapter(server.url("/feed/")).fetch(client, NOW)
    assert [r.external_id for r in result.records] == ["https://interreg-baltic.eu/?p=48213"]
    assert result.warning is not None
    url = server.url("/feed/")
    assert result.warning.startswith(f"feed {url} has errors, read 2 items as far as possible (the parser "
                                     "said: ")


def test_garbage_and_http_errors(server: LocalServer) -> None:
    server.route("GET", "/html", lambda r: Reply(200, "<html><body>Maintenance</body></html>",
                                                 {"Content-Type": "text/html"}))
    server.route("GET", "/down", lambda r: Reply(503, "unavailable"))
    with httpx.Client() as client:
        with pytest.raises(ParseError, match="not an RSS or Atom feed"):
            _adapter(server.url("/html")).fetch(client, NOW)
        with pytest.raises(FetchError, match="HTTP 503"):
            _adapter(server.url("/down")).fetch(client, NOW)


def test_a_stray_end_tag_keeps_the_items_and_says_so(server: LocalServer, engine) -> None:
    # feedparser's loose parser raises on a </width> outside <image> (kurtmckee/feedparser#576)
    body = FEED.read_bytes().replace(b"<title>Interreg Baltic Sea Region</title>",
                                     b"<title>Interreg Baltic Sea Region</title></width>", 1)
    server.route("GET", "/feed/", lambda r: Reply(200, body, RSS))
    with httpx.Client() as client:
        result = run_source(engine, _adapter(server.url("/feed/")), client, NOW)
    assert (result.outcome, result.seen, result.new) == ("ok", 2, 2)
    assert result.error == (f"feed {server.url('/feed/')} has errors, read 3 items as far as possible (the "
                            "parser said: TypeError: int() argument must be a string, a bytes-like object or "
                            "a real number, not 'NoneType'; the XML parser found: Opening and ending tag "
                            "mismatch: channel line 10 and width); a feed lists only recent items, so calls "
                            "missing from it stay as they are; 2 item(s) read as calls, 1 skipped as no call "
                            "announcement (no call phrase), first skipped: 'Meet the projects of the fourth "
                            "call at the annual conference'")


DANISH_ITEM = ("Ny indkaldelse: projektplatforme – Indkaldelsen åbner 1. oktober 2026, ansøgningsfristen er "
               "15. januar 2027 kl. 16.00.")


def _rss(*items: tuple[str, str]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>https://example.dk/{n}</link><guid>g{n}</guid>"
                   f"<description>{d}</description></item>" for n, (t, d) in enumerate(items))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Nyheder</title>'
            f"{body}</channel></rss>").encode()


@pytest.mark.parametrize("text", [
    DANISH_ITEM,
    "Utlysning: samverkansprojekt. Sista ansökningsdag är 12 september 2026.",
    "Søknadsfrist for forprosjekter: 5. juni 2026",
    "Förderaufruf Wasserstoff: Einreichungsfrist 10.11.2026 um 17:00 Uhr",
])
def test_call_phrases_in_danish_swedish_norwegian_german(text: str) -> None:
    title, _, rest = text.partition(": ")
    records, _ = parse_feed(_rss((title, rest)), source="x",
                            phrases=list(FeedSource(type="feed", url="https://example.dk/feed").call_phrases))
    assert len(records) == 1 and records[0].deadlines


def test_danish_item_keeps_its_dates() -> None:
    (record,), _ = parse_feed(_rss(("Ny indkaldelse: projektplatforme", DANISH_ITEM)), source="x",
                              phrases=list(FeedSource(type="feed", url="https://example.dk/feed").call_phrases))
    assert record.opening_date == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert [d.at for d in record.deadlines] == [datetime(2027, 1, 15, 15, 0, tzinfo=UTC)]


def test_call_phrases_are_overridable_and_a_run_says_why_it_is_partial(server: LocalServer, engine) -> None:
    server.route("GET", "/feed/", lambda r: Reply(200, _rss(("Ny indkaldelse", DANISH_ITEM),
                                                            ("Sommerhilsen", "God sommer")), RSS))
    only_english = FeedAdapter("dk", FeedSource(type="feed", url=server.url("/feed/"),
                                                call_phrases=["call for proposals"]))
    with httpx.Client() as client:
        assert only_english.fetch(client, NOW).records == []
        result = run_source(engine, FeedAdapter("dk", FeedSource(type="feed", url=server.url("/feed/"))),
                            client, NOW)
    assert (result.seen, result.complete) == (1, False)
    assert result.error == ("a feed lists only recent items, so calls missing from it stay as they are; "
                            "1 item(s) read as calls, 1 skipped as no call announcement (no call phrase), "
                            "first skipped: 'Sommerhilsen'")


def test_markup_in_a_title_is_not_stored_as_its_tags() -> None:
    """An Atom title of type html and an RSS title with escaped markup were stored as
    '<b>Call for proposals</b> & more', tags and all."""
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title type="html">&lt;b&gt;Call for proposals&lt;/b&gt; &amp;amp; more, a &amp;lt; b</title>
<id>urn:b</id></entry>
<entry><title type="text">Call for proposals: 5 &lt; 6</title><id>urn:c</id></entry></feed>"""
    rss = _rss(("Call &lt;b&gt;for&lt;/b&gt; proposals &amp;amp; more", "open now"))
    phrases = list(FeedSource(type="feed", url="https://example.dk/feed").call_phrases)
    records, _ = parse_feed(atom, source="x", phrases=phrases)
    assert [r.title for r in records] == ["Call for proposals & more, a < b", "Call for proposals: 5 < 6"]
    (record,), _ = parse_feed(rss, source="x", phrases=phrases)
    assert record.title == "Call for proposals & more"


def test_a_feed_of_thousands_of_items_is_read_in_its_first_items() -> None:
    """Each item's dates are searched (some 8 ms): 2,000 items took 16 s, a 20 MB feed of them 20
    minutes of its run. The first MAX_ITEMS are read and the warning says how many there were."""
    from watcher.sources.feed import MAX_ITEMS

    items = [(f"Call for proposals {n}", "Deadline 1 October 2027") for n in range(MAX_ITEMS + 700)]
    phrases = list(FeedSource(type="feed", url="https://example.dk/feed").call_phrases)
    records, warning = parse_feed(_rss(*items), source="x", feed="https://example.dk/feed", phrases=phrases)
    assert len(records) == MAX_ITEMS and records[0].title == "Call for proposals 0"
    assert warning == (f"feed https://example.dk/feed has {MAX_ITEMS + 700:,} items, only the first "
                       f"{MAX_ITEMS} were read")


def test_an_item_without_a_title_is_titled_by_its_first_words() -> None:
    """RSS allows an item of a description only; such a call announcement was skipped as "(untitled)"."""
    feed = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
            b"<guid>g1</guid><description>Call for proposals: small projects on green shipping in the Baltic "
            b"Sea Region, open to clusters and SMEs. Deadline 1 October 2027.</description></item>"
            b"<item><guid>g2</guid><description>Summer greetings</description></item></channel></rss>")
    skipped: list[str] = []
    (record,), _ = parse_feed(feed, source="x", skipped=skipped,
                              phrases=list(FeedSource(type="feed", url="https://example.dk/feed").call_phrases))
    assert record.title == ("Call for proposals: small projects on green shipping in the Baltic Sea "
                            "Region, open to clusters and…")
    assert record.external_id == "g1" and [d.at.isoformat() for d in record.deadlines] == [
        "2027-10-01T15:00:00+00:00"]
    assert skipped == ["Summer greetings"]


def test_an_item_cut_off_with_its_feed_keeps_the_stored_call(server: LocalServer, engine) -> None:
    """A feed ending in the middle of an item (a server stopping mid-answer; the fixture cut after
    "can apply until 20") stored that item as read: its call lost its text and its deadline, with a
    change row each ("deadline removed"), and a follower's "deadline moved … → ?" alert."""
    body = FEED.read_bytes()
    cut = body[:body.index(b"can apply until 20 November") + len(b"can apply until 20")]
    answer = {"body": body}
    server.route("GET", "/feed/", lambda r: Reply(200, answer["body"], RSS))
    with httpx.Client() as client:
        first = run_source(engine, _adapter(server.url("/feed/")), client, NOW)
        answer["body"] = cut
        result = run_source(engine, _adapter(server.url("/feed/")), client, NOW + timedelta(hours=6))
    assert (first.new, result.seen, result.changed, result.unchanged) == (2, 1, 0, 1)
    assert "the feed ends before its closing tag (cut off?): its last item, 'Project platforms: the call " \
           "is open for applications', is kept as stored" in result.error
    with Session(engine) as session:
        ref = "https://interreg-baltic.eu/?p=48213"
        call = session.exec(select(Call).where(Call.external_id == ref)).one()
        assert call.deadline == datetime(2025, 11, 20, 15, 0, tzinfo=UTC) and "20 November 2025" in call.text
        assert session.exec(select(CallChange)).all() == []

"""Second reading of round five's watcher changes: the environment's proxies, the stored calls a run
does not ask for, the times read after a date; through the real client against local servers into a
real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.core.config import FeedSource
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply
from tests.test_faults_round5 import FEED, NOW, RSS
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter

# A proxy variable httpx cannot use (ALL_PROXY=socks5://… without the socks package, a scheme such as
# ftp://, a value with a space before it) made every `fundradar sync` and every source run of `serve`
# end in a traceback before any source was read: the client was built with a transport per proxy, and
# building one raised.


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        (
            "ALL_PROXY",
            "socks5://127.0.0.1:1080",
            "a SOCKS proxy needs the package socksio (pip install socksio)",
        ),
        ("HTTPS_PROXY", "ftp://proxy.example:21", "its scheme is none of http, https, socks5, socks5h"),
        ("HTTP_PROXY", " http://proxy.example:3128", "its scheme is none of http, https, socks5, socks5h"),
    ],
)
def test_a_proxy_variable_that_cannot_be_used_fails_each_source_in_one_line(
    server: LocalServer, engine, no_proxies: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    server.route("GET", "/feed", lambda r: Reply(200, FEED.read_bytes(), RSS))
    no_proxies.setenv(variable, value)
    no_proxies.setenv("NO_PROXY", "127.0.0.1")
    url = f"{'https' if variable == 'HTTPS_PROXY' else 'http'}://funder.invalid/feed"
    failing = FeedAdapter("news", FeedSource(type="feed", url=url))
    direct = FeedAdapter("local", FeedSource(type="feed", url=server.url("/feed")))
    with make_client(timeout=10, backoff=0.01) as client:
        failed = run_source(engine, failing, client, NOW)
        read = run_source(engine, direct, client, NOW)
    assert failed.outcome == "failed"
    assert failed.error is not None and "\n" not in failed.error
    assert failed.error.startswith(f"cannot fetch {url}: the proxy "), failed.error
    assert f"(from {variable}) cannot be used: {reason}; check the proxy variable" in failed.error
    assert "retr" not in failed.error  # a setting does not mend itself: not retried
    # a host named in NO_PROXY is still reached, without the proxy
    assert (read.outcome, read.new) == ("ok", 2), read.error


# A number right after a deadline's year that is no time ("Ansøgningsfrist 1. marts 2027, 25 mio. kr.",
# a listing's usual item text) lost the deadline altogether: dateparser's search took the number for
# the day ("marts 2027, 25"), the date was then dropped as one whose day was lost, and the call was
# stored with no deadline. Times after the year were taught today; the numbers that are not were not.


@pytest.mark.parametrize(
    ("text", "day", "hour"),
    [
        ("Ansøgningsfrist 1. marts 2027, 25 mio. kr. i puljen", "2027-03-01", 16),
        ("Deadline 1 March 2027, 3 MEUR available", "2027-03-01", 16),
        ("Frist 1. marts 2027, 12 projekter forventes", "2027-03-01", 16),
        ("Sista dag 4 mars 2027, 20 miljoner kronor", "2027-03-04", 16),
        ("Deadline 1 March 2027 | 25 mio. kr.", "2027-03-01", 16),
        ("Deadline 1 March 2027 12:00, 25 partners", "2027-03-01", 11),
    ],
)
def test_a_number_after_the_deadlines_year_keeps_the_deadline(text: str, day: str, hour: int) -> None:
    from watcher.dates import call_dates

    deadlines = call_dates(text).deadlines
    assert [(d.at.date().isoformat(), d.at.hour) for d in deadlines] == [(day, hour)], deadlines


# The calls of a programme taken out of the config are no longer asked for, so never removed on that
# account: so it went today for eu_ft, euro_access and page_watch. An ical source's `programmes` keep
# the events of the programmes listed; one taken out of the list had its events still in the calendar
# read as dropped, and its calls were removed two runs later, before their deadlines.

ICS = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()
ICAL_NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
SVERIGE_NORGE = "21601-1770026400-1777986000@interreg.no"


def _statuses(engine) -> dict[str, str]:
    from sqlmodel import Session, select

    from pipeline.core.models import Call

    with Session(engine) as session:
        return {c.external_id: c.status for c in session.exec(select(Call))}


def test_an_ical_programme_taken_out_of_the_config_keeps_its_calls(engine, server: LocalServer) -> None:
    from pipeline.core.config import IcalSource
    from watcher.sources import BuildContext
    from watcher.sources.ical import IcalAdapter

    server.route("GET", "/cal.ics", lambda r: Reply(200, ICS, {"Content-Type": "text/calendar"}))
    context = BuildContext(engine=engine)
    every = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")), context)
    narrowed = IcalAdapter(
        "interreg_no",
        IcalSource(
            type="ical", url=server.url("/cal.ics"), programmes=["Interreg Öresund-Kattegat-Skagerrak"]
        ),
        context,
    )
    with make_client(retries=0) as client:
        first = run_source(engine, every, client, ICAL_NOW)
        assert (first.outcome, first.new) == ("ok", 4), first.error
        before = _statuses(engine)
        for hours in (1, 2):
            later = run_source(engine, narrowed, client, ICAL_NOW.replace(hour=8 + hours))
            assert (later.outcome, later.complete, later.missing, later.closed) == ("ok", True, 0, 0)
    assert _statuses(engine) == before
    assert before[SVERIGE_NORGE] == "forthcoming"


# html_list learnt today that a call published as a PDF is no page to read. A page_watch page that
# answers with a PDF (a funder's call text watched by its link) failed on every run as "ends before
# </html> (cut off?); it is read again on the next run": a passing fault, said of a file that never
# has an end tag, so the source stayed partial for good with nothing telling what to change.

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_watched_page_answering_with_a_pdf_is_named_as_no_web_page(engine, server: LocalServer) -> None:
    from pipeline.core.config import PageWatchSource
    from watcher.sources import BuildContext
    from watcher.sources.page_watch import PageWatchAdapter

    page = (FIXTURES / "page_watch" / "bsr_stars.html").read_bytes()
    server.route("GET", "/innovation-express/", lambda r: Reply(200, page, {"Content-Type": "text/html"}))
    server.route("GET", "/call-text", lambda r: Reply(200, PDF, {"Content-Type": "application/pdf"}))
    cfg = PageWatchSource(
        type="page_watch", pages=[server.url("/innovation-express/"), server.url("/call-text")]
    )
    with make_client(retries=0) as client:
        result = run_source(engine, PageWatchAdapter("ie", cfg, BuildContext(engine=engine)), client, NOW)
    assert (result.outcome, result.new, result.complete) == ("ok", 1, False)
    assert result.error == (
        f"1 of 2 watched pages could not be read (first: {server.url('/call-text')} answers with "
        "application/pdf, not a web page; watch the page that links it, or take it out of pages)"
    )


# An amount right after a deadline's year was read as the deadline's time when written with a scale
# letter ("2.50 MEUR", "4.50 M€", "12.50 MDKK", "1.50 m EUR", ", 10.50 MSEK"; dateparser itself reads
# "2027 12.30 mio. kr." so): the deadline of 15 March became 02:50 that night, and the call read as
# closed 14 hours before it closed.


@pytest.mark.parametrize(
    "text",
    [
        "Deadline 15 March 2027 - 2.50 MEUR",
        "Deadline 15 March 2027, 2.50 MEUR",
        "Deadline 15 March 2027 (4.50 M€)",
        "Frist 15. marts 2027 - 12.50 MDKK",
        "Deadline 15 March 2027 – 1.50 m EUR",
        "Sista dag 15 mars 2027, 10.50 MSEK",
        "Ansøgningsfrist: 15. marts 2027 12.30 mio. kr. i puljen",
        "Deadline 15 March 2027 12.5 MEUR",
    ],
)
def test_an_amount_after_the_deadlines_year_is_no_time(text: str) -> None:
    from watcher.dates import call_dates

    deadlines = call_dates(text).deadlines
    assert [(d.at.isoformat(), d.time_assumed) for d in deadlines] == [("2027-03-15T16:00:00+00:00", True)]


def test_a_time_after_the_deadlines_year_is_still_read() -> None:
    from watcher.dates import call_dates

    for text in (
        "Deadline 15 March 2027 - 12.00 CET",
        "Frist 15. marts 2027, kl. 12.00",
        "Deadline 15 March 2027 (12.00)",
    ):
        assert [d.at.hour for d in call_dates(text).deadlines] == [11], text


# A server sending its Content-Type twice (a CMS and the proxy in front of it each adding one) is
# answered to httpx as one value joined by a comma, "text/html, text/html; charset=utf-8": taken for
# no web page, an html_list call page was left unread in silence, and a watched page failed every run.


def test_a_content_type_sent_twice_is_still_a_web_page(engine, server: LocalServer) -> None:
    from pipeline.core.config import PageWatchSource
    from watcher.sources import BuildContext
    from watcher.sources.page_watch import PageWatchAdapter
    from watcher.urls import is_page_type

    assert is_page_type("text/html, text/html; charset=utf-8")
    assert not is_page_type("application/pdf, application/pdf")
    page = (FIXTURES / "page_watch" / "bsr_stars.html").read_bytes()
    twice = {"Content-Type": "text/html, text/html; charset=utf-8"}
    server.route("GET", "/innovation-express/", lambda r: Reply(200, page, twice))
    cfg = PageWatchSource(type="page_watch", pages=[server.url("/innovation-express/")])
    with make_client(retries=0) as client:
        result = run_source(engine, PageWatchAdapter("ie", cfg, BuildContext(engine=engine)), client, NOW)
    assert (result.outcome, result.new, result.complete) == ("ok", 1, True), result.error

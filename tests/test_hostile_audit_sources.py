"""Hostile answers of the sources, round three: variants of real answers served by the local server,
read through the real client into a real SQLite file."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pipeline.core.config import FeedSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply, Request
from tests.test_plausibility import DAY, JSON, SEARCH, eu_ft, portal, run  # noqa: F401 (portal: fixture)
from watcher.replay import SediaSearchRecording
from watcher.sources import BuildContext
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


class GrowingPortal:
    """The search API over 700 recorded results, 7 pages of 100; ``grow_at`` (a page number) adds a new
    result in front of that page's results from that page on, as a portal publishing a topic while a
    run reads it does: every later result moves back one place, and the last one onto page 8."""

    def __init__(self, server: LocalServer, samples: Path) -> None:
        self.results = SediaSearchRecording(samples / "eu_ft" / "search_2026-08-21").results[:700]
        self.grow_at: int | None = None
        server.route("POST", SEARCH, self.handle)

    def handle(self, request: Request) -> Reply:
        number = int(request.query["pageNumber"][0])
        results = list(self.results)
        if self.grow_at is not None and number >= self.grow_at:
            new = copy.deepcopy(results[0])
            new["reference"] = "HORIZON-NEW-2026-TOPIC-01"
            results.insert((self.grow_at - 1) * 100, new)
        page = {"totalResults": len(results), "pageNumber": number, "pageSize": 100,
                "results": results[(number - 1) * 100:number * 100]}
        return Reply(200, json.dumps(page).encode(), JSON)


def test_a_result_set_growing_while_it_is_read_closes_nothing(engine, server: LocalServer,
                                                              samples: Path) -> None:
    """Each page was checked against the first page's totalResults only: a topic published while the
    pages were read moved the last result onto a page the run never asked for, every page read was
    full and the run was complete, so a call still on the portal was marked missing."""
    growing = GrowingPortal(server, samples)
    first = run(engine, eu_ft(server), DAY)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 700)
    growing.grow_at = 5
    result = run(engine, eu_ft(server), DAY + timedelta(days=1))
    assert (result.outcome, result.complete, result.missing, result.closed) == ("ok", False, 0, 0)
    assert "page 5 of 7 (all programmes) declares totalResults 701, page 1 declared 700; the result " \
           "set changed while it was read, the next run completes it" in result.error
    with Session(engine) as session:
        assert session.exec(select(Call).where(Call.missing_since.is_not(None))).all() == []


def test_a_feed_whose_guids_change_every_fetch_keeps_one_call_per_item(engine, server: LocalServer) -> None:
    """A feed generating its guids anew on every request (a session id or a time in them) made every
    item a new call every day: the same announcement stored once a run, each a new call of the
    digest, and the earlier copies never closed (a feed run is never complete)."""
    fetches = []

    def answer(request: Request) -> Reply:
        fetches.append(request)
        body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
                + "".join(f"<item><title>Call for proposals {n}: small projects</title>"
                          f"<link>https://interreg-baltic.eu/news/call-{n}/</link>"
                          f'<guid isPermaLink="false">urn:session:{len(fetches)}:{n}</guid>'
                          "<description>Call for proposals open until 15 January 2027.</description></item>"
                          for n in (1, 2))
                + "</channel></rss>").encode()
        return Reply(200, body, RSS)

    server.route("GET", "/feed/", answer)
    adapter = FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    first = run(engine, adapter, NOW)
    again = run(engine, adapter, NOW + timedelta(days=1))
    assert (first.new, again.new, again.unchanged) == (2, 0, 2)
    assert sorted(_titles(engine)) == ["urn:session:1:1", "urn:session:1:2"]


def test_a_sedia_title_read_from_the_summary_is_unescaped(engine, server: LocalServer, portal) -> None:  # noqa: F811
    """The search API's ``summary`` is HTML-escaped ('Designing &amp; optimising'), its metadata title
    is not; a result without a metadata title was stored titled with the entity as text."""
    def untitled(number: int, data: dict) -> dict:
        for result in data["results"]:
            if "&amp;" in result.get("summary", "") or "&lt;" in result.get("summary", ""):
                result["metadata"].pop("title", None)
        return data

    portal.mutate = untitled
    result = run(engine, eu_ft(server), DAY)
    assert (result.outcome, result.new) == ("ok", 731)
    titles = _titles(engine)
    assert titles["50129793TOPICSen"].startswith(
        "PV based electrification of the economy: Designing & optimising PV systems")
    assert not [title for title in titles.values() if "&amp;" in title or "&lt;" in title]


def test_listing_items_whose_links_go_nowhere_are_one_call_each(engine, server: LocalServer) -> None:
    """Items of a listing whose 'link' is a page anchor, a script or an e-mail address (an accordion
    of calls, '#', 'javascript:void(0)', 'mailto:') shared that link as their id: the first was stored,
    the others dropped as the same call sent twice with different content, and the run kept partial;
    the stored call's link was 'javascript:void(0)'."""
    from pipeline.core.config import HtmlListSource
    from watcher.sources.html_list import HtmlListAdapter

    hrefs = ["#", "#apply", "javascript:void(0)", "mailto:grants@example.dk", "javascript:open('x')"]
    rows = "".join(f'<div class="views-row"><h3><a href="{href}">Grand Solutions 2027, runde {n}</a></h3>'
                   f'<div class="teaser__dates">Ansøgningsfrist {n}. februar 2027</div></div>'
                   for n, href in enumerate(hrefs, start=1))
    rows += '<div class="views-row"><h3><a href="/da/p/ok">Innobooster 2027</a></h3></div>'
    server.route("GET", "/da/programmer", lambda request: Reply(
        200, f"<html><body>{rows}</body></html>".encode(), {"Content-Type": "text/html; charset=utf-8"}))
    cfg = HtmlListSource(type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden",
                         item=".views-row", title="h3", link="h3 a[href]", text=".teaser__dates")
    result = run(engine, HtmlListAdapter("ifd", cfg), NOW)
    assert (result.outcome, result.new, result.complete, result.error) == ("ok", 6, True, None)
    with Session(engine) as session:
        urls = {c.title: c.url for c in session.exec(select(Call))}
    assert urls == {**{f"Grand Solutions 2027, runde {n}": None for n in range(1, 6)},
                    "Innobooster 2027": server.url("/da/p/ok")}


@pytest.mark.parametrize("content_type", ["text/html; charset=ISO-8859-1", "text/html; charset=windows-1252",
                                          "text/html"])
def test_a_utf8_listing_labelled_latin1_is_read_as_utf8(engine, server: LocalServer,
                                                        content_type: str) -> None:
    """A UTF-8 page under a Latin-1 label (a server's default charset, or a template's stale meta tag)
    was read by the label: every Danish letter doubled ('AnsÃ¸gningsfrist', 'GrÃ¸n omstilling'),
    stored, shown and scored so; bytes that are valid UTF-8 with letters beyond ASCII are UTF-8."""
    from pipeline.core.config import HtmlListSource
    from watcher.sources.html_list import HtmlListAdapter

    page = ('<html><head><meta charset="iso-8859-1"><title>Programmer</title></head><body>'
            '<div class="views-row"><h3><a href="/da/p/groen">Grøn omstilling – Grand Solutions 2027</a></h3>'
            '<div class="teaser__dates">Ansøgningsfrist 2. februar 2027 kl. 12.00</div></div>'
            '</body></html>').encode()
    server.route("GET", "/da/programmer", lambda request: Reply(200, page, {"Content-Type": content_type}))
    cfg = HtmlListSource(type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden",
                         item=".views-row", title="h3", link="h3 a[href]", text=".teaser__dates")
    result = run(engine, HtmlListAdapter("ifd", cfg), NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    with Session(engine) as session:
        call = session.exec(select(Call)).one()
    assert call.title == "Grøn omstilling – Grand Solutions 2027"
    assert call.text == "Ansøgningsfrist 2. februar 2027 kl. 12.00"


def test_a_link_whose_host_changes_case_is_the_same_call(engine, server: LocalServer) -> None:
    """A listing writing one call's link as 'http://LocalHost/…' one day and 'http://localhost/…' the
    next (a CMS's link field, case-insensitive as every host name) made it two calls, the first marked
    missing; and a link whose host case differed from the listing's was read from the list alone, as
    if on another host, its call page never fetched."""
    from pipeline.core.config import HtmlListSource
    from watcher.sources.html_list import HtmlListAdapter

    port = server.url("/").split(":")[2].rstrip("/")
    hosts = iter(["localhost", "LocalHost"])

    def listing(request: Request) -> Reply:
        link = f"http://{next(hosts)}:{port}/da/p/groen"
        return Reply(200, (f'<html><body><div class="views-row"><h3><a href="{link}">Grand Solutions 2027'
                           "</a></h3></div></body></html>").encode(), {"Content-Type": "text/html"})

    server.route("GET", "/da/programmer", listing)
    server.route("GET", "/da/p/groen", lambda request: Reply(200, (
        "<html><body><main><h1>Grand Solutions 2027</h1><p class='dates'>Ansøgningsfrist 2. februar 2027 "
        "kl. 12.00. Puljen er på 50 mio. kr.</p></main></body></html>").encode(),
        {"Content-Type": "text/html; charset=utf-8"}))
    cfg = HtmlListSource(type="html_list", url=f"http://localhost:{port}/da/programmer", item=".views-row",
                         title="h3", link="h3 a[href]", detail=True, detail_text=".dates")
    first = run(engine, HtmlListAdapter("ifd", cfg), NOW)
    again = run(engine, HtmlListAdapter("ifd", cfg), NOW + timedelta(days=1))
    assert (first.new, first.complete, again.new, again.unchanged, again.missing, again.complete) == \
        (1, True, 0, 1, 0, True)
    assert [r.path for r in server.requests].count("/da/p/groen") == 2


def test_a_stored_feed_link_that_is_no_url_fails_nothing(engine, server: LocalServer) -> None:
    """The stored links an item is matched by are read again on every run: one that is no URL
    ('http://[', as a hostile feed may give) must not fail the source on each later run."""
    body = (b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            b"<item><title>Call for proposals: small projects</title><link>http://[broken</link>"
            b"<guid>g1</guid></item></channel></rss>")
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    adapter = FeedAdapter("bsr_news", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    first = run(engine, adapter, NOW)
    again = run(engine, adapter, NOW + timedelta(days=1))
    assert (first.outcome, first.new, again.outcome, again.unchanged) == ("ok", 1, "ok", 1)


def test_a_watched_page_redirecting_to_another_host_removes_nothing(engine, server: LocalServer) -> None:
    """A watched page that answers with a redirect to a login, consent or parked-domain page on
    another host was read as the page: two runs of it removed the Innovation Express call, with a
    'removed' alert, though the funder's page never changed."""
    from pipeline.core.config import PageWatchSource
    from tests.test_hostile_audit_page_watch import MAINTENANCE, PAGES
    from watcher.sources.page_watch import PageWatchAdapter

    bsr = (PAGES / "bsr_stars.html").read_text(encoding="utf-8")
    port = server.url("/").split(":")[2].rstrip("/")
    login = f"http://localhost:{port}/login"
    answers = {"/a/": Reply(200, bsr, {"Content-Type": "text/html; charset=utf-8"})}
    server.route("GET", "/a/", lambda request: answers["/a/"])
    server.route("GET", "/login", lambda request: Reply(200, MAINTENANCE, {"Content-Type": "text/html"}))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/a/")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    assert run(engine, adapter, NOW).new == 1
    answers["/a/"] = Reply(302, b"", {"Location": login})
    for day in (1, 2):
        result = run(engine, adapter, NOW + timedelta(days=day))
        assert (result.outcome, result.closed) == ("failed", 0)
        assert result.error == (f"no watched page could be read ({server.url('/a/')} "
                                "redirects to another host (localhost); only pages on 127.0.0.1 are read "
                                "for this source)")
    with Session(engine) as session:
        assert [c.status for c in session.exec(select(Call))] == ["open"]


def test_an_ampersand_before_a_word_in_a_feed_title_stays(engine, server: LocalServer) -> None:
    """A plain-text feed title was unescaped once more as HTML, whose legacy entities need no ';':
    'SMEs&partners' was stored as 'SMEs¶rtners', 'Energy&sector' as 'Energy§or', 'Nordic&regional'
    as 'Nordic®ional'. A title escaped twice ('&amp;amp;') is still read as '&'."""
    item = ("<item><title>{}</title><link>https://interreg-baltic.eu/news/{}/</link><guid>g{}</guid>"
            "<description>Call for proposals</description></item>")
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            + item.format("Call for SMEs&amp;partners in the Energy&amp;sector, Nordic&amp;regional", 1, 1)
            + item.format("Call for R&amp;amp;D &amp;#8211; Tools&amp;amp;notes", 2, 2)
            + "</channel></rss>").encode()
    result = run(engine, _feed(server, body), NOW)
    assert (result.outcome, result.new) == ("ok", 2)
    assert _titles(engine) == {"g1": "Call for SMEs&partners in the Energy&sector, Nordic&regional",
                               "g2": "Call for R&D – Tools&notes"}


def test_html_entities_in_a_calendar_summary_are_read_as_characters(engine, server: LocalServer) -> None:
    """iCalendar text is plain, but WordPress calendar exports write their titles HTML-escaped: the
    call was stored and shown as 'R&amp;D og innovasjon &#8211; 2. utlysning', under the programme
    'Interreg Sverige&#8211;Norge' that no programme filter matched."""
    from pipeline.core.config import IcalSource
    from tests.conftest import FIXTURES
    from watcher.sources.ical import IcalAdapter

    event = ("BEGIN:VEVENT\r\nUID:rd-2027@interreg.no\r\nSUMMARY:Interreg Sverige&#8211\\;Norge: R&amp;D og "
             "innovasjon &#8211\\; 2. utlysning\r\nDESCRIPTION:Søknadsfrist for R&amp;D-prosjekter\r\n"
             "DTSTART;TZID=Europe/Oslo:20260901T090000\r\nDTEND;TZID=Europe/Oslo:20270115T130000\r\n"
             "END:VEVENT\r\n")
    ics = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes().replace(
        b"END:VCALENDAR", event.encode() + b"END:VCALENDAR")
    server.route("GET", "/cal.ics", lambda request: Reply(200, ics, {"Content-Type": "text/calendar"}))
    cfg = IcalSource(type="ical", url=server.url("/cal.ics"), programmes=["Interreg Sverige–Norge"])
    result = run(engine, IcalAdapter("interreg_no", cfg), NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    with Session(engine) as session:
        call = session.exec(select(Call)).one()
    assert (call.title, call.programme, call.text) == (
        "R&D og innovasjon – 2. utlysning", "Interreg Sverige–Norge", "Søknadsfrist for R&D-prosjekter")


def test_a_host_that_keeps_refusing_is_not_waited_for_on_every_page(engine, server: LocalServer) -> None:
    """A listing's call pages all answered 429 with Retry-After (a rate limiter turned on mid-run):
    each page was retried three times with the asked wait, so 30 call pages held the run 30 x 3 x
    Retry-After (three hours at 120 s) while the other sources waited. Once a host has failed a
    request after its retries, its next requests in the run are not retried; a good answer ends that."""
    from pipeline.core.config import HtmlListSource
    from watcher.http import make_client
    from watcher.runner import run_source
    from watcher.sources.html_list import HtmlListAdapter

    rows = "".join(f'<div class="views-row"><h3><a href="/da/p/{n}">Grand Solutions 2027, runde {n}</a>'
                   "</h3></div>" for n in range(1, 5))
    server.route("GET", "/da/programmer", lambda request: Reply(
        200, f"<html><body>{rows}</body></html>".encode(), {"Content-Type": "text/html"}))
    for n in range(1, 5):
        server.route("GET", f"/da/p/{n}", lambda request: Reply(429, b"slow down", {"Retry-After": "1"}))
    cfg = HtmlListSource(type="html_list", url=server.url("/da/programmer"), item=".views-row", title="h3",
                         link="h3 a[href]", detail=True)
    with make_client(timeout=5) as client:  # the requests counted below, not a stopwatch, show the waits
        result = run_source(engine, HtmlListAdapter("ifd", cfg), client, NOW)
    assert (result.outcome, result.new, result.complete) == ("ok", 4, False)
    assert [r.path for r in server.requests].count("/da/p/1") == 4  # the first page: three retries
    assert len(server.requests) == 1 + 4 + 3
    assert result.error == (f"4 of 4 call pages could not be read, their calls are from the list only "
                            f"(first: HTTP 429 from {server.url('/da/p/1')} (after 3 retries); the source is "
                            "rate-limiting these requests (too many requests), try again in 1 s (its "
                            "Retry-After))")


def test_a_request_not_retried_says_why_and_a_good_answer_ends_it(server: LocalServer) -> None:
    from pipeline.core.errors import FetchError
    from watcher.http import fetch_text, make_client

    server.route("GET", "/busy", lambda request: Reply(503, b"busy", {"Retry-After": "0"}))
    server.route("GET", "/ok", lambda request: Reply(200, b"fine", {"Content-Type": "text/plain"}))
    with make_client(timeout=5) as client:
        messages = []
        for path in ("/busy", "/busy", "/ok", "/busy"):
            try:
                fetch_text(client, server.url(path), source="ifd")
            except FetchError as exc:
                messages.append(str(exc))
    assert messages == [
        f"source 'ifd': HTTP 503 from {server.url('/busy')} (after 3 retries); the source is failing, try "
        "again later",
        f"source 'ifd': HTTP 503 from {server.url('/busy')} (not retried: the host failed so after its "
        "retries earlier in this run); the source is failing, try again later",
        f"source 'ifd': HTTP 503 from {server.url('/busy')} (after 3 retries); the source is failing, try "
        "again later"]
    assert len(server.requests) == 4 + 1 + 1 + 4


def test_a_call_page_redirecting_to_the_listing_keeps_the_stored_call(engine, server: LocalServer) -> None:
    """A call page that a funder's site redirects to its overview (a page taken down, a 'read more'
    to the list) was read as the call's page: the call took every date and amount of the listing,
    its deadline 'changed' to the other calls' deadlines with an alert, its budget to the largest."""
    from pipeline.core.config import HtmlListSource
    from watcher.sources.html_list import HtmlListAdapter

    rows = ('<div class="views-row"><h3><a href="/da/p/1">Grand Solutions 2027</a></h3>'
            '<div class="teaser__dates">Ansøgningsfrist 2. februar 2027. Pulje 300 mio. kr.</div></div>'
            '<div class="views-row"><h3><a href="/da/p/2">Innobooster 2027</a></h3>'
            '<div class="teaser__dates">Ansøgningsfrist 10. marts 2027. Pulje 90 mio. kr.</div></div>')
    listing = f"<html><body><main>{rows}</main></body></html>".encode()
    html = {"Content-Type": "text/html; charset=utf-8"}
    page = ("<html><body><main><h1>Runde {0}</h1><p class='dates'>Ansøgningsfrist {0}. april 2027 kl. "
            "12.00. Puljen er på {0} mio. kr.</p></main></body></html>")
    pages = {n: Reply(200, page.format(n).encode(), html) for n in (1, 2)}
    server.route("GET", "/da/programmer", lambda request: Reply(200, listing, html))
    for n in (1, 2):
        server.route("GET", f"/da/p/{n}", lambda request, n=n: pages[n])
    cfg = HtmlListSource(type="html_list", url=server.url("/da/programmer"), item=".views-row", title="h3",
                         link="h3 a[href]", text=".teaser__dates", detail=True, detail_text=".dates")
    assert run(engine, HtmlListAdapter("ifd", cfg), NOW).new == 2
    with Session(engine) as session:
        before = {c.title: (c.deadlines, c.budget, c.text) for c in session.exec(select(Call))}
    pages[1] = Reply(301, b"", {"Location": server.url("/da/programmer")})
    result = run(engine, HtmlListAdapter("ifd", cfg), NOW + timedelta(days=1))
    assert (result.outcome, result.changed, result.complete) == ("ok", 0, False)
    assert result.error == (f"1 of 2 call pages could not be read, their calls are from the list only "
                            f"(first: {server.url('/da/p/1')} redirects to the listing "
                            f"{server.url('/da/programmer')}, not to a call page)")
    with Session(engine) as session:
        assert {c.title: (c.deadlines, c.budget, c.text) for c in session.exec(select(Call))} == before


def test_a_euro_access_call_page_redirecting_to_another_call_keeps_the_stored_call(
        engine, server: LocalServer, samples: Path) -> None:
    """A call page redirected to another call's page (a call merged or renumbered) was read as its
    own: the Baltic Sea call took the Germany-Denmark call's number, text, budget and deadlines."""
    from tests.test_hostile_audit_partial import DETAIL, PATHS
    from tests.test_plausibility import NOV, _euro_access, _listing

    listing = _listing(samples, server)
    own = DETAIL.replace(b"Interreg DE-DK 2025-2", b"Interreg BSR 2025-PP")
    answers = {PATHS[0]: Reply(200, DETAIL, {"Content-Type": "text/html"}),
               PATHS[1]: Reply(200, own, {"Content-Type": "text/html"})}
    server.route("GET", "/en/calls", lambda request: Reply(200, listing, {"Content-Type": "text/html"}))
    for path in PATHS:
        server.route("GET", path, lambda request, path=path: answers[path])
    assert run(engine, _euro_access(server), NOV).new == 2
    with Session(engine) as session:
        before = {c.external_id: (c.call_id, c.text, c.deadlines) for c in session.exec(select(Call))}
    assert before["2193"][0] == "Interreg BSR 2025-PP"
    answers[PATHS[1]] = Reply(301, b"", {"Location": server.url(PATHS[0])})
    result = run(engine, _euro_access(server), NOV + timedelta(days=1))
    assert (result.outcome, result.changed, result.complete) == ("ok", 0, False)
    assert f"{server.url(PATHS[1])} redirects to another call's page {server.url(PATHS[0])}" in result.error
    with Session(engine) as session:
        assert {c.external_id: (c.call_id, c.text, c.deadlines) for c in session.exec(select(Call))} == before


def test_a_calendar_uid_that_changes_with_the_deadline_keeps_the_call(engine, server: LocalServer) -> None:
    """The Events Calendar (interreg.no) writes its UIDs as post-start-end ('21544-1768208400-
    1776383940@interreg.no'): a deadline extended gave the event a new UID, so the call came back as a
    new call, the stored one was marked missing and removed on the next run (a 'removed' alert, its
    applications left on a removed call), and no deadline move was ever reported. An event whose UID
    is new but whose URL is that of one stored call missing from the answer is that call."""
    from pipeline.core.config import IcalSource
    from pipeline.core.models import CallChange
    from tests.conftest import FIXTURES
    from watcher.sources.ical import IcalAdapter

    ics = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()
    extended = ics.replace(b"DTEND;TZID=Europe/Oslo:20260416T235900",
                           b"DTEND;TZID=Europe/Oslo:20260507T235900") \
        .replace(b"UID:21544-1768208400-1776383940@", b"UID:21544-1768208400-1778191140@")
    answer = {"body": ics}
    server.route("GET", "/cal.ics",
                 lambda request: Reply(200, answer["body"], {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")),
                          BuildContext(engine=engine))
    now = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    first = run(engine, adapter, now)
    answer["body"] = extended
    moved = run(engine, adapter, now + timedelta(days=1))
    again = run(engine, adapter, now + timedelta(days=2))
    assert (moved.new, moved.changed, moved.missing, again.new, again.closed) == (0, 1, 0, 0, 0)
    with Session(engine) as session:
        calls = session.exec(select(Call)).all()
        assert len(calls) == first.new
        assert [c.field for c in session.exec(select(CallChange))] == ["deadlines"]


def test_a_relative_item_link_is_stored_as_an_address(engine, server: LocalServer) -> None:
    """A feed writing its item links relative to the site ('/da/nyheder/call-1', as hand-made feeds
    do) stored them so: a call with no link anyone can open, dropped from the digest's links."""
    body = (b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>News</title>'
            b"<item><title>Call for proposals: small projects</title><link>/da/nyheder/call-1</link>"
            b'<guid isPermaLink="false">n-1</guid></item></channel></rss>')
    result = run(engine, _feed(server, body), NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    with Session(engine) as session:
        assert session.exec(select(Call.url)).one() == server.url("/da/nyheder/call-1")


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "x-gzip"])
def test_a_body_in_an_encoding_the_client_cannot_undo_is_refused(engine, server: LocalServer,
                                                                  encoding: str) -> None:
    """A server (a CDN's cached variant) answering in Brotli or zstd, which the client never asked for
    and cannot decompress, was read as it came: the compressed bytes as text, a watched page's 'main
    text' of noise that no longer announced its call, so two such answers removed it."""
    import os

    from pipeline.core.config import PageWatchSource
    from watcher.sources.page_watch import PageWatchAdapter

    noise = b"<html><body><main><p>" + os.urandom(3000).replace(b"<", b"{") + b"</p></main></body></html>"
    server.route("GET", "/a/", lambda request: Reply(200, noise, {"Content-Type": "text/html",
                                                                 "Content-Encoding": encoding}))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/a/")])
    result = run(engine, PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine)), NOW)
    assert result.outcome == "failed"
    assert result.error == (f"no watched page could be read ({server.url('/a/')} was sent compressed as "
                            f"'{encoding}', which fundradar cannot decompress (it asks for gzip or deflate); "
                            "try again later, or report it to the site)")


@pytest.mark.parametrize("encoding", ["utf-8", "none", "binary", "identity"])
def test_a_content_encoding_that_names_no_compression_is_ignored(server: LocalServer, encoding: str) -> None:
    """Servers confusing Content-Encoding with the charset ('utf-8', 'none') send the body as it is."""
    from watcher.http import fetch_text, make_client

    server.route("GET", "/a/", lambda request: Reply(200, "Søknadsfrist".encode(), {
        "Content-Type": "text/plain; charset=utf-8", "Content-Encoding": encoding}))
    with make_client(timeout=5) as client:
        assert fetch_text(client, server.url("/a/"), source="x") == "Søknadsfrist"


def test_a_new_round_on_the_page_of_an_earlier_one_is_a_new_call(engine, server: LocalServer) -> None:
    """An event with a new UID is the stored call of its URL only when its title is that call's too:
    a programme reusing one page for every round has a new call each round."""
    from pipeline.core.config import IcalSource
    from tests.conftest import FIXTURES
    from watcher.sources.ical import IcalAdapter

    ics = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()
    next_round = ics.replace(b"UID:21544-1768208400-1776383940@", b"UID:23001-1788208400-1796383940@") \
        .replace("Ansökningsomgång 2026:1".encode(), "Ansökningsomgång 2027:1".encode())
    answer = {"body": ics}
    server.route("GET", "/cal.ics",
                 lambda request: Reply(200, answer["body"], {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")),
                          BuildContext(engine=engine))
    now = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    run(engine, adapter, now)
    answer["body"] = next_round
    result = run(engine, adapter, now + timedelta(days=1))
    assert (result.new, result.changed, result.missing) == (1, 0, 1)


@pytest.mark.parametrize("pad", ["", " "])  # a body of odd and of even length
@pytest.mark.parametrize("where", ["header", "declaration"])
def test_a_utf8_feed_labelled_utf16_is_read_as_utf8(engine, server: LocalServer, pad: str,
                                                     where: str) -> None:
    """A UTF-8 feed labelled UTF-16 (in its Content-Type or its XML declaration) was read as UTF-16
    whenever its length was even, a feed of Chinese-looking noise that failed the source ('not an RSS
    or Atom feed'); at an odd length the label failed and the feed was read: pass or fail by one byte."""
    declaration = 'encoding="UTF-16"' if where == "declaration" else 'encoding="UTF-8"'
    body = (f'<?xml version="1.0" {declaration}?><rss version="2.0"><channel><title>Nyheder</title>'
            "<item><title>Utlysning: Søknadsfrist 15. januar 2027</title><link>https://interreg.no/a/</link>"
            f"<guid>u-1</guid></item></channel></rss>{pad}").encode()
    content_type = "application/rss+xml; charset=UTF-16" if where == "header" else "application/rss+xml"
    server.route("GET", "/feed/", lambda request: Reply(200, body, {"Content-Type": content_type}))
    adapter = FeedAdapter("no_news", FeedSource(type="feed", url=server.url("/feed/")))
    result = run(engine, adapter, NOW)
    assert (result.outcome, result.new) == ("ok", 1)
    assert _titles(engine) == {"u-1": "Utlysning: Søknadsfrist 15. januar 2027"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 304, 300])
def test_a_redirect_without_a_place_to_go_is_not_the_page(engine, server: LocalServer, status: int) -> None:
    """A 3xx answer that names no Location (or a 304 to a request that asked for nothing conditional)
    was read as the page itself: its body, a 'moved' or maintenance notice, was a watched page that no
    longer announced its call, marked missing and removed on the next such answer."""
    from pipeline.core.config import PageWatchSource
    from tests.test_hostile_audit_page_watch import MAINTENANCE, PAGES
    from watcher.sources.page_watch import PageWatchAdapter

    bsr = (PAGES / "bsr_stars.html").read_text(encoding="utf-8")
    answers = {"reply": Reply(200, bsr, {"Content-Type": "text/html; charset=utf-8"})}
    server.route("GET", "/a/", lambda request: answers["reply"])
    server.route("GET", "/b/", lambda request: Reply(200, bsr, {"Content-Type": "text/html; charset=utf-8"}))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express",
                          pages=[server.url("/a/"), server.url("/b/")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    assert run(engine, adapter, NOW).new == 2
    answers["reply"] = Reply(status, MAINTENANCE, {"Content-Type": "text/html; charset=utf-8"})
    result = run(engine, adapter, NOW + timedelta(days=1))
    assert (result.outcome, result.complete, result.missing) == ("ok", False, 0)
    why = (f"HTTP 304 (not modified) from {server.url('/a/')}, an answer to a question fundradar did not "
           "ask (it sends no If-Modified-Since or If-None-Match): a cache or proxy on the way answers "
           "wrongly; try again later") if status == 304 else (
        f"HTTP {status} from {server.url('/a/')} without a Location to follow; the page is not there as "
        "asked, check the URL")
    assert result.error == f"1 of 2 watched pages could not be read (first: {why})"


def test_a_listing_page_link_to_another_host_is_not_followed(engine, server: LocalServer,
                                                             samples: Path) -> None:
    """The euro-access listing's next-page link was fetched wherever it pointed, though call pages
    are read only from the listing's own host: a scraped page could send the watcher to any address
    (one inside the network among them) and have its rows taken as the listing's."""
    from tests.test_plausibility import NOV, _euro_access, _listing

    port = server.url("/").split(":")[2].rstrip("/")
    elsewhere = f"http://localhost:{port}/en/calls/page-2"
    listing = _listing(samples, server).replace(
        "</table>", f'</table><a rel="next" href="{elsewhere}">Next</a>', 1)
    for path in ("/en/calls", "/en/calls/page-2"):
        server.route("GET", path, lambda request: Reply(200, listing, {"Content-Type": "text/html"}))
    result = run(engine, _euro_access(server), NOV)
    assert "/en/calls/page-2" not in [r.path for r in server.requests]
    assert (result.outcome, result.complete) == ("ok", False)
    assert (f"the listing's next page {elsewhere} is on another host than the listing's; it was not "
            "read, nothing closed") in result.error

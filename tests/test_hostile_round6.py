"""Hostile answers of the sources, round six: variants of the recordings in the shared samples and of
the fixtures in tests/fixtures/ (each fixture's file says where its markup came from), served by the
local server and read through the real client into a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from pipeline.core.config import FeedSource, HtmlListSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import Portal, eu_ft, portal, run  # noqa: F401 (portal: fixture)
from watcher.sources import BuildContext
from watcher.sources.feed import FeedAdapter
from watcher.sources.html_list import HtmlListAdapter

FIXTURES = Path(__file__).parent / "fixtures"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
TOPIC = "50129793TOPICSen"  # a result of the 2026-08-21 recording


def _feed_deadlines(engine, server: LocalServer, texts: dict[str, str]) -> dict[str, list[tuple[str, bool]]]:
    """The deadlines (UTC, time assumed) stored of a feed in the Interreg Baltic fixture's shape
    (tests/fixtures/feed) whose items' texts are ``texts``, by the items' keys."""
    items = "".join(f"<item><title>Call for proposals {n}</title><link>https://interreg-baltic.eu/news/call-{n}/</link>"
                    f"<guid>https://interreg-baltic.eu/?p={n}</guid><description>{text}</description></item>"
                    for n, text in texts.items())
    body = ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Interreg Baltic Sea '
            f"Region</title>{items}</channel></rss>").encode()
    server.route("GET", "/feed/", lambda request: Reply(200, body, RSS))
    adapter = FeedAdapter("baltic", FeedSource(type="feed", url=server.url("/feed/")),
                          BuildContext(engine=engine))
    result = run(engine, adapter, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", len(texts))
    with Session(engine) as session:
        return {call.title.rsplit(" ", 1)[-1]: [(datetime.fromisoformat(d["at"]).astimezone(UTC).isoformat(),
                                                  d["time_assumed"]) for d in call.deadlines]
                for call in session.exec(select(Call))}


def test_a_deadline_written_as_a_range_of_days_is_its_last_day(engine, server: LocalServer) -> None:
    """An application window written as a range of days in one month ("Ansøgningsfrist: 1.–15. marts
    2027", "1–15 March 2027", "March 1–15, 2027") had its first day as the deadline: the call closed
    two weeks before applications ended."""
    texts = {"1": "Ansøgningsfrist: 1.–15. marts 2027.", "2": "Deadline: 1–15 March 2027.",
             "3": "Applications are received March 1-15, 2027.", "4": "Søknadsfrist 3. - 14. mai 2027",
             "5": "Deadline: 15 March 2027, 10-15 partners per project."}
    assert _feed_deadlines(engine, server, texts) == {
        "1": [("2027-03-15T16:00:00+00:00", True)], "2": [("2027-03-15T16:00:00+00:00", True)],
        "3": [("2027-03-15T16:00:00+00:00", True)], "4": [("2027-05-14T15:00:00+00:00", True)],
        "5": [("2027-03-15T16:00:00+00:00", True)]}


def test_a_day_written_with_an_ordinal_suffix_is_a_date(engine, server: LocalServer) -> None:
    """British editors write "15th March 2027" and "the 1st of June 2027": no date was found in
    either, and the call was stored without its deadline (never closing)."""
    texts = {"1": "Deadline: 15th March 2027.", "2": "Closes on the 1st of June 2027 at 14:00.",
             "3": "Deadline 22nd September 2027, 23rd of September for the annexes."}
    assert _feed_deadlines(engine, server, texts) == {
        "1": [("2027-03-15T16:00:00+00:00", True)], "2": [("2027-06-01T12:00:00+00:00", False)],
        "3": [("2027-09-22T15:00:00+00:00", True)]}


def test_a_deadline_time_given_in_two_zones_is_the_deadlines_time(engine, server: LocalServer) -> None:
    """Interreg and EU pages write the time of a deadline in two zones ("12:00 CET/CEST", "12:00 CET /
    11:00 GMT", "12:00 CET (11:00 UTC)"), or a second stage after a slash: no time was read, and the
    deadline was its day at 17:00 assumed, five hours after the noon it was. "CET/CEST" is Brussels
    time in either season."""
    texts = {"1": "Deadline: 15 March 2027, 12:00 CET/CEST.", "2": "Deadline: 1 June 2027, 12:00 (CET/CEST).",
             "3": "Deadline: 15 March 2027 at 12:00 CET / 11:00 GMT.",
             "4": "Deadline: 15 March 2027 12:00 CET (11:00 UTC).",
             "5": "Deadlines: 15 March 2027 12:00 CET / 15 May 2027 17:00 CET",
             "6": "Frist: 15.03.2027 12:00 CET / 15.05.2027 12:00 CET"}
    assert _feed_deadlines(engine, server, texts) == {
        "1": [("2027-03-15T11:00:00+00:00", False)], "2": [("2027-06-01T10:00:00+00:00", False)],
        "3": [("2027-03-15T11:00:00+00:00", False)], "4": [("2027-03-15T11:00:00+00:00", False)],
        "5": [("2027-03-15T11:00:00+00:00", False), ("2027-05-15T16:00:00+00:00", False)],
        "6": [("2027-03-15T11:00:00+00:00", False), ("2027-05-15T11:00:00+00:00", False)]}


def test_a_windows_1252_byte_in_a_utf8_listing_spoils_no_other_letter(engine, server: LocalServer) -> None:
    """A UTF-8 listing with one field pasted from a Windows program (a typographic apostrophe as the
    windows-1252 byte 0x92: "SMV’er") is no valid UTF-8, and the detector read the whole page as
    Shift-JIS: every call was stored as "Grﾃｸn forskning", "Ambitiﾃｸse …" (no keyword met, a text
    change on each call). The page is read as UTF-8, the stray byte as the windows-1252 character."""
    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_bytes()
    hostile = listing.replace(b"SMV'er", b"SMV\x92er")
    assert hostile != listing
    server.route("GET", "/da/programmer", lambda request: Reply(200, hostile, HTML))
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden", item=".views-row",
        title="h3", link="h3 a[href]", text=".teaser__dates, .teaser__amount, .teaser__text"))
    result = run(engine, adapter, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 3)
    with Session(engine) as session:
        calls = {call.title: call.text for call in session.exec(select(Call))}
    assert sorted(calls) == ["Eurostars", "Grand Solutions 2027: Grøn forskning, teknologiudvikling og "
                             "innovation", "Innobooster"]
    assert "Ambitiøse forsknings- og innovationsprojekter" in calls[sorted(calls)[1]]
    assert "forskningsintensive SMV’er" in calls["Eurostars"]


def test_a_listing_writing_its_links_anew_keeps_its_calls(engine, server: LocalServer) -> None:
    """A funder's site moved to a CMS that writes its links with a trailing slash
    ("/da/programmer/innobooster/") and percent-encodes the letters beyond ASCII ("gr%C3%B8n" for
    "grøn"): the same pages, but an html_list call is told by its link, so each came back as a new
    call (a second new-call alert, its applications left behind) and the stored one was removed two
    answers later (a "removed" alert for a call still open)."""
    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_text(encoding="utf-8")
    before = listing.replace('href="/da/programmer/eurostars"', 'href="/da/programmer/grøn-eurostars"')
    after = before.replace('href="/da/programmer/innobooster"', 'href="/da/programmer/innobooster/"').replace(
        'href="/da/programmer/grøn-eurostars"', 'href="/da/programmer/gr%C3%B8n-eurostars"')
    assert len({listing, before, after}) == 3
    pages = {"listing": before}
    server.route("GET", "/da/programmer", lambda request: Reply(200, pages["listing"], HTML))
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden", item=".views-row",
        title="h3", link="h3 a[href]", text=".teaser__dates, .teaser__amount, .teaser__text"))
    first = run(engine, adapter, datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    assert (first.outcome, first.complete, first.new) == ("ok", True, 3)
    with Session(engine) as session:
        ids = {call.title: (call.id, call.external_id) for call in session.exec(select(Call))}
    pages["listing"] = after
    for day in (3, 4):
        result = run(engine, adapter, datetime(2026, 11, day, 9, 0, tzinfo=UTC))
        assert (result.outcome, result.complete, result.new, result.missing) == ("ok", True, 0, 0)
    with Session(engine) as session:
        calls = session.exec(select(Call)).all()
        assert {call.title: (call.id, call.external_id) for call in calls} == ids
        assert {call.status for call in calls} == {"open"}
        assert server.url("/da/programmer/innobooster/") in {call.url for call in calls}


def test_a_description_with_tags_left_open_keeps_all_its_text(engine, server: LocalServer,
                                                              portal: Portal) -> None:  # noqa: F811
    """A topic description pasted from a word processor opens a <span> (or <font>, <b>) on each line
    and closes none: libxml2's HTML parser nests them and drops everything past its 255th level, so
    the stored text ended after some 250 lines and the keywords, dates and conditions written after
    them met no search. The description is read whole."""
    lines = "".join(f'<span lang="EN-GB">Eligible cost category {n}<br>' for n in range(400))

    def word_paste(number: int, data: dict[str, Any]) -> dict[str, Any]:
        for result in data["results"]:
            if result.get("reference") == TOPIC:
                result["metadata"]["descriptionByte"] = [lines + "<p>Offshore hydrogen electrolysis "
                                                         "at the wind farm is in scope.</p>"]
        return data

    portal.mutate = word_paste
    result = run(engine, eu_ft(server), datetime(2026, 8, 21, 10, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 731)
    with Session(engine) as session:
        text = session.exec(select(Call).where(Call.external_id == TOPIC)).one().text
    assert "Eligible cost category 399" in text and text.endswith(
        "Offshore hydrogen electrolysis at the wind farm is in scope.")


def test_a_watched_page_with_tags_left_open_keeps_its_deadline(engine, server: LocalServer) -> None:
    """The BSR Stars page (tests/fixtures/page_watch) with a list of costs pasted from a word
    processor before its timeline, a <span> opened on each line and closed on none: the parser
    dropped everything nested past 255 levels, the timeline with it, and the Innovation Express
    call was stored without its deadline of 15 October 2026, 14:00."""
    from pipeline.core.config import PageWatchSource
    from watcher.sources.page_watch import PageWatchAdapter

    page = (FIXTURES / "page_watch" / "bsr_stars.html").read_text(encoding="utf-8")
    costs = "".join(f'<span lang="EN-GB">Eligible cost category {n}<br>' for n in range(400))
    hostile = page.replace("<h2>Timeline</h2>", f"<p>{costs}</p><h2>Timeline</h2>", 1)
    assert hostile != page
    server.route("GET", "/ie/", lambda request: Reply(200, hostile, HTML))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/ie/")])
    result = run(engine, PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine)),
                 datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 1)
    with Session(engine) as session:
        call = session.exec(select(Call)).one()
    assert "Eligible cost category 399" in call.text
    assert "The deadline for applications is 15 October" in call.text
    assert call.deadline.replace(tzinfo=UTC) == datetime(2026, 10, 15, 13, 0, tzinfo=UTC)


def test_an_application_period_from_one_date_to_another_ends_on_the_second(engine,
                                                                           server: LocalServer) -> None:
    """"The call is open from 1 February 2027 to 15 March 2027", "Ansøgningsperioden løber fra 1.
    februar 2027 til 15. marts 2027": both dates were read as openings, the call was stored with no
    deadline at all and never closed. The date after "to", "til", "till" or a dash is the deadline."""
    texts = {"1": "The call is open from 1 February 2027 to 15 March 2027.",
             "2": "Ansøgningsperioden løber fra 1. februar 2027 til 15. marts 2027 kl. 12.00.",
             "3": "Ansökan är öppen från 1 februari 2027 till 15 mars 2027.",
             "4": "Call open: 1 February 2027 – 15 March 2027"}
    assert _feed_deadlines(engine, server, texts) == {
        "1": [("2027-03-15T16:00:00+00:00", True)], "2": [("2027-03-15T11:00:00+00:00", False)],
        "3": [("2027-03-15T16:00:00+00:00", True)], "4": [("2027-03-15T16:00:00+00:00", True)]}
    with Session(engine) as session:
        openings = {call.opening_date.replace(tzinfo=UTC) for call in session.exec(select(Call))}
    assert openings == {datetime(2027, 1, 31, 23, 0, tzinfo=UTC)}


def test_a_deadline_named_in_other_words_is_not_lost_to_the_projects_end(engine,
                                                                         server: LocalServer) -> None:
    """A deadline named "Antragsschluss", "Bewerbungsschluss", "Stichtag", "cut-off", "final date
    for applications" or "last day to apply" was a plain date, and with the project's end written
    after it ("Projektende spätestens 31. Dezember 2029", "Projects end 31 December 2029") the later
    date was taken for the deadline: the call stayed open three years after applications closed. So
    did a project's end after a deadline word ("Projects run until …", "Projektperioden løber til
    …", "Implementation period: … – …"), a second deadline."""
    texts = {"1": "Antragsschluss ist der 15. März 2027. Projektende spätestens 31. Dezember 2029.",
             "2": "Bewerbungsschluss: 15. März 2027. Projektende spätestens 31. Dezember 2029.",
             "3": "Stichtag für Anträge: 15. März 2027. Projektende spätestens 31. Dezember 2029.",
             "4": "Next cut-off: 15 March 2027. Projects end 31 December 2029.",
             "5": "Final date for applications: 15 March 2027. Projects end 31 December 2029.",
             "6": "Last day to apply: 15 March 2027. Projects end 31 December 2029.",
             "7": "Deadline 15 March 2027. Projects run until 31 December 2029.",
             "8": "Ansøgningsfrist 15. marts 2027. Projektperioden løber til 31. december 2029.",
             "9": "Application deadline: 15 March 2027. Implementation period: 1 September 2027 – "
                  "31 August 2029."}
    assert _feed_deadlines(engine, server, texts) == {n: [("2027-03-15T16:00:00+00:00", True)] for n in texts}


def test_a_euro_access_deadline_without_a_readable_time_is_not_its_midnight(engine, server: LocalServer,
                                                                            samples: Path) -> None:
    """A deadline cell written without a time ("20.11.2025") or with one the site's usual shape does
    not have ("10.11.2025, 12:00", "10.11.2025 kl. 12.00") was read as 00:00 Brussels time: the call
    read closed for the whole of its last day, and the listing's date showed "00:00" as the time the
    site gave. A day alone is 17:00 Brussels, flagged assumed, as every other source reads it; the
    time is read however written."""
    from tests.test_plausibility import _euro_access, _listing

    listing = _listing(samples, server).replace("<td>20.11.2025 16:00</td>", "<td>20.11.2025</td>", 1)
    detail = (FIXTURES / "euro_access" / "call_detail_2374.html").read_text(encoding="utf-8")
    answers = {"listing": listing,
               "2374": detail.replace("<br>10.11.2025 17:00</p>", "<br>10.11.2025, 12:00</p>")}
    assert "<td>20.11.2025</td>" in listing and answers["2374"] != detail
    server.route("GET", "/en/calls", lambda request: Reply(200, answers["listing"], HTML))
    server.route("GET", "/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 lambda request: Reply(200, answers["2374"], HTML))
    server.route("GET", "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025",
                 lambda request: Reply(404, "not found", HTML))
    result = run(engine, _euro_access(server), datetime(2025, 10, 20, 10, 0, tzinfo=UTC))
    assert result.new == 2, result.error
    with Session(engine) as session:
        calls = {call.external_id: call.deadlines for call in session.exec(select(Call))}
    assert calls == {"2193": [{"at": "2025-11-20T16:00:00+00:00", "time_assumed": True}],
                     "2374": [{"at": "2025-11-10T11:00:00+00:00", "time_assumed": False}]}


def test_the_day_of_the_answer_after_a_deadline_word_is_no_second_deadline(engine,
                                                                           server: LocalServer) -> None:
    """"Eine Entscheidung fällt bis 30. Juni 2027", "Der gives svar senest 30. juni 2027", "Beslut
    meddelas senast …", "Applicants will be notified until …": the word "bis", "senest" or "until"
    made the day of the answer a second deadline, and the call stayed open three months after
    applications closed."""
    texts = {"1": "Antragsschluss: 15. März 2027. Eine Entscheidung fällt bis 30. Juni 2027.",
             "2": "Deadline 15 March 2027. Applicants will be notified until 30 June 2027.",
             "3": "Ansøgningsfrist 15. marts 2027. Der gives svar senest 30. juni 2027.",
             "4": "Søknadsfrist 15. mars 2027. Svar på søknaden gis innen 30. juni 2027.",
             "5": "Sista ansökningsdag 15 mars 2027. Beslut meddelas senast 30 juni 2027."}
    assert _feed_deadlines(engine, server, texts) == {n: [("2027-03-15T16:00:00+00:00", True)] for n in texts}

"""Hostile variants of the recorded sources, fourth round: each built from a real recording (the
SEDIA pages of ``samples/eu_ft``, the euro-access listing of ``samples/euro_access``) or from a fixture
whose file says where its markup came from, served by the local server and read through the real
client into a real SQLite file."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.config import HtmlListSource, IcalSource, PageWatchSource
from pipeline.core.models import Call, CallChange
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import DAY, NOV, _euro_access, _listing, eu_ft, good_sync, portal, run  # noqa: F401
from watcher.sources import BuildContext
from watcher.sources.html_list import HtmlListAdapter
from watcher.sources.ical import IcalAdapter
from watcher.sources.page_watch import PageWatchAdapter

FIXTURES = Path(__file__).parent / "fixtures"
HTML = {"Content-Type": "text/html; charset=utf-8"}


# --- a watched page's own timestamps --------------------------------------------------------------

def _bsr_page(stamp: str) -> str:
    """The BSR Stars page of tests/fixtures/page_watch/bsr_stars.html before its deadline is set
    (the timeline says it will be announced), with ``stamp`` (a WordPress "updated" or "posted"
    line) closing the article."""
    page = (FIXTURES / "page_watch" / "bsr_stars.html").read_text(encoding="utf-8")
    page = page.replace("The deadline for applications is 15 October 2026 at 14:00 CET. ",
                        "The deadline for applications will be announced in the summer. ")
    return page.replace("</div>\n    </article>", f"<p class=\"updated\">{stamp}</p></div>\n    </article>")


def test_a_pages_updated_or_posted_date_is_not_the_calls_deadline(server: LocalServer, engine) -> None:
    """A watched page whose only full date was its own "Last updated: 2 December 2026 10:31" line had
    that moment stored as the call's deadline: every regeneration of the page moved the deadline (a
    "deadline moved" change, and alert, for a call we follow), and a "Posted on" date in the past
    closed a call that had not even opened."""
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    content = {"page": _bsr_page("Last updated: 2 December 2026 10:31")}
    server.route("GET", "/ie/", lambda r: Reply(200, content["page"], HTML))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/ie/")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    first = run(engine, adapter, now)
    assert (first.outcome, first.new) == ("ok", 1)
    content["page"] = _bsr_page("Last updated: 3 December 2026 09:12")
    run(engine, adapter, now + timedelta(days=1))
    content["page"] = _bsr_page("Posted on 12 February 2026 by admin")
    run(engine, adapter, now + timedelta(days=2))
    with Session(engine) as session:
        call = session.exec(select(Call)).one()
        changes = [c.field for c in session.exec(select(CallChange))]
    assert (call.status, call.deadline, call.deadlines) == ("forthcoming", None, [])  # opens 4 May
    assert [f for f in changes if f in ("deadline", "deadlines", "status")] == []



def test_a_pages_moving_time_stamp_changes_nothing(server: LocalServer, engine) -> None:
    """The BSR Stars page (tests/fixtures/page_watch/bsr_stars.html, its deadline as recorded) ending
    with a "Last updated" line its CMS writes anew on every request: each run counted the call as
    changed and wrote a "text changed" row into its history, though nothing of the call moved."""
    page = (FIXTURES / "page_watch" / "bsr_stars.html").read_text(encoding="utf-8")
    content = {"stamp": "Last updated: 2 December 2026 10:31"}
    end = "</div>\n    </article>"
    server.route("GET", "/ie/", lambda r: Reply(200, page.replace(
        end, f"<p class=\"updated\">{content['stamp']}</p>{end}"), HTML))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/ie/")])
    adapter = PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine))
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert run(engine, adapter, now).new == 1
    for day, stamp in enumerate(("Last updated: 3 December 2026 09:12", "Senest opdateret 4. december 2026",
                                 "Posted on 5 December 2026 by admin"), start=1):
        content["stamp"] = stamp
        again = run(engine, adapter, now + timedelta(days=day))
        assert (again.outcome, again.changed, again.unchanged) == ("ok", 0, 1), stamp
    with Session(engine) as session:
        assert session.exec(select(CallChange)).all() == []


def test_a_deadline_said_to_be_updated_is_still_the_deadline() -> None:
    """Words that name a page's own time ("updated", "opdateret") also announce a moved deadline; there
    the date is the deadline, as before pages' time stamps were told apart."""
    from watcher.dates import call_dates

    for text in ("Ansøgningsfristen er opdateret til 15. marts 2027.", "Deadline updated: 15 March 2027.",
                 "The deadline has been updated to 15 March 2027.",
                 "Deadline 15 March 2027 17:00. Read the call text and the guide for applicants before "
                 "you apply. Last updated: 2 December 2026 10:31"):
        found = call_dates(text, ("da", "en"))
        assert [(d.at.date().isoformat()) for d in found.deadlines] == ["2027-03-15"], text


LISTING_DATES = "Åbner for ansøgninger 15. oktober 2026. Ansøgningsfrist 2. februar 2027 kl. 12.00"


def _grand_solutions(server: LocalServer, engine, old: str, new: str, now: datetime, *,
                     text: str = ".teaser__dates", path: str = "/da/programmer") -> Call:
    """Innovationsfonden's listing (tests/fixtures/html_list/innovationsfonden_list.html) with ``old``
    written as ``new`` in its Grand Solutions item, read through the html_list source: that call."""
    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_text(encoding="utf-8")
    assert old in listing
    listing = listing.replace(old, new)
    server.route("GET", path, lambda r: Reply(200, listing, HTML))
    adapter = HtmlListAdapter(f"ifd{path.replace('/', '_')}", HtmlListSource(
        type="html_list", url=server.url(path), programme="Innovationsfonden", language="da",
        item=".views-row", title="h3", link="h3 a[href]", text=text), BuildContext(engine=engine))
    result = run(engine, adapter, now)
    assert (result.outcome, result.new) == ("ok", 3)
    with Session(engine) as session:
        return session.exec(select(Call).where(Call.title.startswith("Grand Solutions"),
                                               Call.source == adapter.name)).one()


def test_an_info_meeting_after_the_deadline_is_not_a_deadline(server: LocalServer, engine) -> None:
    """An item of tests/fixtures/html_list/innovationsfonden_list.html (Innovationsfonden's listing)
    announcing its information meeting after its deadline, "Ansøgningsfrist 2. februar 2027 kl.
    12.00. Informationsmøde 3. december 2026", had the meeting's day as its next deadline: the
    digest, the reminders and ``deadlines`` gave the call 3 December, the deadline word of the
    sentence before being the nearest to it."""
    deadline = "Ansøgningsfrist 2. februar 2027 kl. 12.00"
    call = _grand_solutions(server, engine, f"{deadline}</div>",
                            f"{deadline}. Informationsmøde 3. december 2026</div>",
                            datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
                            text=".teaser__dates, .teaser__amount, .teaser__text")
    assert [d["at"] for d in call.deadlines] == ["2027-02-02T11:00:00+00:00"]


def test_a_watched_page_without_a_heading_is_not_titled_by_its_sidebar(server: LocalServer, engine) -> None:
    """The BSR Stars page (tests/fixtures/page_watch/bsr_stars.html) served without its og:title and
    its heading (a page whose text starts right away): the call was titled "Latest news", the heading
    of the sidebar's news widget, which the page's own <title> never said. The <title> names it now."""
    page = (FIXTURES / "page_watch" / "bsr_stars.html").read_text(encoding="utf-8")
    og = '<meta property="og:title" content="BSR Innovation Express 2026 &#8211; BSR Stars">\n'
    page = page.replace(og, "").replace('<h1 class="entry-title">BSR Innovation Express 2026</h1>', "")
    assert "og:title" not in page and "<h1" not in page
    server.route("GET", "/ie/", lambda r: Reply(200, page, HTML))
    cfg = PageWatchSource(type="page_watch", phrase="Innovation Express", pages=[server.url("/ie/")])
    result = run(engine, PageWatchAdapter("innovation_express", cfg, BuildContext(engine=engine)),
                 datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 1)
    with Session(engine) as session:
        assert session.exec(select(Call.title)).one() == "BSR Innovation Express 2026 – BSR Stars"


def test_the_date_a_deadline_was_moved_from_is_no_deadline(server: LocalServer, engine) -> None:
    """Innovationsfonden's listing (tests/fixtures/html_list/innovationsfonden_list.html) announcing a
    deadline moved, "Ansøgningsfristen er forlænget til 2. februar 2027 (tidligere 15. januar 2027)":
    the old date stayed a deadline, the next one the digest and the reminders gave; written "forlænget
    fra 15. januar 2027" it was the call's opening, so the open call read forthcoming."""
    from watcher.dates import call_dates

    texts = {"/a": "Ansøgningsfristen er forlænget til 2. februar 2027 kl. 12.00 (tidligere 15. januar 2027)",
             "/b": "Ansøgningsfrist 2. februar 2027 kl. 12.00 (forlænget fra 15. januar 2027)"}
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    grand = [_grand_solutions(server, engine, LISTING_DATES, dates, now, path=path)
             for path, dates in texts.items()]
    assert [(c.status, c.opening_date, [d["at"] for d in c.deadlines]) for c in grand] == \
        [("open", None, ["2027-02-02T11:00:00+00:00"])] * 2
    for text in ("Deadline extended to 2 February 2027 (previously 15 January 2027)",
                 "New deadline: 2 February 2027 (was 15 January 2027)",
                 "Deadline: 2 February 2027 (postponed from 15 January 2027)"):
        found = call_dates(text)
        assert ([d.at.date().isoformat() for d in found.deadlines], found.opening) == (["2027-02-02"], None)


def test_a_projects_start_after_the_deadline_is_not_the_calls_opening(server: LocalServer, engine) -> None:
    """An item of Innovationsfonden's listing (tests/fixtures/html_list/innovationsfonden_list.html)
    saying when its projects may start, "Ansøgningsfrist 2. februar 2027 kl. 12.00. Projekterne kan
    starte fra 1. september 2027.", had that day as its opening: a call open now read "forthcoming
    (opens 1 Sep 2027)", closing months before it opened. A call opens before its first deadline."""
    call = _grand_solutions(server, engine, LISTING_DATES, "Ansøgningsfrist 2. februar 2027 kl. 12.00. "
                            "Projekterne kan starte fra 1. september 2027.",
                            datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert (call.status, call.opening_date, [d["at"] for d in call.deadlines]) == \
        ("open", None, ["2027-02-02T11:00:00+00:00"])


def test_the_day_decisions_are_expected_is_not_the_deadline(server: LocalServer, engine) -> None:
    """An item of Innovationsfonden's listing (tests/fixtures/html_list/innovationsfonden_list.html)
    reading "Ansøg inden 2. februar 2027 kl. 12.00. Svar på ansøgningen forventes 15. juni 2027.":
    "inden" was no deadline word, so the latest date, the day of the answer, was the deadline (a
    call still open four months after it closed, reminders for June)."""
    from watcher.dates import call_dates

    call = _grand_solutions(server, engine, LISTING_DATES, "Ansøg inden 2. februar 2027 kl. 12.00. Svar på "
                            "ansøgningen forventes 15. juni 2027.", datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert [d["at"] for d in call.deadlines] == ["2027-02-02T11:00:00+00:00"]
    text = "Apply by 15 March 2027. Decisions are expected on 15 June 2027."
    assert [d.at.date().isoformat() for d in call_dates(text).deadlines] == ["2027-03-15"]


def test_a_deadline_followed_closely_by_another_date_is_kept(server: LocalServer, engine) -> None:
    """"Sista dag 4 mars 2027. Beslut 15 juni 2027." in the round of Interreg ÖKS's page
    (tests/fixtures/html_list/interreg_oks_calls.html): dateparser's search, given the two dates in
    one stretch of text, found only the second, so the call was stored without its deadline. Each
    date is searched on its own when a stretch holds more dates than the search found (given
    "apply before 15 March 2027" the search found none at all)."""
    from watcher.dates import call_dates

    listing = (FIXTURES / "html_list" / "interreg_oks_calls.html").read_text(encoding="utf-8").replace(
        "Sista ansökningsdag är 4 mars 2027 kl. 16.00.", "Sista dag 4 mars 2027. Beslut 15 juni 2027.")
    assert "Beslut 15 juni 2027" in listing
    server.route("GET", "/ansokningsomgangar.html", lambda r: Reply(200, listing, HTML))
    adapter = HtmlListAdapter("oks", HtmlListSource(
        type="html_list", url=server.url("/ansokningsomgangar.html"), programme="Interreg ÖKS",
        language="sv", item="ul.sv-channel li.sv-channel-item", title="a.sv-channel-item-title",
        link="a[href]", text=".sv-channel-item-description"), BuildContext(engine=engine))
    assert run(engine, adapter, datetime(2026, 12, 10, 8, 0, tzinfo=UTC)).new == 1
    with Session(engine) as session:
        call = session.exec(select(Call)).one()
    assert [d["at"] for d in call.deadlines] == ["2027-03-04T16:00:00+00:00"]
    for text in ("Søknader må være mottatt innen 15. mars 2027. Vedtak 15. juni 2027.",
                 "Call for proposals: apply before 15 March 2027 at 17:00 CET."):
        assert [d.at.date().isoformat() for d in call_dates(text).deadlines] == ["2027-03-15"], text

# --- a calendar's titles --------------------------------------------------------------------------

def test_a_calendar_title_written_over_several_lines_is_stored_on_one(server: LocalServer, engine) -> None:
    """A SUMMARY holding an escaped line break ("\\n", RFC 5545) or a Unicode line separator was
    stored with it: ``calls list`` printed the title over two rows of the table and ``--csv`` wrote
    a cell spanning two lines. The calendar is tests/fixtures/ical/interreg_no_calendar.ics (The
    Events Calendar export of interreg.no) with one summary written so."""
    ics = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes().replace(
        b"SUMMARY:Interreg Sverige-Norge: Utlysning 2026",
        "SUMMARY:Interreg Sverige-Norge: Utlysning 2026\\n  andre runde\u2028(Jems)".encode())
    server.route("GET", "/cal.ics", lambda request: Reply(200, ics, {"Content-Type": "text/calendar"}))
    adapter = IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url("/cal.ics")))
    result = run(engine, adapter, datetime(2025, 10, 20, 8, 0, tzinfo=UTC))
    assert (result.outcome, result.new) == ("ok", 4)
    with Session(engine) as session:
        uid = "21601-1770026400-1777986000@interreg.no"
        call = session.exec(select(Call).where(Call.external_id == uid)).one()
    assert (call.programme, call.title) == ("Interreg Sverige-Norge", "Utlysning 2026 andre runde (Jems)")


# --- SEDIA values of a type that holds no text ------------------------------------------------------

def _sedia_calls(engine) -> dict[str, tuple[Any, ...]]:
    with Session(engine) as session:
        return {c.external_id: (c.title, c.text, c.topic_id, c.call_id, c.opening_date, c.deadlines,
                                c.status) for c in session.exec(select(Call))}


def test_a_sedia_value_given_as_an_object_keeps_the_stored_call(engine, server, portal) -> None:  # noqa: F811
    """A result of the 2026-08-21 recording whose description, opening date or deadline came as a JSON
    object ({"en": "<p>…</p>"}) instead of the list of strings every metadata value is: the value
    was read as none, so the stored call lost its text ("text changed", scored on its title alone),
    its opening date, or (with no ``actions`` to fall back on) its deadline, as if the portal had
    said there is none."""
    good_sync(engine, server)
    before = _sedia_calls(engine)
    changes: dict[int, tuple[str, Any]] = {
        0: ("descriptionByte", [{"en": "<p>Expected Outcome: …</p>"}]),
        1: ("startDate", [{"date": "2026-09-16T00:00:00.000+0000"}]),
        2: ("deadlineDate", {"value": "2027-01-21T00:00:00.000+0000"}),
        3: ("identifier", [True]),
    }

    def mutate(number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number != 2:
            return data
        results = copy.deepcopy(data["results"])
        for index, (key, value) in changes.items():
            results[index]["metadata"][key] = value
            if key == "deadlineDate":
                results[index]["metadata"].pop("actions", None)
        return {**data, "results": results}

    portal.mutate = mutate
    result = run(engine, eu_ft(server), DAY)
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert "4 malformed result(s) skipped: page 2 of 8 (all programmes), result 1" in result.error
    assert "descriptionByte is an object, not text" in result.error
    assert "identifier is a boolean, not text" in result.error
    assert _sedia_calls(engine) == before



def test_a_sedia_status_written_as_a_word_or_an_unknown_code_is_not_read_as_open(
        engine, server, portal) -> None:  # noqa: F811
    """Forthcoming topics of the 2026-08-21 recording whose status came as "Forthcoming" (the word
    the portal shows) or as a code it does not document were stored as open: a status change
    "forthcoming → open" for a call months from opening, listed and digested as open now. The word
    is read as the status, an unknown code gives way to the topic's ``actions``, and a status none of
    them tells makes the result malformed, the stored call kept."""
    good_sync(engine, server)
    before = _sedia_calls(engine)
    changed: list[str] = []

    def mutate(number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number != 2:
            return data
        results = copy.deepcopy(data["results"])
        forthcoming = [r for r in results if r["metadata"]["status"] == ["31094501"]][:4]
        written = (["Forthcoming"], ["FORTHCOMING "], ["31094599"], ["31094599"])
        for result, status in zip(forthcoming, written, strict=True):
            result["metadata"]["status"] = status
            changed.append(result["reference"])
        forthcoming[3]["metadata"].pop("actions", None)  # nothing else tells its status
        return {**data, "results": results}

    portal.mutate = mutate
    result = run(engine, eu_ft(server), DAY)
    assert len(changed) == 4
    assert (result.outcome, result.complete, result.closed) == ("ok", False, 0)
    assert result.error.startswith("1 malformed result(s) skipped: page 2 of 8 (all programmes), result ")
    assert f"({changed[3]}): status '31094599' is none the portal documents (31094501 forthcoming" \
        in result.error
    assert _sedia_calls(engine) == before
    with Session(engine) as session:
        assert [c.field for c in session.exec(select(CallChange))] == []

# --- euro-access: two deadlines in one field --------------------------------------------------------

def test_two_deadlines_in_one_euro_access_field_are_both_kept(engine, server: LocalServer,
                                                              samples: Path) -> None:
    """A deadline written "20.11.2025 16:00 / 12.03.2026 16:00" (two stages in one cell of the listing,
    or in the call page's deadline row) was read as its first date only: the call closed after the
    first stage, with its final deadline never stored. The listing is the recorded one of October
    2025 with the two Interreg cells written so; the DE-DK call page is
    tests/fixtures/euro_access/call_detail_2374.html, the Baltic one fails."""
    listing = _listing(samples, server).replace(
        "<td>20.11.2025 16:00</td>", "<td>20.11.2025 16:00 / 12.03.2026 16:00</td>").replace(
        "<td>10.11.2025 17:00</td>", "<td>10.11.2025 17:00 / 14.04.2026 17:00</td>")
    detail = (FIXTURES / "euro_access" / "call_detail_2374.html").read_text(encoding="utf-8").replace(
        "<br>10.11.2025 17:00</p>", "<br>10.11.2025 17:00<br>2nd stage: 14.04.2026 17:00</p>")
    server.route("GET", "/en/calls", lambda r: Reply(200, listing, HTML))
    server.route("GET", "/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 lambda r: Reply(200, detail, HTML))
    server.route("GET", "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025",
                 lambda r: Reply(500, b"down", HTML))
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.new) == ("ok", 2)
    with Session(engine) as session:
        stored = {c.external_id: c for c in session.exec(select(Call))}
    assert [d["at"] for d in stored["2374"].deadlines] == ["2025-11-10T16:00:00+00:00",
                                                           "2026-04-14T15:00:00+00:00"]
    assert [d["at"] for d in stored["2193"].deadlines] == ["2025-11-20T15:00:00+00:00",
                                                           "2026-03-12T15:00:00+00:00"]
    december = run(engine, _euro_access(server), datetime(2025, 12, 1, 9, 0, tzinfo=UTC))
    assert december.closed == 0


# --- euro-access figures that are no amount of money ----------------------------------------------

@pytest.mark.parametrize(("budget", "contribution"), [
    ("up to 60 % of eligible costs", "up to 60 %"),
    ("€ -500,000.00", "EUR -2,5 mio."),
    ("-€ 40,000,000.00", "− € 3,000,000"),
])
def test_a_negative_or_percentage_figure_is_no_budget(engine, server: LocalServer, samples: Path,
                                                      budget: str, contribution: str) -> None:
    """A call page's "Call budget" of "up to 60 %" was a budget of 60 euros, "€ -500,000.00" one of
    500,000 (the sign dropped) and a contribution of "EUR -2,5 mio." at most 25 euros: a budget rule
    then rejected, or passed, the call on a figure it never gave. The page is
    tests/fixtures/euro_access/call_detail_2374.html with its figures rewritten, behind the recorded
    listing of October 2025."""
    detail = (FIXTURES / "euro_access" / "call_detail_2374.html").read_text(encoding="utf-8")
    page = detail.replace("<p class=\"td\">€ 40,000,000.00</p>", f"<p class=\"td\">{budget}</p>").replace(
        "<p class=\"td\">€ 200,000.00 - € 3,000,000.00</p>", f"<p class=\"td\">{contribution}</p>")
    assert page.count(budget) == 1 and page.count(contribution) >= 1
    listing = _listing(samples, server)
    server.route("GET", "/en/calls", lambda r: Reply(200, listing, HTML))
    for path in ("/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025"):
        server.route("GET", path, lambda r: Reply(200, page, HTML))
    result = run(engine, _euro_access(server), NOV)
    assert (result.outcome, result.new) == ("ok", 2), result.error
    with Session(engine) as session:
        call = session.exec(select(Call).where(Call.external_id == "2374")).one()
    assert (call.budget, call.min_contribution, call.max_contribution) == (None, None, None)
    assert call.funding_rate == 0.65  # the page's own funding-rate row is still read

"""Short answers of the SEDIA search API close nothing: hostile variants of the real recordings.

Every answer is the recorded day ``../shared/samples/eu_ft/search_2026-08-21`` (the real page format:
envelope, ``totalResults``, ``pageSize`` 100, results as recorded) changed at serve time by the local
server, and read through the real client into a real SQLite file. A day with fewer pages than
``totalResults`` says, a short page in the middle, a page sent twice, ``totalResults`` shrinking
between pages, an HTTP 200 whose body is an error, and one programme's query answered empty each leave
every stored call as it was and the run incomplete, with its reason in one line; pages sent in another
order are still the whole answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.config import EuFtSource, EuroAccessSource
from pipeline.core.models import Call
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply, Request
from tests.test_plausibility import SEARCH, Portal, eu_ft, portal, run, statuses  # noqa: F401
from watcher.sources import BuildContext
from watcher.sources.eu_ft import EuFtAdapter
from watcher.sources.euro_access import EuroAccessAdapter

D21 = datetime(2026, 8, 21, 10, 0, tzinfo=UTC)
# the example strategy's programmes (config/strategy.example.yaml): one query each
PROGRAMMES = {"Horizon Europe": "43108390", "Digital Europe": "43152860", "LIFE": "43252405",
              "Single Market Programme": "43252476", "Connecting Europe Facility": "43251567",
              "Erasmus+": "43353764", "Creative Europe": "43251814", "Innovation Fund": "43089234",
              "Interregional Innovation Investments": "44416173"}
LIFE = "43252405"


def per_programme(server: LocalServer, engine) -> EuFtAdapter:
    cfg = EuFtSource(type="eu_ft", url=server.url(SEARCH), programmes=PROGRAMMES)
    return EuFtAdapter("eu_ft", cfg, BuildContext(engine=engine))


def missing_marks(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Call.external_id).where(Call.missing_since.is_not(None))))


def _life_only(data: dict[str, Any]) -> bool:
    return bool(data["results"]) and all(LIFE in r["metadata"].get("frameworkProgramme", [])
                                         for r in data["results"])


def test_one_programme_answered_empty_removes_none_of_its_calls(engine, server, portal) -> None:  # noqa: F811
    """The LIFE query answering an empty but valid page (totalResults 0) while 31 LIFE calls were
    open made the run complete: its calls were marked missing, and the next such answer removed all
    31, as the guard only counts the share of the whole source (5 %)."""
    first = run(engine, per_programme(server, engine), D21)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 618)
    before = statuses(engine)
    portal.mutate = lambda number, data: {**data, "totalResults": 0, "results": []} if _life_only(data) \
        else data
    for day in (1, 2):
        result = run(engine, per_programme(server, engine), D21 + timedelta(days=day))
        assert (result.outcome, result.complete, result.closed, result.missing) == ("ok", False, 0, 0)
        assert result.error == ("LIFE: the search answered no results although 31 stored calls of the "
                                "programme are open or forthcoming; nothing closed, the next run reads "
                                "it again")
    assert statuses(engine) == before and missing_marks(engine) == []


def test_a_programme_whose_calls_all_ended_may_answer_empty(engine, server, portal) -> None:  # noqa: F811
    """An empty query is the programme's true answer once its calls' deadlines passed: they close."""
    run(engine, per_programme(server, engine), D21)
    portal.mutate = lambda number, data: {**data, "totalResults": 0, "results": []} if _life_only(data) \
        else data
    later = datetime(2028, 1, 1, 10, 0, tzinfo=UTC)  # after every LIFE deadline of the recording
    result = run(engine, per_programme(server, engine), later)
    assert result.complete is True and "LIFE" not in (result.error or "")



def _fewer_pages(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "results": []} if number >= 7 else data


def _short_middle(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "results": data["results"][:50]} if number == 4 else data


class _Repeat:
    """Page 4 is answered with page 3's results (a page sent twice)."""

    def __init__(self) -> None:
        self.third: list[Any] = []

    def __call__(self, number: int, data: dict[str, Any]) -> dict[str, Any]:
        if number == 3:
            self.third = data["results"]
        return {**data, "results": self.third} if number == 4 else data


def _shrinking(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "totalResults": 700} if number >= 5 else data


def _error_body(number: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"status": 500, "message": "Internal Server Error"} if number == 6 else data


def _error_with_results(number: int, data: dict[str, Any]) -> dict[str, Any]:
    if number != 6:
        return data
    return {**data, "results": [], "totalResults": 0, "warnings": ["search timed out"]}


HOSTILE = [
    ("fewer pages than totalResults", _fewer_pages, "ok",
     "page 7 of 8 (all programmes) was empty although totalResults is 731; the result set changed while "
     "reading, the next run completes it; all programmes: read 600 results of the 731 declared by "
     "totalResults"),
    ("a short page in the middle", _short_middle, "ok",
     "page 4 of 8 (all programmes) has 50 results, fewer than the page size 100; the answer was cut short; "
     "all programmes: read 681 results of the 731 declared by totalResults"),
    ("a page sent twice", _Repeat(), "ok",
     "page 4 of 8 (all programmes) repeats 100 of its 100 references from earlier pages (first: "),
    ("totalResults shrinking", _shrinking, "ok",
     "page 5 of 8 (all programmes) declares totalResults 700, page 1 declared 731; the result set changed "
     "while it was read, the next run completes it"),
    ("an error body with HTTP 200", _error_body, "failed",
     "page 6 of 8 (all programmes) has no 'results' list; the search API changed its answer"),
    ("an empty page declaring no results", _error_with_results, "ok",
     "page 6 of 8 (all programmes) was empty although totalResults is 731; the result set changed while "
     "reading, the next run completes it; all programmes: read 500 results of the 731 declared by "
     "totalResults"),
]


@pytest.mark.parametrize(("name", "mutate", "outcome", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_short_answer_closes_nothing(engine, server, portal, name, mutate, outcome, reason) -> None:  # noqa: F811
    first = run(engine, eu_ft(server), D21)
    assert (first.complete, first.new) == (True, 731)
    before = statuses(engine)
    portal.mutate = mutate
    result = run(engine, eu_ft(server), D21 + timedelta(days=1))
    assert (result.outcome, result.complete, result.closed, result.missing) == (outcome, False, 0, 0)
    assert result.error.startswith(reason) and "\n" not in result.error
    assert statuses(engine) == before and missing_marks(engine) == []


def test_pages_sent_in_another_order_are_the_whole_answer(engine, server, portal) -> None:  # noqa: F811
    """Pages 2 and 3 swapped: every result was read once, so the run is complete and closes nothing."""
    run(engine, eu_ft(server), D21)
    before = statuses(engine)
    pages: dict[int, list[Any]] = {}
    recording = portal.recording

    def swapped(number: int, data: dict[str, Any]) -> dict[str, Any]:
        other = {2: 3, 3: 2}.get(number)
        if other is None:
            return data
        if other not in pages:
            pages[other] = recording.results[(other - 1) * 100:other * 100]
        return {**data, "results": pages[other]}

    portal.mutate = swapped
    result = run(engine, eu_ft(server), D21 + timedelta(days=1))
    assert (result.outcome, result.complete, result.seen, result.closed, result.missing) == \
        ("ok", True, 731, 0, 0)
    assert statuses(engine) == before


# --- the euro-access listing ----------------------------------------------------------------------
# The real listing of October 2025 (../shared/samples/euro_access/calls_list_2025-10.html, one page of
# 142 rows) split over two pages at serve time, as the site would paginate it: page 1 the first 70 rows
# and a "next ›" link, page 2 the rest; its links point at the local server.

OCT = datetime(2025, 10, 20, 10, 0, tzinfo=UTC)
# the BSR call is row 22 (page 1), the DE-DK call row 136 (page 2)
EURO_PROGRAMMES = ["Interreg Germany-Denmark", "Interreg Baltic Sea Region"]


class Listing:
    def __init__(self, server: LocalServer, samples: Path) -> None:
        html = (samples / "euro_access" / "calls_list_2025-10.html").read_text(encoding="utf-8")
        html = html.replace("https://www.euro-access.eu", server.base_url)
        head, _, rest = html.partition("<tbody>")
        body, _, tail = rest.partition("</tbody>")
        rows = body.split("</tr>")[:-1]
        more = tail.replace("</table>", '</table><ul class="pagination"><li><a href="/en/calls?page=2">'
                                        "next ›</a></li></ul>", 1)
        self.head, self.tail = head, tail
        self.pages = {1: head + "<tbody>" + "</tr>".join(rows[:70]) + "</tr></tbody>" + more,
                      2: head + "<tbody>" + "</tr>".join(rows[70:]) + "</tr></tbody>" + tail}
        self.status = {1: 200, 2: 200}
        server.route("GET", "/en/calls", self.handle)

    def handle(self, request: Request) -> Reply:
        number = int(request.query.get("page", ["1"])[0])
        return Reply(self.status[number], self.pages[number], {"Content-Type": "text/html; charset=utf-8"})

    def without_heading(self) -> None:
        self.pages = {n: page.replace("<h3>142 Calls found</h3>", "") for n, page in self.pages.items()}


def _euro_access(server: LocalServer) -> EuroAccessAdapter:
    cfg = EuroAccessSource(type="euro_access", url=server.url("/en/calls"), programmes=EURO_PROGRAMMES)
    return EuroAccessAdapter("euro_access", cfg)


@pytest.fixture
def listing(server: LocalServer, samples: Path) -> Listing:
    return Listing(server, samples)


def _euro_statuses(engine) -> dict[str, str]:
    with Session(engine) as session:
        calls = session.exec(select(Call).where(Call.source == "euro_access"))
        return {c.external_id: c.status for c in calls}


def _first_euro_sync(engine, server, listing: Listing) -> dict[str, str]:
    server.route("GET", "/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 lambda r: Reply(200, (FIXTURES / "euro_access" / "call_detail_2374.html").read_bytes(),
                                 {"Content-Type": "text/html"}))
    server.route("GET", "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025",
                 lambda r: Reply(200, (FIXTURES / "euro_access" / "call_detail_2374.html").read_bytes(),
                                 {"Content-Type": "text/html"}))
    first = run(engine, _euro_access(server), OCT)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 2)
    return _euro_statuses(engine)


@pytest.mark.parametrize(("name", "change", "outcome", "reason"), [
    ("page 2 missing", lambda listing: listing.status.update({2: 404}), "failed",
     "HTTP 404 from http://127.0.0.1:"),
    ("page 2 cut short", lambda listing: listing.pages.update(
        {2: listing.pages[2][:listing.pages[2].index("/calls/2374/")]}), "ok",
     "the listing page http://127.0.0.1:"),
    ("page 2 empty", lambda listing: listing.pages.update(
        {2: listing.head + "<tbody></tbody>" + listing.tail}), "ok", "listing page 2 of http://127.0.0.1:"),
    ("page 2 empty, no count", lambda listing: (listing.without_heading(), listing.pages.update(
        {2: listing.head.replace("<h3>142 Calls found</h3>", "") + "<tbody></tbody>" + listing.tail})),
     "ok", "listing page 2 of http://127.0.0.1:"),
    ("page 2 cut short, no count", lambda listing: (listing.without_heading(), listing.pages.update(
        {2: listing.pages[2][:listing.pages[2].index("/calls/2374/") + 300]})),
     "ok", "the listing page http://127.0.0.1:"),
    ("page 2 repeating page 1, no count", lambda listing: (listing.without_heading(), listing.pages.update(
        {2: listing.pages[1].replace('<ul class="pagination"><li><a href="/en/calls?page=2">next ›</a></li>'
                                     "</ul>", "")})),
     "ok", "listing page 2 of http://127.0.0.1:"),
])
def test_a_short_listing_closes_nothing(engine, server, listing, name, change, outcome, reason) -> None:
    before = _first_euro_sync(engine, server, listing)
    change(listing)
    result = run(engine, _euro_access(server), OCT + timedelta(days=1))
    assert (result.outcome, result.complete, result.closed, result.missing) == (outcome, False, 0, 0)
    assert result.error.startswith(reason) and "\n" not in result.error, result.error
    assert _euro_statuses(engine) == before and missing_marks(engine) == []


def test_every_programme_answered_empty_is_one_line(engine, server, portal) -> None:  # noqa: F811
    run(engine, per_programme(server, engine), D21)
    before = statuses(engine)
    portal.mutate = lambda number, data: {**data, "totalResults": 0, "results": []}
    result = run(engine, per_programme(server, engine), D21 + timedelta(days=1))
    assert (result.outcome, result.complete, result.closed, result.missing) == ("ok", False, 0, 0)
    assert result.error == (  # Innovation Fund had no call in the recording
        "8 programmes answered no results although stored calls of them are open or forthcoming "
        "(Horizon Europe: 516, Digital Europe: 39, LIFE: 31, Single Market Programme: 5, Connecting "
        "Europe Facility: 11, Erasmus+: 6, Creative Europe: 7, Interregional Innovation Investments: 3); "
        "nothing closed, the next run reads them again")
    assert statuses(engine) == before


def test_a_call_page_cut_off_keeps_the_stored_call(engine, server, listing) -> None:
    """The DE-DK call page (tests/fixtures/euro_access/call_detail_2374.html) cut in half was read as
    the call's page, its missing half taking the call's text and details with it."""
    before = _first_euro_sync(engine, server, listing)
    with Session(engine) as session:
        stored = session.exec(select(Call).where(Call.external_id == "2374")).one()
        text, funding_rate = stored.text, stored.funding_rate
    page = (FIXTURES / "euro_access" / "call_detail_2374.html").read_bytes()
    server.route("GET", "/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 lambda r: Reply(200, page[:len(page) // 2], {"Content-Type": "text/html"}))
    result = run(engine, _euro_access(server), OCT + timedelta(days=1))
    assert (result.complete, result.changed, result.closed, result.missing) == (False, 0, 0, 0)
    assert result.error.startswith("1 of 2 call pages could not be read, listing data kept (first: "
                                   "http://127.0.0.1:")
    assert "Interreg-DE-DK-Application-of-project-proposals-2025 ends before </html> (cut off?)" \
        in result.error
    with Session(engine) as session:
        stored = session.exec(select(Call).where(Call.external_id == "2374")).one()
        assert (stored.text, stored.funding_rate) == (text, funding_rate) and text
    assert _euro_statuses(engine) == before

"""A call page that fails for one run (HTTP 500, a timeout, a page that changed its markup) leaves the
call as stored: the listing's few fields are no reason to erase its text, budget, opening and call
number, or to move its deadline to the listing's (and alert the applications that follow it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.config import HtmlListSource
from pipeline.core.models import Call, CallChange
from tests.localserver import LocalServer, Reply
from tests.test_plausibility import NOV, _euro_access, _listing, run
from watcher.sources.html_list import HtmlListAdapter

FIXTURES = Path(__file__).parent / "fixtures"
HTML = {"Content-Type": "text/html; charset=utf-8"}
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DETAIL = (FIXTURES / "euro_access" / "call_detail_2374.html").read_bytes()
PATHS = ("/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
         "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025")


def _stored(engine) -> dict[str, Call]:
    with Session(engine) as session:
        return {c.external_id: c for c in session.exec(select(Call))}


def _changes(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(c.field, c.new or "") for c in session.exec(select(CallChange))]


def test_a_failing_call_page_keeps_the_stored_details(engine, server: LocalServer, samples: Path) -> None:
    listing = _listing(samples, server)
    server.route("GET", "/en/calls", lambda r: Reply(200, listing, {"Content-Type": "text/html"}))
    pages = {"status": 200}
    for path in PATHS:
        server.route("GET", path, lambda r: Reply(pages["status"], DETAIL if pages["status"] == 200 else
                                                  b"Internal Server Error", {"Content-Type": "text/html"}))
    first = run(engine, _euro_access(server), NOV)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 2)
    before = _stored(engine)
    assert before["2193"].budget == 40_000_000 and before["2193"].call_id == "Interreg DE-DK 2025-2"

    pages["status"] = 500  # both call pages fail, the listing still answers
    second = run(engine, _euro_access(server), NOV)
    assert (second.outcome, second.complete, second.seen, second.closed) == ("ok", False, 2, 0)
    assert "2 of 2 call pages could not be read" in second.error
    after = _stored(engine)
    for key in ("2374", "2193"):
        for name in ("text", "budget", "call_id", "opening_date", "deadlines", "max_contribution", "extra"):
            assert getattr(after[key], name) == getattr(before[key], name), (key, name)
    assert _changes(engine) == []

    pages["status"] = 200  # the pages are back: nothing to change either
    third = run(engine, _euro_access(server), NOV)
    assert (third.complete, third.changed, third.unchanged) == (True, 0, 2)
    assert _changes(engine) == []


def test_a_new_call_whose_page_fails_is_stored_from_the_listing(engine, server: LocalServer,
                                                                samples: Path) -> None:
    listing = _listing(samples, server)
    server.route("GET", "/en/calls", lambda r: Reply(200, listing, {"Content-Type": "text/html"}))
    for path in PATHS:
        server.route("GET", path, lambda r: Reply(500, b"down", {"Content-Type": "text/html"}))
    first = run(engine, _euro_access(server), NOV)
    assert (first.outcome, first.complete, first.new) == ("ok", False, 2)
    stored = _stored(engine)
    assert stored["2193"].title == "Interreg Baltic Sea Region - Project Platforms 2025"
    assert stored["2193"].deadline is not None and stored["2193"].text == ""


def test_a_failing_detail_page_of_an_html_list_keeps_the_stored_text(engine, server: LocalServer) -> None:
    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_bytes()
    detail = (FIXTURES / "html_list" / "innovationsfonden_grand_solutions.html").read_bytes()
    server.route("GET", "/da/programmer", lambda r: Reply(200, listing, HTML))
    pages = {"status": 200}
    for path in ("/da/p/grand-solutions/grand-solutions-2027", "/da/programmer/innobooster",
                 "/da/programmer/eurostars"):
        server.route("GET", path, lambda r: Reply(pages["status"], detail if pages["status"] == 200 else
                                                  b"down", HTML))
    adapter = HtmlListAdapter("ifd", HtmlListSource(
        type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden", item=".views-row",
        title="h3", link="h3 a[href]", text=".teaser__dates, .teaser__amount, .teaser__text", detail=True,
        detail_text=".node__content"))
    first = run(engine, adapter, NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 3)
    before = _stored(engine)
    assert all("havvind og brint" in call.text for call in before.values())
    pages["status"] = 500
    second = run(engine, adapter, NOW)
    assert (second.outcome, second.complete, second.seen, second.closed) == ("ok", False, 3, 0)
    after = _stored(engine)
    for key, call in before.items():
        assert (after[key].text, after[key].deadlines, after[key].budget) == \
            (call.text, call.deadlines, call.budget), key
    assert _changes(engine) == []


def test_html_list_items_past_max_details_keep_their_stored_text(engine, server: LocalServer) -> None:
    """A listing that grows past ``max_details`` leaves the calls whose pages are then not read as
    stored, instead of rewriting them from the list alone (and back again when it shrinks)."""
    listing = (FIXTURES / "html_list" / "innovationsfonden_list.html").read_bytes()
    detail = (FIXTURES / "html_list" / "innovationsfonden_grand_solutions.html").read_bytes()
    server.route("GET", "/da/programmer", lambda r: Reply(200, listing, HTML))
    for path in ("/da/p/grand-solutions/grand-solutions-2027", "/da/programmer/innobooster",
                 "/da/programmer/eurostars"):
        server.route("GET", path, lambda r: Reply(200, detail, HTML))

    def adapter(cap: int) -> HtmlListAdapter:
        return HtmlListAdapter("ifd", HtmlListSource(
            type="html_list", url=server.url("/da/programmer"), programme="Innovationsfonden",
            item=".views-row", title="h3", link="h3 a[href]",
            text=".teaser__dates, .teaser__amount, .teaser__text", detail=True,
            detail_text=".node__content", max_details=cap))

    first = run(engine, adapter(3), NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 3)
    before = _stored(engine)
    assert all("havvind og brint" in call.text for call in before.values())
    second = run(engine, adapter(1), NOW)  # two of the three pages are past the cap
    assert (second.outcome, second.complete, second.seen, second.changed, second.closed) == \
        ("ok", True, 3, 0, 0)
    after = _stored(engine)
    for key, call in before.items():
        assert (after[key].text, after[key].deadlines, after[key].budget) == \
            (call.text, call.deadlines, call.budget), key
    assert _changes(engine) == []

"""The round's symptoms attacked again, each through the real client, a local server and a real SQLite
file: a funder's listing that pages its calls (a short first page of several) closes nothing, and
neither does one programme's search answered with a few of its calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from pipeline.core.config import HtmlListSource
from pipeline.core.models import Call
from tests.localserver import LocalServer, Reply, Request
from tests.test_plausibility import Portal, portal, run, statuses  # noqa: F401
from tests.test_short_answers import D21, LIFE, missing_marks, per_programme
from watcher.sources.html_list import HtmlListAdapter

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}

# A funder's listing in the Drupal "views" layout of tests/fixtures/html_list/innovationsfonden_list.html,
# two calls a page, with Drupal core's pager (core/modules/system/templates/pager.html.twig: a
# 'pager__item--next' link with rel="next" to '?page=N', counted from 0).
ITEM = """<div class="views-row"><article class="teaser"><h3><a href="/da/opslag/{slug}">{title}</a></h3>
<div class="teaser__dates">Ansøgningsfrist {day}. marts 2027 kl. 12.00</div>
<div class="teaser__text">Tilskud til udviklingsprojekter om havvind og brint.</div></article></div>"""
PAGER = """<nav class="pager" role="navigation" aria-labelledby="pagination-heading">
<h4 id="pagination-heading" class="visually-hidden">Pagination</h4><ul class="pager__items js-pager__items">
<li class="pager__item pager__item--next"><a href="?page={next}" title="Go to next page" rel="next">
<span class="visually-hidden">Next page</span><span aria-hidden="true">››</span></a></li></ul></nav>"""


class PagedListing:
    """The funder's calls, two a page, newest first; ``answer`` may change a page at serve time."""

    def __init__(self, server: LocalServer, calls: list[str]) -> None:
        self.calls = calls
        self.answer: dict[int, Reply] = {}
        server.route("GET", "/da/opslag", self.handle)

    def page(self, number: int) -> str:
        items = self.calls[number * 2:number * 2 + 2]
        rows = "".join(ITEM.format(slug=c.lower().replace(" ", "-"), title=c, day=10 + n)
                       for n, c in enumerate(items))
        pager = PAGER.format(next=number + 1) if len(self.calls) > number * 2 + 2 else ""
        return ('<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Opslag</title></head>'
                f'<body><main><div class="view view-calls"><div class="view-content">{rows}</div>{pager}'
                "</div></main></body></html>")

    def handle(self, request: Request) -> Reply:
        number = int(request.query.get("page", ["0"])[0])
        return self.answer.get(number) or Reply(200, self.page(number), HTML)


def _adapter(server: LocalServer) -> HtmlListAdapter:
    cfg = HtmlListSource(type="html_list", url=server.url("/da/opslag"), programme="EUDP", item=".views-row",
                         title="h3", link="h3 a[href]", type_of_action="national grant")
    return HtmlListAdapter("eudp", cfg)


def _stored(engine) -> dict[str, str]:
    with Session(engine) as session:
        return {c.title: c.status for c in session.exec(select(Call))}


def test_a_listing_of_several_pages_is_read_whole_and_a_call_moving_to_page_two_stays(engine, server) -> None:
    """html_list read the first page of a paged listing as the whole list: the calls on the next pages
    were never stored, and a new call at the top pushed the last call of page 1 onto page 2, where two
    runs later it was 'removed' (with its alert) though the funder still listed it."""
    listing = PagedListing(server, ["Call A", "Call B", "Call C", "Call D", "Call E"])
    first = run(engine, _adapter(server), NOW)
    assert (first.outcome, first.complete, first.new) == ("ok", True, 5), first.error
    listing.calls.insert(0, "Call New")  # B moves to page 2, D to page 3
    for day in (1, 2):
        result = run(engine, _adapter(server), NOW + timedelta(days=day))
        assert (result.complete, result.closed, result.missing) == (True, 0, 0), result.error
    assert _stored(engine) == {name: "open" for name in
                               ("Call A", "Call B", "Call C", "Call D", "Call E", "Call New")}


def test_a_next_page_answered_short_closes_nothing(engine, server) -> None:
    """The second page answered empty, or with the first page again (a site ignoring '?page='), is a
    short answer: the run is incomplete and says which page, and nothing is marked or closed."""
    listing = PagedListing(server, ["Call A", "Call B", "Call C", "Call D"])
    run(engine, _adapter(server), NOW)
    before = _stored(engine)
    listing.answer[1] = Reply(200, listing.page(0).replace('rel="next"', ""), HTML)
    result = run(engine, _adapter(server), NOW + timedelta(days=1))
    assert (result.outcome, result.complete, result.closed, result.missing) == ("ok", False, 0, 0)
    assert result.error.startswith("listing page 2 of http://127.0.0.1:") and "holds no call the pages " \
        "before it did not" in result.error and "\n" not in result.error, result.error
    empty = listing.page(0).replace(ITEM.format(slug="call-a", title="Call A", day=10), "") \
        .replace(ITEM.format(slug="call-b", title="Call B", day=11), "")
    listing.answer[1] = Reply(200, empty, HTML)
    result = run(engine, _adapter(server), NOW + timedelta(days=2))
    assert (result.complete, result.closed, result.missing) == (False, 0, 0), result.error
    listing.answer[1] = Reply(503, "busy", HTML)
    result = run(engine, _adapter(server), NOW + timedelta(days=3))
    assert (result.outcome, result.closed) == ("failed", 0)
    assert _stored(engine) == before


def test_one_programme_answered_with_one_of_its_calls_removes_none(engine, server, portal) -> None:  # noqa: F811
    """The LIFE query answering one result (totalResults 1, consistent) while 31 LIFE calls were
    open: the run was complete, 30 calls were marked missing, and the next such answer removed them,
    as the guard counts the share of the whole source (4 %); an empty answer was already held back."""
    run(engine, per_programme(server, engine), D21)
    before = statuses(engine)

    def one_life_call(number: int, data: dict) -> dict:
        results = data["results"]
        if results and all(LIFE in r["metadata"].get("frameworkProgramme", []) for r in results):
            return {**data, "totalResults": 1, "results": results[:1]} if number == 1 else \
                {**data, "totalResults": 1, "results": []}
        return data

    portal.mutate = one_life_call
    for day in (1, 2):
        result = run(engine, per_programme(server, engine), D21 + timedelta(days=day))
        assert (result.outcome, result.complete, result.closed, result.missing) == ("ok", False, 0, 0)
        assert result.error == ("LIFE: the search answered 1 result although 31 stored calls of the "
                                "programme are open or forthcoming (30 not in it, more than "
                                "max_close_share=0.2 of them); nothing closed, the next run reads it "
                                "again"), result.error
    assert statuses(engine) == before and missing_marks(engine) == []

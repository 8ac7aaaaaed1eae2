"""Source type html_list: a funder's listing page read with CSS selectors, amounts in DKK/EUR/NOK/SEK."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from pipeline.core.config import HtmlListSource
from pipeline.core.errors import ParseError, SourceError
from tests.localserver import LocalServer, Reply
from watcher.amounts import budget_and_maximum, find_amounts
from watcher.runner import run_source
from watcher.sources.html_list import HtmlListAdapter, parse_listing

FIXTURES = Path(__file__).parent / "fixtures" / "html_list"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HTML = {"Content-Type": "text/html; charset=utf-8"}


def _cfg(url: str, **extra: object) -> HtmlListSource:
    return HtmlListSource(type="html_list", url=url, programme="Innovationsfonden", item=".views-row",
                          title="h3", link="h3 a[href]",
                          text=".teaser__dates, .teaser__amount, .teaser__text", **extra)


@pytest.mark.parametrize(("text", "expected"), [
    ("Samlet pulje: 50 mio. DKK", [(50e6, "DKK", True)]),
    ("fra 5 mio. kr. til 40 mio. kr.", [(5e6, "DKK", False), (40e6, "DKK", False)]),
    ("DKK 5-40 million", [(40e6, "DKK", False)]),
    ("up to EUR 60,000 per cluster", [(60e3, "EUR", False)]),
    ("NOK 2 millioner", [(2e6, "NOK", False)]),
    ("SEK 500 000", [(500e3, "SEK", False)]),
    ("3 partners from 2 countries in 2026", []),
    # as funders write them: a short scale word is never read as the number before its decimals
    # ("EUR 1.5m" was EUR 1, and failed every budget rule), a range's upper end counts whatever joins it
    ("EUR 1.5m per project", [(1.5e6, "EUR", False)]),
    ("€2M", [(2e6, "EUR", False)]),
    ("EUR 1.5 million", [(1.5e6, "EUR", False)]),
    ("1.5 million euros", [(1.5e6, "EUR", False)]),
    ("1,5 mio. kr.", [(1.5e6, "DKK", False)]),
    ("each national funder contributes about EUR 10,000 to 60,000 per cluster", [(60e3, "EUR", False)]),
    ("between EUR 1 and 2 million", [(2e6, "EUR", False)]),
    ("mellem 1 og 2 mio. kr.", [(2e6, "DKK", False)]),
    ("up to EUR 60,000 and 12 months", [(60e3, "EUR", False)]),
    ("EUR 5 bn", [(5e9, "EUR", False)]),
    ("up to 500 000", []),  # no currency: not an amount
    # the pool word belongs to the amount after it only
    ("Total budget: EUR 3 million; up to EUR 500,000 per project", [(3e6, "EUR", True), (5e5, "EUR", False)]),
])
def test_amounts(text: str, expected: list[tuple[float, str, bool]]) -> None:
    assert [(a.value, a.currency, a.pool) for a in find_amounts(text)] == expected


def test_budget_and_maximum_in_eur() -> None:
    budget, maximum = budget_and_maximum("Samlet pulje: 250 mio. kr. Pr. projekt: fra 5 mio. kr. til "
                                         "40 mio. kr.")
    assert (round(budget or 0), round(maximum or 0)) == (33_510_357, 5_361_657)  # DKK 7.46038 per EUR


def test_listing_items_dates_and_amounts(server: LocalServer, engine) -> None:
    server.route("GET", "/da/programmer",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_list.html").read_bytes(), HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer")))
    with httpx.Client() as client:
        result = adapter.fetch(client, NOW)
        first = run_source(engine, adapter, client, NOW)
        again = run_source(engine, adapter, client, NOW)
    grand, booster, eurostars = result.records
    assert grand.url == server.url("/da/p/grand-solutions/grand-solutions-2027")
    assert grand.status == "open" and grand.opening_date == datetime(2026, 10, 14, 22, 0, tzinfo=UTC)
    assert [d.at for d in grand.deadlines] == [datetime(2027, 2, 2, 11, 0, tzinfo=UTC)]  # 12.00 CET
    assert booster.max_contribution == round(5e6 / 7.46038, 2)
    assert eurostars.deadlines[0].at == datetime(2027, 3, 11, 13, 0, tzinfo=UTC)
    assert result.complete and [r.path for r in server.requests if "grand-solutions" in r.path] == []
    assert (first.new, again.new, again.unchanged, again.complete) == (3, 0, 3, True)  # change detection


def test_detail_pages_on_the_same_host_only(server: LocalServer) -> None:
    listing = (FIXTURES / "innovationsfonden_list.html").read_text(encoding="utf-8").replace(
        'href="/da/programmer/eurostars"', 'href="https://www.eurostars-eureka.eu/calls"')
    server.route("GET", "/da/programmer", lambda r: Reply(200, listing.encode(), HTML))
    server.route("GET", "/da/p/grand-solutions/grand-solutions-2027",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_grand_solutions.html").read_bytes(),
                                 HTML))
    server.route("GET", "/da/programmer/innobooster", lambda r: Reply(500, b"oops"))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer"), detail=True,
                                          detail_text=".node__content"))
    with httpx.Client() as client:
        result = adapter.fetch(client, NOW)
    grand, booster, eurostars = result.records
    assert "havvind og brint" in grand.text and grand.budget == round(250e6 / 7.46038, 2)
    assert "Tilskud til små" in booster.text  # from the list, its page failed
    assert not result.complete and result.warning is not None and "1 of 2 call pages" in result.warning
    assert [r.path for r in server.requests if "eurostars" in r.path] == []  # another host: not fetched


def test_a_detail_page_redirecting_to_another_host_is_not_followed(server: LocalServer) -> None:
    """A call page on the listing's host may redirect within it; a redirect elsewhere (another site, an
    address inside the network) is never requested: that call is kept from the list alone."""
    other = server.base_url.replace("127.0.0.1", "localhost")  # the same server under another host name
    server.route("GET", "/da/programmer",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_list.html").read_bytes(), HTML))
    server.route("GET", "/da/p/grand-solutions/grand-solutions-2027",
                 lambda r: Reply(302, b"", {"Location": "/da/p/grand-solutions/moved"}))
    server.route("GET", "/da/p/grand-solutions/moved",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_grand_solutions.html").read_bytes(),
                                 HTML))
    server.route("GET", "/da/programmer/innobooster",
                 lambda r: Reply(301, b"", {"Location": f"{other}/internal/admin"}))
    server.route("GET", "/internal/admin", lambda r: Reply(200, b"<p>secret</p>", HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer"), detail=True,
                                          detail_text=".node__content"))
    with httpx.Client(follow_redirects=True) as client:
        result = adapter.fetch(client, NOW)
    grand, booster, _ = result.records
    assert "havvind og brint" in grand.text  # followed on the same host
    assert "Tilskud til små" in booster.text and "secret" not in booster.text
    assert result.warning is not None and "redirects to another host (localhost)" in result.warning
    assert [r.path for r in server.requests if r.path == "/internal/admin"] == []  # never requested


def test_an_item_selector_that_finds_nothing_says_so() -> None:
    with pytest.raises(ParseError, match="no item matches '.views-row'.*check the selectors"):
        parse_listing("<html><body><p>Moved</p></body></html>", base_url="https://x.dk/", cfg=_cfg("https://x.dk/"),
                      source="ifd")


def test_a_broken_selector_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="not a CSS selector"):
        _cfg("https://x.dk/", detail_text="div[")


def test_replay_a_detail_page_missing_from_the_recording_says_so(tmp_path: Path) -> None:
    from watcher.http import make_client
    from watcher.replay import ReplayTransport

    folder = tmp_path / "ifd"
    folder.mkdir()
    (folder / "list.html").write_bytes((FIXTURES / "innovationsfonden_list.html").read_bytes())
    (folder / "1.html").write_bytes((FIXTURES / "innovationsfonden_grand_solutions.html").read_bytes())
    adapter = HtmlListAdapter("ifd", _cfg("https://innovationsfonden.dk/da/programmer", detail=True,
                                          detail_text=".node__content"))
    handler = adapter.replay_handler(tmp_path)
    assert handler is not None
    with make_client(transport=ReplayTransport([handler]), retries=0) as client:
        result = adapter.fetch(client, NOW)
    assert "havvind og brint" in result.records[0].text
    assert result.warning is not None and "is not in the recording" in result.warning
    assert "try again later" not in result.warning


def test_an_absurd_amount_in_the_text_leaves_the_call_stored_without_it(server: LocalServer, engine) -> None:
    """"Samlet pulje 9999…9 kr." (400 digits) became an infinite budget, and the record check then
    skipped the whole call: a funder's typo or a garbled page kept its call out for good."""
    listing = ('<html><body><div class="views-row"><h3><a href="/p/1">Grand Solutions 2027</a></h3>'
               '<div class="teaser__dates">Ansøgningsfrist 2. februar 2027 kl. 12.00</div>'
               f'<div class="teaser__amount">Samlet pulje 9{"9" * 400} kr. Op til 40 mio. kr.</div>'
               '</div></body></html>')
    server.route("GET", "/da/programmer", lambda r: Reply(200, listing.encode(), HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer")))
    with httpx.Client() as client:
        run = run_source(engine, adapter, client, NOW)
    assert (run.outcome, run.new, run.complete, run.error) == ("ok", 1, True, None)
    assert budget_and_maximum("Samlet pulje DKK 1.000.000.000.000.000.000 mia.") == (None, None)
    assert budget_and_maximum(f"pulje 9{'9' * 400} kr., op til 40 mio. kr.") == (
        None, round(40e6 / 7.46038, 2))


def test_an_item_linking_to_no_url_is_left_out_not_the_source(server: LocalServer, engine) -> None:
    """An item whose href is no URL ("http://[::1/x") failed the whole source with "unexpected
    ValueError: Invalid IPv6 URL"; it is left out and named, the other items are stored, and the run
    is incomplete so nothing is closed on its account."""
    listing = ('<html><body><div class="views-row"><h3><a href="http://[::1/x">Broken 2027</a></h3></div>'
               '<div class="views-row"><h3><a href="/da/p/ok">Grand Solutions 2027</a></h3>'
               '<div class="teaser__dates">Ansøgningsfrist 2. februar 2027</div></div></body></html>')
    server.route("GET", "/da/programmer", lambda r: Reply(200, listing.encode(), HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer")))
    with httpx.Client() as client:
        run = run_source(engine, adapter, client, NOW)
    assert (run.outcome, run.new, run.complete) == ("ok", 1, False)
    assert run.error == ("1 listed item(s) left out (first: 'Broken 2027' links to 'http://[::1/x', which "
                         "is not a URL)")


def test_a_url_httpx_cannot_fetch_is_one_line(server: LocalServer) -> None:
    """httpx.InvalidURL is no httpx.HTTPError: it went past the fetch's own errors."""
    from watcher.http import fetch_text, make_client

    with make_client(retries=0) as client, pytest.raises(SourceError) as caught:
        fetch_text(client, "http://[::1", source="ifd")
    assert str(caught.value) == ("source 'ifd': http://[::1 is not a URL that can be fetched (Invalid port: "
                                 "':1'); check the URL")


def test_a_listing_of_more_items_than_any_funder_has_is_read_in_part(server: LocalServer, engine) -> None:
    """Every item's dates were searched, however many: a hostile page of 100,000 items held its run
    for hours. The first MAX_ITEMS are stored, the run is incomplete and says why."""
    from watcher.sources.html_list import MAX_ITEMS

    rows = "".join(f'<div class="views-row"><h3><a href="/p/{n}">Call {n}</a></h3></div>'
                   for n in range(MAX_ITEMS + 5))
    page = f"<html><body>{rows}</body></html>".encode()
    server.route("GET", "/da/programmer", lambda r: Reply(200, page, HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer")))
    with httpx.Client() as client:
        run = run_source(engine, adapter, client, NOW)
    assert (run.outcome, run.new, run.complete) == ("ok", MAX_ITEMS, False)
    assert run.error == f"the listing has {MAX_ITEMS + 5:,} items, only the first {MAX_ITEMS:,} were read"


def test_a_listing_cut_off_mid_item_keeps_the_stored_calls(server: LocalServer, engine) -> None:
    """The fixture cut after "Næste ansøgningsfrist 3." (a server stopping mid-answer, its length
    honest): the run was complete, so Eurostars, after the cut, was marked missing (removed by the next
    such answer), and Innobooster's deadline went with the cut text (a "deadline removed" change)."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from pipeline.core.models import Call, CallChange

    full = (FIXTURES / "innovationsfonden_list.html").read_bytes()
    answer = {"body": full}
    server.route("GET", "/da/programmer", lambda r: Reply(200, answer["body"], HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer")))
    with httpx.Client() as client:
        first = run_source(engine, adapter, client, NOW)
        stop = "Næste ansøgningsfrist 3.".encode()
        answer["body"] = full[:full.index(stop) + len(stop)]
        cut = run_source(engine, adapter, client, NOW + timedelta(days=1))
    assert (first.new, first.complete) == (3, True)
    assert (cut.complete, cut.closed, cut.missing, cut.changed) == (False, 0, 0, 0)
    assert cut.error == (f"the listing {server.url('/da/programmer')} ends before </html> (cut off?): its "
                         "last item, 'Innobooster', is kept as stored and nothing is closed")
    with Session(engine) as session:
        assert session.exec(select(CallChange)).all() == []
        booster = session.exec(select(Call).where(Call.title == "Innobooster")).one()
        assert booster.deadline is not None and booster.missing_since is None


def test_a_call_page_cut_off_keeps_the_stored_call(server: LocalServer, engine) -> None:
    """The Grand Solutions page cut before "Formål med opslaget" (a server stopping mid-answer) was read
    as the call's page: the call lost the text its scores stand on (a "text changed" change), put back
    by the next whole answer, a change each time."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from pipeline.core.models import Call, CallChange

    page = (FIXTURES / "innovationsfonden_grand_solutions.html").read_bytes()
    answer = {"page": page}
    server.route("GET", "/da/programmer",
                 lambda r: Reply(200, (FIXTURES / "innovationsfonden_list.html").read_bytes(), HTML))
    server.route("GET", "/da/p/grand-solutions/grand-solutions-2027",
                 lambda r: Reply(200, answer["page"], HTML))
    for path in ("/da/programmer/innobooster", "/da/programmer/eurostars"):
        server.route("GET", path, lambda r: Reply(200, page, HTML))
    adapter = HtmlListAdapter("ifd", _cfg(server.url("/da/programmer"), detail=True,
                                          detail_text=".node__content"))
    with httpx.Client() as client:
        assert run_source(engine, adapter, client, NOW).new == 3
        answer["page"] = page[:page.index("<h2>Formål med opslaget".encode())]
        cut = run_source(engine, adapter, client, NOW + timedelta(days=1))
    assert (cut.complete, cut.changed, cut.closed, cut.missing) == (False, 0, 0, 0)
    url = server.url("/da/p/grand-solutions/grand-solutions-2027")
    assert "1 of 3 call pages could not be read, their calls are from the list only (first: " \
           f"{url} ends before </html> (cut off?)" in cut.error
    with Session(engine) as session:
        assert session.exec(select(CallChange)).all() == []
        grand = session.exec(select(Call).where(Call.title.startswith("Grand Solutions"))).one()
        assert grand.budget == round(250e6 / 7.46038, 2) and "havvind og brint" in grand.text

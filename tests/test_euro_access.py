"""euro-access.eu: the real recorded listing and call page, pagination, programme filter, replay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pipeline.core.config import EuroAccessSource
from pipeline.core.errors import ParseError
from tests.localserver import LocalServer, Reply
from watcher.euro_access_parse import parse_detail, parse_listing, parse_money, parse_rate
from watcher.runner import run_source
from watcher.sources.euro_access import EuroAccessAdapter, replay_handler
from watcher.urls import clean_url

FIXTURES = Path(__file__).parent / "fixtures" / "euro_access"
LISTING_URL = "https://www.euro-access.eu/en/calls?keyword=&submit=&sent=search"
NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)


def _listing(samples: Path) -> str:
    return (samples / "euro_access" / "calls_list_2025-10.html").read_text(encoding="utf-8")


def test_real_listing_parses_every_row(samples: Path) -> None:
    page = parse_listing(_listing(samples), LISTING_URL)
    assert len(page.rows) == 142
    assert page.total_text == "142 Calls found"
    assert page.next_url is None  # the real listing shows every call on one page
    assert all(r.programme and r.title and r.url.startswith("https://www.euro-access.eu/en/calls/")
               and r.deadline is not None and r.deadline.tzinfo is not None for r in page.rows)
    by_id = {r.external_id: r for r in page.rows}
    assert len(by_id) == 142
    de_dk = by_id["2374"]
    assert de_dk.programme == "Interreg Germany-Denmark"
    assert de_dk.title == "Interreg DE-DK - Application of project proposals 2025"
    assert de_dk.url == ("https://www.euro-access.eu/en/calls/2374/"
                         "Interreg-DE-DK-Application-of-project-proposals-2025")
    assert de_dk.deadline == datetime(2025, 11, 10, 16, 0, tzinfo=UTC)  # 17:00 CET
    bsr = by_id["2193"]
    assert (bsr.programme, bsr.deadline) == ("Interreg Baltic Sea Region",
                                             datetime(2025, 11, 20, 15, 0, tzinfo=UTC))
    assert by_id["135"].deadline == datetime(2026, 1, 27, 16, 0, tzinfo=UTC)
    assert by_id["1762"].title == "KAVA Call 13: Call for Innovation & Education Projects"


def test_real_detail_page_fills_every_field_it_has(samples: Path) -> None:
    html = (samples / "euro_access" / "call_detail_135_2025-10.html").read_text(encoding="utf-8")
    detail = parse_detail(html)
    assert detail.title == "Erasmus Charter for Higher Education - 5th cut-off date"
    assert detail.programme == "Erasmus+"
    assert detail.call_number == "ERASMUS-EDU-2022-ECHE-CERT-FP"
    assert detail.opening == datetime(2022, 2, 22, 23, 0, tzinfo=UTC)  # 23.02.2022 CET
    assert detail.deadlines == [(datetime(2026, 1, 27, 16, 0, tzinfo=UTC), False)]
    topic = ("https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
             "topic-details/erasmus-edu-2022-eche-cert-fp")
    assert detail.links == {"Link to the call": topic, "Link to the submission": topic}
    assert detail.eligibility["eligible entities"] == ("Education and training institution, Research "
                                                       "Institution incl. University")
    assert detail.eligibility["Mandatory partnership"] == "No"
    assert detail.eligibility["Regions / countries for funding"].startswith(
        "EU Member States, Overseas Countries and Territories (OCT) Albania")
    assert detail.eligibility["Project Partnership"].startswith("In order to be eligible, the applicant")
    assert detail.text.startswith("This Call aims at accrediting recognised Higher Education Institutions")
    assert "ECHE holders will be subject to regular monitoring" in detail.text
    assert "read more" not in detail.text
    assert detail.extra["Topics"] == "Education & Training, Children & Youth, Media"
    # the page has no funding rate, budget or contribution rows: unknown, not guessed
    assert (detail.funding_rate, detail.budget, detail.min_contribution, detail.max_contribution) == \
        (None, None, None, None)


def test_interreg_detail_money_and_rate() -> None:
    detail = parse_detail((FIXTURES / "call_detail_2374.html").read_text(encoding="utf-8"))
    assert detail.programme == "Interreg Germany-Denmark"
    assert detail.call_number == "Interreg DE-DK 2025-2"
    assert detail.funding_rate == 0.65
    assert detail.budget == 40_000_000.0
    assert (detail.min_contribution, detail.max_contribution) == (200_000.0, 3_000_000.0)
    assert detail.eligibility["Regions / countries for funding"] == "Denmark (Danmark), Germany (Deutschland)"


def test_value_parsers() -> None:
    assert parse_money("€ 40,000,000.00") == 40_000_000.0
    assert parse_money("EUR 1,250.50") == 1250.5
    assert parse_money("n/a") is None
    assert parse_rate("65 %") == 0.65
    assert parse_rate("up to 80%") == 0.8
    assert parse_rate("") is None
    assert clean_url("https://x.eu/en/calls/1/a?utm_source=nl&utm_medium=mail&fbclid=abc&page=2#top") == \
        "https://x.eu/en/calls/1/a?page=2"


def test_garbage_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no table#calls-overview"):
        parse_listing("<html><body>Service unavailable</body></html>", LISTING_URL, source="ea")
    with pytest.raises(ParseError, match="no div#calldata"):
        parse_detail("<html></html>", source="ea", url="https://x/calls/1/a")


def test_replay_of_samples_keeps_listing_data_and_warns(samples: Path, engine) -> None:
    handler = replay_handler(samples)
    assert handler is not None
    adapter = EuroAccessAdapter("euro_access", EuroAccessSource(type="euro_access"))
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = adapter.fetch(client, NOW)
    assert sorted(r.external_id for r in result.records) == ["2193", "2374", "2378", "2379"]
    assert result.complete is False
    assert result.warning is not None and result.warning.startswith("4 of 4 call pages could not be read")
    de_dk = next(r for r in result.records if r.external_id == "2374")
    assert de_dk.programme == "Interreg Germany-Denmark"
    assert de_dk.deadline == datetime(2025, 11, 10, 16, 0, tzinfo=UTC)
    assert de_dk.funding_rate is None and de_dk.budget is None
    assert de_dk.status == "open"


def _serve_listing(server: LocalServer, samples: Path) -> None:
    """The real listing split over two pages, with links pointing at the local server."""
    html = _listing(samples).replace("https://www.euro-access.eu", server.base_url)
    head, _, rest = html.partition("<tbody>")
    body, _, tail = rest.partition("</tbody>")
    rows = body.split("</tr>")
    first = "</tr>".join(rows[:70]) + "</tr>"
    second = "</tr>".join(rows[70:])
    # a tracking parameter on a duplicate of the DE-DK row must not create a second call
    dup = next(r for r in rows if "/calls/2374/" in r).replace(
        "Interreg-DE-DK-Application-of-project-proposals-2025\"",
        "Interreg-DE-DK-Application-of-project-proposals-2025?utm_source=newsletter&fbclid=x\"")
    page1 = head + "<tbody>" + first + "</tbody>" + tail.replace(
        "</table>", '</table><ul class="pagination"><li><a href="/en/calls?page=2">next ›</a></li></ul>', 1)
    page2 = head + "<tbody>" + second + dup + "</tr></tbody>" + tail

    def listing(request):
        return Reply(200, page2 if request.query.get("page") == ["2"] else page1,
                     {"Content-Type": "text/html; charset=utf-8"})

    server.route("GET", "/en/calls", listing)
    server.route("GET", "/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 lambda r: Reply(200, (FIXTURES / "call_detail_2374.html").read_bytes(),
                                 {"Content-Type": "text/html; charset=utf-8"}))
    server.route("GET", "/en/calls/2193/Interreg-Baltic-Sea-Region-Project-Platforms-2025",
                 lambda r: Reply(500, "boom"))


def test_pagination_filter_dedup_and_detail_over_http(server: LocalServer, samples: Path, engine) -> None:
    _serve_listing(server, samples)
    cfg = EuroAccessSource(type="euro_access", url=server.url("/en/calls"),
                           programmes=["interreg germany-denmark", "INTERREG BALTIC SEA REGION"])
    adapter = EuroAccessAdapter("euro_access", cfg)
    with httpx.Client() as client:
        result = adapter.fetch(client, NOW)
        assert sorted(r.external_id for r in result.records) == ["2193", "2374"]
        assert result.extra == {"listed": 143, "selected": 2}
        de_dk = next(r for r in result.records if r.external_id == "2374")
        assert "utm_source" not in (de_dk.url or "")
        assert (de_dk.funding_rate, de_dk.budget, de_dk.call_id) == \
            (0.65, 40_000_000.0, "Interreg DE-DK 2025-2")
        assert de_dk.opening_date == datetime(2025, 9, 14, 22, 0, tzinfo=UTC)
        assert de_dk.extra["links"]["Link to the submission"] == "https://jems.interreg-de-dk.eu/"
        bsr = next(r for r in result.records if r.external_id == "2193")
        assert bsr.funding_rate is None and bsr.deadline == datetime(2025, 11, 20, 15, 0, tzinfo=UTC)
        assert result.complete is False
        assert "1 of 2 call pages could not be read" in (result.warning or "")
        assert "HTTP 500" in (result.warning or "")

        run = run_source(engine, adapter, client, NOW)
    assert (run.outcome, run.seen, run.new, run.closed, run.complete) == ("ok", 2, 2, 0, False)


def test_max_pages_leaves_the_run_incomplete(server: LocalServer, samples: Path) -> None:
    _serve_listing(server, samples)
    cfg = EuroAccessSource(type="euro_access", url=server.url("/en/calls"), max_pages=1,
                           programmes=["Interreg South Baltic"])
    with httpx.Client() as client:
        result = EuroAccessAdapter("euro_access", cfg).fetch(client, NOW)
    assert result.complete is False
    assert "max_pages=1" in (result.warning or "")


def test_a_listing_row_whose_link_is_no_url_is_left_out_alone(server: LocalServer, samples: Path) -> None:
    """One row linking to "http://[" (no URL) tells no call: it is left out and named, the other rows are
    read, and the run is incomplete (that row could be a call still open, so nothing is closed)."""
    html = _listing(samples)
    broken = html.replace('<td><a href="https://www.euro-access.eu/en/calls/2374/',
                          '<td><a href="http://[::1/en/calls/2374/', 1)
    assert broken != html
    page = parse_listing(broken, LISTING_URL)
    assert len(page.rows) == 141 and "2374" not in {r.external_id for r in page.rows}
    assert len(page.skipped) == 1 and "links to 'http://[::1/en/calls/2374/" in page.skipped[0]
    server.route("GET", "/en/calls", lambda r: Reply(200, broken.encode(), {"Content-Type": "text/html"}))
    cfg = EuroAccessSource(type="euro_access", url=server.url("/en/calls"),
                           programmes=["Interreg South Baltic"])
    with httpx.Client() as client:
        result = EuroAccessAdapter("euro_access", cfg).fetch(client, NOW)
    assert result.complete is False and result.records
    assert "1 listing row(s) left out (first: row " in (result.warning or "")

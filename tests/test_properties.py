"""Hostile input for the source parsers (hypothesis): SEDIA JSON, euro-access listing and call pages,
RSS/Atom feeds and iCalendar files. For arbitrary bytes and text, and for structured mutations of the
real recorded samples, a parser returns records or raises a SourceError with one line; never another
exception. Records that come out are sane: known status, aware times within range, finite numbers.

The config, funding rules and partner CSV parsers are in test_properties_config.py; truncated and
oversized HTTP responses in test_properties_http.py.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.config import IcalSource
from pipeline.core.errors import ParseError, SourceError
from tests.conftest import FIXTURES, SAMPLES
from tests.hostile import (
    CET_DATES,
    EXAMPLES,
    EXTREME_MOMENTS,
    GARBAGE,
    HUGE,
    NESTED,
    NUMBER_TEXT,
    NUMBERS,
    SEDIA_MOMENTS,
    decode,
    mutated_bytes,
    mutated_html,
    mutated_json,
    own_errors_only,
)
from tests.localserver import Reply
from watcher.euro_access_parse import CallDetail, ListingPage, parse_detail, parse_listing
from watcher.http import make_client
from watcher.records import STATUSES, CallRecord
from watcher.runner import run_source
from watcher.sedia import SediaPage, load_page, parse_page
from watcher.sources.feed import parse_feed
from watcher.sources.ical import IcalAdapter, parse_calendar

# garbage looks like a file name to BeautifulSoup, and feedparser warns about its own date mapping
pytestmark = pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning",
                                        "ignore::DeprecationWarning:feedparser")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))  # slow parsers: dateparser, huge HTML
BASE_URL = "https://www.euro-access.eu/en/calls"
NOW = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
PHRASES = ["call for proposals", "open for applications", "call opens", "deadline", "application round"]


def _read(path: Path) -> bytes:
    if not path.is_file():
        pytest.fail(f"recorded sample not found at {path}; set FUNDRADAR_SAMPLES")
    return path.read_bytes()


def _sedia_pool() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The real page's envelope, and results of every kind: the real page's nine (stale copies and a
    duplicate included) and every 40th result of a full day's recording."""
    real = json.loads(_read(SAMPLES / "eu_ft" / "sedia_search_page_real.json"))
    pool = list(real["results"])
    for path in sorted((SAMPLES / "eu_ft" / "search_2026-08-22").glob("page_*.json")):
        pool.extend(json.loads(path.read_bytes())["results"][::40])
    return {k: v for k, v in real.items() if k != "results"}, pool


ENVELOPE, RESULTS = _sedia_pool()
SEDIA_PAGE = _read(SAMPLES / "eu_ft" / "sedia_search_page_real.json")
LISTING_FULL = _read(SAMPLES / "euro_access" / "calls_list_2025-10.html")
DETAILS = [_read(SAMPLES / "euro_access" / "call_detail_135_2025-10.html"),
           (FIXTURES / "euro_access" / "call_detail_2374.html").read_bytes()]
FEED = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_bytes()
ICS = (FIXTURES / "ical" / "interreg_no_calendar.ics").read_bytes()


def _listing_excerpt(html: bytes, rows: int = 8) -> bytes:
    """The real listing cut to its heading and first rows (the full page takes 0.3 s to parse)."""
    start = html.index(b"<h3>", html.index(b"<div class=\"noindex\">"))
    end = start
    for _ in range(rows):
        end = html.index(b"</tr>", end + 1)
    return (b"<!DOCTYPE html><html><head><title>Calls</title></head><body>" + html[start:end + 5]
            + b"</tbody></table></div></body></html>")


LISTING = _listing_excerpt(LISTING_FULL)


# --- what comes out must be usable --------------------------------------------------------------

def _sane_time(value: datetime | None) -> None:
    if value is not None:
        assert value.tzinfo is not None
        value.astimezone(UTC)  # representable in UTC


def _sane_number(value: float | int | None) -> None:
    assert value is None or (isinstance(value, (int, float)) and math.isfinite(value)), value


def check_records(records: list[CallRecord]) -> None:
    for record in records:
        assert record.external_id and isinstance(record.external_id, str)
        assert record.title and isinstance(record.title, str) and isinstance(record.text, str)
        assert record.status in STATUSES
        _sane_time(record.opening_date)
        for deadline in record.deadlines:
            _sane_time(deadline.at)
        for number in (record.budget, record.expected_grants, record.min_contribution,
                       record.max_contribution, record.funding_rate):
            _sane_number(number)
        record.content_hash()  # what the store compares; must serialise


def check_sedia(body: bytes | str) -> None:
    def run() -> SediaPage:
        return parse_page(load_page(body, source="eu_ft", page="page 3 of 8 (Horizon Europe)"),
                          source="eu_ft", page="page 3 of 8 (Horizon Europe)")

    outcome = own_errors_only(ParseError, run)
    if isinstance(outcome, ParseError):
        assert outcome.source == "eu_ft" and "page 3 of 8" in str(outcome)
    else:
        check_records(outcome.records)
        assert all("\n" not in reason for reason in outcome.skipped)


# --- SEDIA ---------------------------------------------------------------------------------------

@SETTINGS
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_sedia_arbitrary_bytes(body: bytes) -> None:
    check_sedia(body)


@SETTINGS
@given(GARBAGE)
def test_sedia_arbitrary_json(document: Any) -> None:
    check_sedia(json.dumps(document))


@SETTINGS
@given(st.lists(st.sampled_from(RESULTS), min_size=1, max_size=3).flatmap(
    lambda results: mutated_json({**ENVELOPE, "results": results}, max_mutations=5)))
def test_sedia_mutated_real_results(page: Any) -> None:
    check_sedia(json.dumps(page))


def _with_numbers(draw: Any, node: Any) -> Any:
    """``node`` with each number (and numeric string) replaced, at random, by a hostile one."""
    if isinstance(node, dict):
        return {k: _with_numbers(draw, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_numbers(draw, v) for v in node]
    numeric = isinstance(node, (int, float)) and not isinstance(node, bool) or \
        isinstance(node, str) and node.strip().lstrip("-").replace(".", "", 1).isdigit()
    return draw(NUMBERS | NUMBER_TEXT) if numeric and draw(st.booleans()) else node


@st.composite
def hostile_budgets(draw: Any) -> dict[str, Any]:
    """A real result whose budget overview and actions (JSON in strings) carry hostile numbers:
    infinities, NaN, "1e999", 2**80, negatives, empty strings."""
    result = json.loads(json.dumps(draw(st.sampled_from(BUDGETED))))
    for key in ("budgetOverview", "actions"):
        text = (result["metadata"].get(key) or [""])[0]
        try:
            inner = json.loads(text)
        except ValueError:
            continue
        result["metadata"][key] = [json.dumps(_with_numbers(draw, inner))]
    return {**ENVELOPE, "results": [result]}


BUDGETED = [r for r in RESULTS if "budgetOverview" in (r.get("metadata") or {})]


@SETTINGS
@given(hostile_budgets())
def test_sedia_hostile_budget_numbers(page: dict[str, Any]) -> None:
    check_sedia(json.dumps(page))


@SETTINGS
@given(mutated_bytes(SEDIA_PAGE))
def test_sedia_mutated_real_page_bytes(body: bytes) -> None:
    check_sedia(body)


@SETTINGS
@given(st.integers(0, len(SEDIA_PAGE) - 1))
def test_sedia_truncated_page_names_source_and_page(offset: int) -> None:
    with pytest.raises(ParseError) as info:
        load_page(SEDIA_PAGE[:offset], source="eu_ft", page="page 5 of 8 (all programmes)")
    assert str(info.value).startswith("source 'eu_ft': page 5 of 8 (all programmes) is not valid JSON (")
    assert "\n" not in str(info.value)


@SETTINGS
@given(NESTED)
def test_sedia_deeply_nested(text: str) -> None:
    check_sedia(text)
    # the same nesting inside a field that holds JSON in a string
    result = json.loads(json.dumps(RESULTS[0]))
    result["metadata"]["actions"] = [text]
    result["metadata"]["budgetOverview"] = [text]
    result["metadata"]["descriptionByte"] = [text[:3000].replace("[", "<div>").replace("{", "<ul><li>")]
    check_sedia(json.dumps({**ENVELOPE, "results": [result]}))


# --- euro-access ---------------------------------------------------------------------------------

def check_listing(html: str) -> None:
    outcome = own_errors_only(SourceError, lambda: parse_listing(html, BASE_URL, source="euro_access"))
    if isinstance(outcome, ListingPage):
        for row in outcome.rows:
            assert row.external_id and isinstance(row.url, str)
            _sane_time(row.deadline)
    else:
        assert outcome.source == "euro_access"


def check_detail(html: str) -> None:
    outcome = own_errors_only(SourceError, lambda: parse_detail(html, source="euro_access",
                                                                url=BASE_URL + "/135/x"))
    if isinstance(outcome, CallDetail):
        _sane_time(outcome.opening)
        for at, assumed in outcome.deadlines:
            _sane_time(at)
            assert isinstance(assumed, bool)
        for number in (outcome.budget, outcome.min_contribution, outcome.max_contribution,
                       outcome.funding_rate):
            _sane_number(number)


@SETTINGS
@given(st.text(max_size=3000) | st.binary(max_size=3000).map(decode))
def test_euro_access_arbitrary_text(text: str) -> None:
    check_listing(text)
    check_detail(text)


@SETTINGS
@given(mutated_html(LISTING))
def test_euro_access_mutated_listing(html: bytes) -> None:
    check_listing(decode(html))


@SETTINGS
@given(st.sampled_from(DETAILS).flatmap(mutated_html))
def test_euro_access_mutated_call_page(html: bytes) -> None:
    check_detail(decode(html))


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 5))
@given(HUGE | NESTED)
def test_euro_access_huge_and_nested(text: str) -> None:
    wrapped = ('<div id="calldata"><div class="subtable"><div class="tr"><p class="title">Call budget</p>'
               f"<p>{text}</p></div></div></div>")
    check_detail(wrapped)
    check_listing(f'<table id="calls-overview"><tbody><tr><td>{text}</td><td><a href="/en/calls/1/x">{text}'
                  f"</a></td><td>{text}</td></tr></tbody></table>")


# --- feeds ---------------------------------------------------------------------------------------

def check_feed(content: bytes | str) -> None:
    outcome = own_errors_only(SourceError, lambda: parse_feed(content, source="bsr_news", phrases=PHRASES,
                                                               programme="Interreg Baltic Sea Region"))
    if isinstance(outcome, tuple):
        records, warning = outcome
        check_records(records)
        assert warning is None or "\n" not in warning


@FEW
@given(st.binary(max_size=2000) | st.text(max_size=2000))
def test_feed_arbitrary_input(content: bytes | str) -> None:
    check_feed(content)


@FEW
@given(mutated_html(FEED))
def test_feed_mutated_real_feed(content: bytes) -> None:
    check_feed(content)


_PUB_DATE = re.compile(rb"<pubDate>[^<]*</pubDate>")
_DESCRIPTION = re.compile(rb"<description><!\[CDATA\[")
HOSTILE_DATES = st.one_of(CET_DATES, SEDIA_MOMENTS, EXTREME_MOMENTS, st.sampled_from([
    "Frist: 0001-01-01", "deadline 31 December 9999, 23:59", "0000-00-00", "9999-99-99T99:99:99Z",
    "until 1 January 1 00:00 UTC+14",
    "Mon, 01 Jan 0000 00:00:00 +0000", "Sat, 31 Dec 9999 23:59:59 -1400", "Thu, 30 Feb 2025 10:00:00 GMT",
    "deadline 123456789 days", "opens in 99999999 weeks", "bis 31. Dezember 9999, 23:59 Uhr"]))


@st.composite
def feed_with_hostile_dates(draw: Any) -> bytes:
    """The real feed with publication dates and dates in the item text replaced by hostile ones."""
    data = _PUB_DATE.sub(lambda m: b"<pubDate>" + draw(HOSTILE_DATES).encode() + b"</pubDate>", FEED)
    return _DESCRIPTION.sub(
        lambda m: m.group(0) + b"Call for proposals, deadline " + draw(HOSTILE_DATES).encode() + b". ", data)


@FEW
@given(feed_with_hostile_dates())
def test_feed_hostile_dates(content: bytes) -> None:
    check_feed(content)


# --- iCalendar -----------------------------------------------------------------------------------

_ICAL_VALUES = st.sampled_from([
    "DTSTART:00010101T000000", "DTEND;VALUE=DATE:00010101", "DTEND:99991231T235959Z",
    "DTSTART;TZID=Pacific/Kiritimati:00010101T000000", "DTEND;TZID=Nowhere/Land:20260101T120000",
    "DTSTART:20260101T120000\r\nDTSTART:20260102T120000", "DTEND;VALUE=PERIOD:20260101T120000Z/PT1H",
    "DTEND;VALUE=DURATION:PT1H", "SEQUENCE:many", "SEQUENCE:99999999999999999999999", "SEQUENCE:-1",
    "UID:", "UID:a\r\nUID:b", "SUMMARY:: ", "SUMMARY:Interreg Aurora:", "CATEGORIES:", "URL:http://[",
    "DTSTART:2026-01-01", "DTEND:20261301T000000", "DESCRIPTION:" + "x" * 70, "BEGIN:VEVENT", "END:VEVENT",
    "END:VCALENDAR", "BEGIN:VTIMEZONE", "RRULE:FREQ=DAILY;COUNT=99999999", "EXDATE:garbage",
])


@st.composite
def mutated_calendar(draw: Any) -> bytes:
    """The real export with property lines replaced, added or dropped, then byte-level mutations."""
    lines = ICS.decode("utf-8").split("\r\n") if b"\r\n" in ICS else ICS.decode("utf-8").split("\n")
    for _ in range(draw(st.integers(1, 5))):
        index = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            lines[index] = draw(_ICAL_VALUES)
        elif op == 1:
            lines.insert(index, draw(_ICAL_VALUES))
        elif op == 2:
            del lines[index]
        else:
            name = lines[index].split(":", 1)[0]
            lines[index] = f"{name}:{draw(st.text(max_size=30))}"
    data = "\r\n".join(lines).encode("utf-8")
    return draw(mutated_bytes(data, max_mutations=1)) if draw(st.booleans()) else data


def check_calendar(content: bytes | str) -> None:
    outcome = own_errors_only(SourceError, lambda: parse_calendar(content, source="interreg_no", now=NOW))
    if isinstance(outcome, list):
        check_records(outcome)


@SETTINGS
@given(st.binary(max_size=2000) | st.text(max_size=2000))
def test_ical_arbitrary_input(content: bytes | str) -> None:
    check_calendar(content)


@SETTINGS
@given(mutated_calendar())
def test_ical_mutated_real_export(content: bytes) -> None:
    check_calendar(content)
    check_calendar(decode(content))  # as the adapter passes it: decoded text


def test_ical_unreadable_event_is_left_out_and_the_run_incomplete(server, engine) -> None:
    """What the properties found, pinned: a DTEND before year 1 (all-day, exclusive) or given twice
    cannot be read; the event is left out, the others kept, and the run is not complete, so the event
    is not marked removed."""
    broken = ICS.replace(b"DTEND;VALUE=DATE:20261016", b"DTEND;VALUE=DATE:00010101", 1).replace(
        b"DTEND;TZID=Europe/Oslo:20240606T120000",
        b"DTEND;TZID=Europe/Oslo:20240606T120000\r\nDTEND;TZID=Europe/Oslo:20240607T120000", 1)
    skipped: list[str] = []
    records = parse_calendar(broken, source="interreg_no", now=NOW, skipped=skipped)
    assert [r.external_id for r in records] == ["21544-1768208400-1776383940@interreg.no",
                                                "21601-1770026400-1777986000@interreg.no"]
    assert skipped == ["event 18098-1710921600-1717675200@interreg.no: DTEND appears 2 times",
                       "event 21633-1789430400-1792108799@interreg.no: DTEND 0001-01-01 is outside the "
                       "dates fundradar can store"]
    server.route("GET", "/cal.ics", lambda request: Reply(200, broken, {"Content-Type": "text/calendar"}))
    with make_client(retries=0) as client:
        result = run_source(engine, IcalAdapter("interreg_no", IcalSource(type="ical", url=server.url(
            "/cal.ics"))), client, NOW)
    assert (result.outcome, result.complete, result.seen) == ("ok", False, 2)
    assert result.error == ("2 event(s) could not be read (first: event "
                            "18098-1710921600-1717675200@interreg.no: DTEND appears 2 times)")

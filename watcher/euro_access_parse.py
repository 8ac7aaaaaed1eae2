"""Parsing euro-access.eu pages (pure: HTML text in, data out).

The call listing (``/en/calls``) is ``table#calls-overview``: one row per call with the funding
programme (``td.title``), the call title linking to ``/en/calls/<id>/<slug>`` and the deadline
"DD.MM.YYYY HH:MM" in Central European time. The recorded listing (October 2025) shows all 142 calls
on one page ("142 Calls found") without pagination; should the site paginate, the next page is the
``rel="next"`` link or a ``.pagination`` link labelled next/»/›, which :func:`parse_listing` returns.

A call page has ``div#calldata`` with ``div.subtable`` sections of ``div.tr`` label/value rows
(``p.title`` is the label). Rows a page does not have stay ``None``: unknown, not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from pipeline.core.clock import BRUSSELS, UTC
from pipeline.core.errors import ParseError
from pipeline.core.text import shorten
from watcher.amounts import find_amounts
from watcher.dates import ASSUMED_TIME
from watcher.html_text import clean_inline
from watcher.urls import clean_url, document_base, next_page_href

_CALL_PATH = re.compile(r"/calls/(\d+)(?:/|$)")
# a time after the date however written ("16:00", ", 16:00", "- 16.00", "kl. 16:00", "at 16:00"), not a
# second date ("20.11.2025 12.03.2026")
_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"
                   r"(?:,?\s*(?:[-–]|kl\.?|at|um)?\s*(\d{1,2})[:.](\d{2})(?![\d]|\.\d))?", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,.\s]*")
# a figure written with a minus ("€ -500,000.00", "-€ 40,000,000"): no budget, and read without its
# sign it was one; a range ("€ 200,000 - € 3,000,000") has its dash after the first figure
_NEGATIVE = re.compile(r"\s*(?:(?:€|EUR)\s*)?[-−–]\s*(?:(?:€|EUR)\s*)?\d", re.IGNORECASE)


def call_id_of(url: str) -> str | None:
    """The numeric call id of a euro-access call URL ("…/en/calls/2374/slug" -> "2374")."""
    match = _CALL_PATH.search(urlsplit(url).path)
    return match.group(1) if match else None


def unreadable_date(text: str) -> bool:
    """``text`` is written as "DD.MM.YYYY" but is no date :func:`parse_cet` can read ("31.02.2026")."""
    return _DATE.search(text or "") is not None and parse_cet(text) is None


def parse_cet(text: str, *, opening: bool = False) -> tuple[datetime, bool] | None:
    """"DD.MM.YYYY[ HH:MM]" in Central European time -> (aware UTC, time_was_missing). A day without
    its time is a deadline at 17:00 (:data:`watcher.dates.ASSUMED_TIME`), as every source reads one,
    and an opening at its start: read as midnight, a deadline closed its call for the whole last day."""
    match = _DATE.search(text or "")
    return _cet(match, opening=opening) if match else None


def parse_cet_all(text: str, *, opening: bool = False) -> list[tuple[datetime, bool]]:
    """Every date :func:`parse_cet` can read in ``text``, in order: a field may give two stages
    ("20.11.2025 16:00 / 12.03.2026 16:00"), and read as its first date the call closed after it."""
    found = (_cet(match, opening=opening) for match in _DATE.finditer(text or ""))
    return [value for value in found if value is not None]


def _cet(match: re.Match[str], *, opening: bool = False) -> tuple[datetime, bool] | None:
    day, month, year, hour, minute = match.groups()
    if hour is None and not opening:
        hour, minute = str(ASSUMED_TIME.hour), str(ASSUMED_TIME.minute)
        assumed = True
    else:
        assumed = hour is None
    # 24:00 is the end of the day, midnight after it (the next day's date may be the next year's)
    end_of_day = hour is not None and int(hour) == 24 and int(minute) == 0
    try:
        local = datetime(int(year), int(month), int(day), 0 if end_of_day else int(hour or 0),
                         int(minute or 0), tzinfo=BRUSSELS)
        if end_of_day:
            local = datetime.combine(local.date() + timedelta(days=1), local.timetz())
        return local.astimezone(UTC), assumed
    except (ValueError, OverflowError):  # no such day, or outside the years a datetime can hold
        return None


def parse_money(text: str | None) -> float | None:
    """"€ 40,000,000.00" -> 40000000.0 (English number format as on the /en pages); a figure with a
    scale word or another currency ("€ 2.5 million", "DKK 74,603,800") in euros, as
    :func:`watcher.amounts.find_amounts` reads it: digits alone made "€ 40 million" 40 euros. A
    negative figure and a percentage ("up to 60 %") are no amount: None."""
    if not text or _NEGATIVE.match(text):
        return None
    amounts = find_amounts(text)
    if amounts:
        return amounts[0].eur
    match = next((m for m in _NUMBER.finditer(text) if not text[m.end():].startswith("%")), None)
    if not match:
        return None
    digits = re.sub(r"[\s,]", "", match.group(0)).rstrip(".")
    try:
        return float(digits)
    except ValueError:
        return None


def parse_rate(text: str | None) -> float | None:
    """"65 %" -> 0.65; "up to 80%" -> 0.8."""
    match = re.search(r"(\d+(?:[.,]\d+)?)\s*%", text or "")
    return float(match.group(1).replace(",", ".")) / 100 if match else None


@dataclass(frozen=True)
class ListingRow:
    programme: str
    title: str
    url: str  # without tracking parameters
    external_id: str  # the call id in the URL path, e.g. "2374"
    deadline: datetime | None  # aware UTC, the first the row gives
    # the deadline cell's text when it is written as a date but is no day of the calendar
    # ("31.02.2026"): the row gives a deadline that cannot be read, not "no deadline"
    unreadable_deadline: str | None = None
    deadlines: tuple[datetime, ...] = ()  # every deadline the row gives (two stages in one cell)
    deadlines_assumed: tuple[bool, ...] = ()  # for each of them, whether its time was assumed


@dataclass(frozen=True)
class ListingPage:
    rows: list[ListingRow]
    next_url: str | None
    total_text: str | None = None  # e.g. "142 Calls found"
    # rows left out, each named: a link that is no URL ("http://[") tells no call, and one such row is
    # no reason to lose the page's others
    skipped: list[str] = field(default_factory=list)


def _text(node: Tag | None) -> str:
    return clean_inline(node.get_text(" ", strip=True)) if node is not None else ""


def _link(base_url: str, href: str, *, source: str, what: str, against: str | None = None) -> str:
    """``href`` made absolute (against ``against``, the page's base, else ``base_url``, the page's
    address) and tracking-free; ParseError when it is not a URL (e.g. "http://[")."""
    try:
        return clean_url(urljoin(against or base_url, href))
    except ValueError:
        raise ParseError(source, f"{what} in {base_url} links to {shorten(href)!r}, which is not a "
                                 "valid URL; the site layout may have changed, check the page in a browser") \
            from None


def _next_link(soup: BeautifulSoup, base_url: str, source: str) -> str | None:
    href = next_page_href(soup)
    if href is None:
        return None
    return _link(base_url, href, source=source, what="the next-page link",
                 against=document_base(soup, base_url))


def parse_listing(html: str, base_url: str, *, source: str = "euro_access") -> ListingPage:
    """The rows of one listing page and the next page's URL, if any."""
    soup = BeautifulSoup(html, "lxml")
    table = soup.select_one("table#calls-overview")
    if table is None:
        raise ParseError(source, f"no table#calls-overview in the page from {base_url}; the site layout "
                                 "may have changed, check the page in a browser")
    rows, skipped = [], []
    links = document_base(soup, base_url)
    for number, tr in enumerate(table.select("tbody tr"), start=1):
        cells = tr.find_all("td", recursive=False)
        anchor = tr.select_one("td a[href]")
        if len(cells) < 3 or anchor is None:
            continue
        try:
            url = _link(base_url, str(anchor["href"]), source=source, what=f"row {number} of the listing",
                        against=links)
        except ParseError as exc:
            skipped.append(str(exc).removeprefix(f"source {source!r}: ").split("; ")[0])
            continue
        external_id = call_id_of(url) or url
        title = _text(anchor) or str(anchor.get("title") or "")
        cell = _text(cells[2])
        parsed = parse_cet_all(cell)
        rows.append(ListingRow(programme=_text(cells[0]), title=title, url=url, external_id=external_id,
                               deadline=parsed[0][0] if parsed else None,
                               unreadable_deadline=shorten(cell) if unreadable_date(cell) else None,
                               deadlines=tuple(at for at, _ in parsed),
                               deadlines_assumed=tuple(assumed for _, assumed in parsed)))
    heading = table.find_previous(["h3", "h2"])
    total = _text(heading) if heading is not None and "found" in _text(heading).lower() else None
    return ListingPage(rows=rows, next_url=_next_link(soup, base_url, source), total_text=total,
                       skipped=skipped)


@dataclass
class CallDetail:
    title: str | None = None
    programme: str | None = None
    call_number: str | None = None
    opening: datetime | None = None
    deadlines: list[tuple[datetime, bool]] = field(default_factory=list)  # (aware UTC, time assumed)
    funding_rate: float | None = None
    budget: float | None = None
    min_contribution: float | None = None
    max_contribution: float | None = None
    contribution_text: str | None = None
    links: dict[str, str] = field(default_factory=dict)  # row label -> URL
    eligibility: dict[str, str] = field(default_factory=dict)  # row label -> text
    text: str = ""  # short description and objectives
    extra: dict[str, Any] = field(default_factory=dict)  # every other row, label -> text


_TEXT_LABELS = ("short description", "call objectives", "expected results", "description")


def _label(row: Tag) -> str:
    return _text(row.select_one("p.title")).rstrip(":").strip()


def _value_nodes(row: Tag) -> list[Tag]:
    title = row.select_one("p.title")
    return [child for child in row.find_all(recursive=False) if child is not title]


def _contribution(text: str) -> tuple[float | None, float | None]:
    amounts = [parse_money(part) for part in re.split(r"\s+(?:-|–|to|bis)\s+", text)]
    amounts = [a for a in amounts if a is not None]
    if len(amounts) >= 2:
        return min(amounts), max(amounts)
    if len(amounts) == 1:  # a single figure is the most a project may get
        return None, amounts[0]
    return None, None


def parse_detail(html: str, *, source: str = "euro_access", url: str = "") -> CallDetail:
    """The label/value rows of a call page's ``div#calldata``."""
    soup = BeautifulSoup(html, "lxml")
    data = soup.select_one("div#calldata")
    if data is None:
        raise ParseError(source, f"no div#calldata in the call page {url}; the site layout may have "
                                 "changed, check the page in a browser")
    for widget in data.select("p.readmore"):  # the "read more" toggle is not part of the text
        widget.decompose()
    detail = CallDetail(title=_text(data.select_one("h1")) or None)
    texts: list[str] = []
    for section in data.select("div.subtable"):
        heading = _text(section.select_one("h4")).lower()
        for row in section.select("div.tr"):
            label = _label(row)
            key = label.lower()
            values = _value_nodes(row)
            value = " ".join(_text(v) for v in values).strip()
            if key == "deadlines" or "deadline" in (row.get("class") or []):
                for part in values:
                    part_text = _text(part)
                    for written in _DATE.finditer(part_text):
                        if _cet(written) is None:
                            # one deadline left out would read as the call's only (or last) one
                            raise ParseError(source, f"the call page {url} gives the deadline "
                                                     f"{shorten(written.group(0))!r}, which is not a date; "
                                                     "the page is read again on the next run")
                    is_opening = part_text.lower().startswith("opening")
                    parsed = parse_cet_all(part_text, opening=is_opening)
                    if not parsed:
                        continue
                    if is_opening:
                        detail.opening = parsed[0][0]
                    else:
                        detail.deadlines.extend(parsed)
            elif key in ("funding program", "funding programme"):
                detail.programme = value or None
            elif key == "call number":
                detail.call_number = value or None
            elif key == "funding rate":
                detail.funding_rate = parse_rate(value)
                detail.extra[label] = value
            elif key in ("call budget", "budget"):
                detail.budget = parse_money(value)
                detail.extra[label] = value
            elif key.startswith("contribution per project"):
                detail.min_contribution, detail.max_contribution = _contribution(value)
                detail.contribution_text = value or None
            elif key.startswith("link"):
                anchor = row.select_one("a[href]")
                if anchor is not None and str(anchor["href"]).startswith("http"):
                    detail.links[label] = str(anchor["href"])
            elif heading.startswith("eligibility"):
                detail.eligibility[label] = value
            elif key in _TEXT_LABELS:
                if value:
                    texts.append(value)
            elif label:
                detail.extra[label] = value
    detail.text = "\n\n".join(texts)
    return detail

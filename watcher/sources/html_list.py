"""Source type ``html_list``: a funder's page that lists its calls, read with CSS selectors.

Most Danish and Nordic funders (Innovationsfonden, EUDP, MUDP, GUDP, Nordic Innovation, Danmarks
Erhvervsfremmebestyrelse, Interreg programme sites, the ECCP) have no feed or API, only a list page.
The config names, as CSS selectors (BeautifulSoup's ``select``):

* ``item``: one call in the list; ``title`` and ``link`` inside it (``link``'s ``href`` is the call's
  URL and, without tracking parameters, its external id; an item without a link uses its title);
* ``text``: the element(s) of the item holding its dates and amounts (default: the whole item).

Dates are read by :func:`watcher.dates.call_dates` in the page's ``language`` (dateparser), then the
other Nordic languages and English; amounts by :mod:`watcher.amounts` (DKK, EUR, NOK, SEK, converted
to EUR: a pool is the budget, the largest other amount the maximum per project). With ``detail: true``
each call's own page is fetched too, **on the listing's host only** (a link elsewhere is read from the
list alone), its text is ``detail_text``'s element or else the page's main text (trafilatura), and its
dates and amounts count with the item's. A failing detail page makes the run incomplete, so nothing is
closed on a partial read (as does a listing cut off before ``</html>``, whose last item is kept as
stored); its item is stored from the list when new, and a stored call is left as it
is (``FetchResult.partial``). So is an item past ``max_details`` detail pages in a run: read from the
list alone, its stored text, budget and opening would otherwise be erased (and written back when the
list shrinks again, a change alert each time).

Change detection is the store's, as for every source: each record's content hash is compared with the
stored call's; the list is the funder's whole list, so an item that disappears after a complete run is
closed or removed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.core.errors import FetchError, ParseError, SourceError
from watcher.amounts import budget_and_maximum
from watcher.dates import LANGUAGES, call_dates
from watcher.encoding import decode_text
from watcher.html_text import clean_inline, cut_off_html
from watcher.http import fetch_text, fetch_typed
from watcher.records import CallRecord, Deadline
from watcher.replay import RecordingError, read_recorded
from watcher.sources import BuildContext, FetchResult, register
from watcher.urls import (
    clean_url,
    document_base,
    goes_nowhere,
    is_page_type,
    links_to_document,
    next_page_href,
)

MAX_TEXT = 20_000
# Items read of one listing: a funder lists tens of calls, and each item costs its dates' search (up to
# a second for an item of nothing but dates), so a hostile page of 100,000 items held its run for
# hours; past this many the listing is read in part and the run is incomplete (nothing is closed).
MAX_ITEMS = 1_000
_LANGUAGE_CODES = {"no": "nb", "nn": "nb"}  # dateparser's code for Norwegian


def languages_for(language: str) -> tuple[str, ...]:
    """The page's language first, then the other languages fundradar reads dates in."""
    first = _LANGUAGE_CODES.get(language, language)
    return (first, *(code for code in LANGUAGES if code != first))


def _text(node: Any) -> str:
    return clean_inline(node.get_text(" ")) if node is not None else ""


def status_of(opening: datetime | None, deadlines: tuple[Deadline, ...], now: datetime) -> str:
    """closed after the last deadline, forthcoming before the opening, open with a deadline ahead, else
    announced (pure)."""
    last = max((d.at for d in deadlines), default=None)
    if last is not None and last < now:
        return "closed"
    if opening is not None and opening > now:
        return "forthcoming"
    return "open" if last is not None else "announced"


def _clean_or_none(url: str) -> str | None:
    try:
        return clean_url(url)
    except ValueError:
        return None


def parse_listing(html: str, *, base_url: str, cfg: Any, source: str,
                  skipped: list[str] | None = None) -> list[dict[str, Any]]:
    """The items of a listing page as {title, url, text} (pure). ParseError when the item selector
    finds nothing: the page has moved or changed its markup. An item whose link is no URL
    ("http://[") or that links to a page but has no title is left out and named in ``skipped`` (when
    given): its call cannot be told, or stored."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    links_base = document_base(soup, base_url)
    nodes = soup.select(cfg.item)  # the selectors were compiled when the config was validated
    if not nodes:
        raise ParseError(source, f"no item matches {cfg.item!r} in {base_url}; the page may have moved "
                                 "or changed its markup, check the selectors in the source config")
    items = []
    for node in nodes:
        title = _text(node.select_one(cfg.title)) if cfg.title else ""
        anchor = node.select_one(cfg.link) if cfg.link else None
        href = anchor.get("href") if anchor is not None else None
        parts = [_text(n) for n in node.select(cfg.text)] if cfg.text else [_text(node)]
        title = title or (_text(anchor) if anchor is not None else "")
        if href is not None and goes_nowhere(str(href)):
            href = None  # the item is told by its title, as one without a link
        try:
            url = clean_url(urljoin(links_base, str(href))) if href else None
        except ValueError:
            if skipped is not None and title:
                skipped.append(f"{title[:80]!r} links to {' '.join(str(href).split())[:80]!r}, which is "
                               "not a URL")
            continue
        if title:
            items.append({"title": title, "url": url, "text": " ".join(p for p in parts if p)})
        elif url is not None and skipped is not None:
            # a call page still listed, its title lost (rendered by a script, an image link): counted
            # as absent it would be removed after two such answers
            skipped.append(f"the item linking to {url[:120]} has no title")
    return items


def record_of(item: dict[str, Any], detail: str, cfg: Any, now: datetime) -> CallRecord:
    """A listing item (and its detail page's text) as a call record (pure)."""
    text = " ".join(p for p in (item["text"], detail) if p)[:MAX_TEXT]
    dates = call_dates(f"{item['title']}. {text}", languages_for(cfg.language))
    deadlines = tuple(Deadline(d.at, d.time_assumed) for d in dates.deadlines)
    budget, maximum = budget_and_maximum(text)
    return CallRecord(
        external_id=item["url"] or item["title"], title=item["title"], text=text, url=item["url"],
        status=status_of(dates.opening, deadlines, now), programme=cfg.programme,
        opening_date=dates.opening, deadlines=deadlines, budget=budget, max_contribution=maximum,
        type_of_action=cfg.type_of_action, extra={"listing": cfg.url, "language": cfg.language})


class HtmlListAdapter:
    type = "html_list"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url

    def _detail(self, client: httpx.Client, url: str, listed: Collection[str]) -> str:
        html, final, kind = fetch_typed(client, url, source=self.name, timeout=self.cfg.timeout_seconds,
                                        hosts=[urlsplit(self.url).hostname or ""])
        if not is_page_type(kind):
            # the call published as a PDF or an office file: no page to read, the list tells the call
            # (read as a page it had "no </html>", a failure on every run, and nothing was ever closed)
            return ""
        if cut_off_html(html):  # read as the call's page, its missing end took the call's dates or text
            raise FetchError(self.name, f"{url} ends before </html> (cut off?)")
        # a page taken down is often redirected to the overview (or to another call): read as this
        # call's page, its text gave the call every date and amount of the list, or another call's
        landed = _clean_or_none(final)
        if landed != clean_url(url) and (landed == clean_url(self.url) or landed in listed):
            what = "the listing" if landed == clean_url(self.url) else "another listed call"
            raise FetchError(self.name, f"{url} redirects to {what} {final}, not to a call page")
        if self.cfg.detail_text:
            from bs4 import BeautifulSoup

            found = " ".join(_text(n) for n in BeautifulSoup(html, "lxml").select(self.cfg.detail_text))
            if found:
                return found
        from watcher.sources.page_watch import main_text

        return main_text(html, url, source=self.name).text

    def _pages(self, client: httpx.Client, unreadable: list[str]
               ) -> tuple[list[dict[str, Any]], list[str], list[tuple[str, int]]]:
        """The items of every page of the listing, following its pager (up to ``max_pages``, on the
        listing's host); the problems that leave the run incomplete (a page holding no item the pages
        before it did not, pages left unread); and each page cut off before ``</html>`` with the
        number of items read up to its end. A funder listing ten calls a page pushes one onto page 2
        with each new call: read as the whole list, page 1 made that call 'removed' two runs later."""
        from bs4 import BeautifulSoup

        items: list[dict[str, Any]] = []
        problems: list[str] = []
        cut_after: list[tuple[str, int]] = []
        url: str | None = self.url
        visited: set[str] = set()
        host = urlsplit(self.url).netloc.lower().removeprefix("www.")
        while url is not None and url not in visited:
            if len(visited) >= self.cfg.max_pages:
                problems.append(f"the listing {self.url} has more than max_pages={self.cfg.max_pages} pages; "
                                "raise max_pages to read them all, nothing closed")
                break
            if visited and urlsplit(url).netloc.lower().removeprefix("www.") != host:
                problems.append(f"the listing's next page {url} is on another host than the listing's; it "
                                "was not read, nothing closed")
                break
            try:
                html = fetch_text(client, url, source=self.name, timeout=self.cfg.timeout_seconds)
            except RecordingError as exc:
                if not visited:
                    raise
                # a recording of the first page only: the calls of the next pages were never read
                problems.append(f"listing page {len(visited) + 1} of {self.url} ({url}) "
                                f"{str(exc).removeprefix(f'source {self.name!r}: ')}; nothing closed")
                break
            if not visited:
                page = parse_listing(html, base_url=url, cfg=self.cfg, source=self.name, skipped=unreadable)
            else:
                try:
                    page = parse_listing(html, base_url=url, cfg=self.cfg, source=self.name,
                                         skipped=unreadable)
                except ParseError:
                    page = []  # a next page without items is a short answer, not a changed site
                known = {item["url"] or item["title"] for item in items}
                if not {item["url"] or item["title"] for item in page} - known:
                    problems.append(f"listing page {len(visited) + 1} of {self.url} ({url}) holds no call "
                                    f"the pages before it did not ({len(page)} items); the site did not page "
                                    "as asked, nothing closed")
            visited.add(url)
            items.extend(page)
            if cut_off_html(html):
                cut_after.append((url, len(items)))
            soup = BeautifulSoup(html, "lxml")
            href = next_page_href(soup)
            try:
                url = clean_url(urljoin(document_base(soup, url), href)) if href else None
            except ValueError:
                problems.append(f"the listing page {url} names a next page that is no URL "
                                f"({' '.join(href.split())[:80]!r}); it was not read, nothing closed")
                url = None
        return items, problems, cut_after

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        unreadable: list[str] = []
        items, paging, cut_after = self._pages(client, unreadable)
        listed = len(items)
        items = items[:MAX_ITEMS]
        host = urlsplit(self.url).netloc.lower().removeprefix("www.")
        failures: list[str] = []
        records, details = [], 0
        partial: set[str] = set()
        links = {item["url"] for item in items if item["url"]}
        for item in items:
            detail, failed = "", False
            # a call's PDF is no page to read: the list tells that call
            same_host = item["url"] and urlsplit(item["url"]).netloc.removeprefix("www.") == host \
                and not links_to_document(item["url"])
            if self.cfg.detail and same_host and details < self.cfg.max_details:
                details += 1
                try:
                    detail = self._detail(client, item["url"], links)
                except (SourceError, RecordingError) as exc:
                    failures.append(str(exc).removeprefix(f"source {self.name!r}: "))
                    failed = True
            elif self.cfg.detail and same_host:
                failed = True  # past max_details: read from the list alone this run, as a failed page
            record = record_of(item, detail, self.cfg, now)
            if failed:
                partial.add(record.external_id)
            records.append(record)
        problems = [f"{len(failures)} of {details} call pages could not be read, their calls are from "
                    f"the list only (first: {failures[0]})"] if failures else []
        if unreadable:
            problems.append(f"{len(unreadable)} listed item(s) left out (first: {unreadable[0]})")
        if listed > MAX_ITEMS:
            problems.append(f"the listing has {listed:,} items, only the first {MAX_ITEMS:,} were read")
        for url, count in cut_after:
            # the items after the cut were never sent, the last one read may be half: it is kept as
            # stored (a new one is stored as read), and nothing is closed
            last = records[count - 1] if 0 < count <= len(records) else None
            kept = f"its last item, {last.title[:80]!r}, is kept as stored and " if last else ""
            if last is not None:
                partial.add(last.external_id)
            problems.append(f"the listing {url} ends before </html> (cut off?): {kept}nothing is closed")
        problems.extend(paging)
        warning = "; ".join(problems) or None
        return FetchResult(records=records, complete=not problems, warning=warning,
                           extra={"listed": listed, "detail_pages": details}, partial=partial)

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        """Serve ``recording_dir/<source name>/list.html`` for the listing and ``<n>.html`` … for the
        detail pages in listing order; a detail page not recorded is "not in the recording"."""
        folder = recording_dir / self.name
        listing = folder / "list.html"
        if not listing.is_file():
            return None
        target = httpx.URL(self.url)
        # decoded as a live answer is (declaration, detection): a listing recorded in Latin-1 was read
        # as UTF-8 here, and its replay stopped
        items = parse_listing(decode_text(read_recorded(listing)), base_url=self.url, cfg=self.cfg,
                              source=self.name)
        pages = {httpx.URL(i["url"]).path: folder / f"{n}.html"
                 for n, i in enumerate((i for i in items if i["url"]), start=1)}
        html = {"content-type": "text/html; charset=utf-8"}

        def handle(request: httpx.Request) -> httpx.Response | None:
            if request.url.host != target.host:
                return None
            if request.url.path == target.path and request.url.query == target.query:
                return httpx.Response(200, content=read_recorded(listing), headers=html)
            page = pages.get(request.url.path)
            if page is not None and page.is_file():
                return httpx.Response(200, content=read_recorded(page), headers=html)
            raise RecordingError(f"{request.url} is not in the recording {folder}")

        return handle


@register("html_list")
def build(name: str, cfg: Any, context: BuildContext) -> HtmlListAdapter:
    return HtmlListAdapter(name, cfg, context)

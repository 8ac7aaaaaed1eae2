"""Source type ``page_watch``: funders' pages watched for a phrase, used for BSR Innovation Express.

Each run fetches every page of the config, extracts its main text with trafilatura (navigation,
menus, footers and sidebars are dropped, so a menu link "Innovation Express" does not count), and
compares the text's SHA-256 with the one kept in ``watched_page``. The fetch only reads that table: it
returns the page states in its :class:`~watcher.sources.FetchResult` and the store writes them with
the records, so a killed fetch changes no page state. A page whose main text mentions the watched
phrase together with a call, a date or a deadline yields a call record for that page (external id =
the page URL without tracking parameters) with the dates found in the text. Every run yields the
record again, so the store refreshes it. A page that stops mentioning the call leaves its call out of
the run's records; the store removes a call only when a second complete run lacks it too
(:mod:`watcher.store`, "confirmation"), since a maintenance notice, a cookie wall or a soft 404 served
with 200 for one run looks just like a page that dropped the call.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.core.call_phrases import PAGE_CALL_WORDS, first_phrase
from pipeline.core.errors import ParseError, SourceError
from watcher.dates import call_dates, names_call_date
from watcher.html_text import clean_inline, cut_off_html
from watcher.http import fetch_typed
from watcher.records import CallRecord, Deadline, PageState
from watcher.replay import read_recorded
from watcher.sources import BuildContext, FetchResult, register
from watcher.store import watched_pages
from watcher.stored_links import ahead_ids
from watcher.urls import clean_url, is_page_type

log = logging.getLogger(__name__)
MAX_TEXT = 20_000
# words (en/da/sv/no/de) that make a mention of the phrase a call rather than a passing reference;
# the config's call_phrases replace them
CALL_WORDS: tuple[str, ...] = tuple(PAGE_CALL_WORDS)


@dataclass(frozen=True)
class PageText:
    url: str
    title: str | None
    text: str
    content_hash: str


def _tree(html: str) -> Any:
    """The page parsed as trafilatura parses it, but to 2,048 levels of nesting rather than libxml2's
    256: a list pasted from a word processor opens a <span> on every line and closes none, and past
    the 255th the parser dropped the rest of the page, its deadline with it. The page as it is when
    it cannot be parsed so (a str declaring its own encoding), for trafilatura to parse."""
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(collect_ids=False, default_doctype=False, remove_comments=True,
                                  remove_pis=True, huge_tree=True)
    try:
        tree = lxml_html.fromstring(html, parser=parser)
    except (ValueError, etree.LxmlError):
        return html
    return tree if tree is not None and len(tree) else html


def main_text(html: str, url: str, *, source: str) -> PageText:
    """The page's main text (trafilatura) and its content hash. ParseError if there is none."""
    try:
        import trafilatura
    except ImportError:  # lxml >= 5.2 ships lxml.html.clean, which trafilatura needs, separately
        raise SourceError(source, "cannot extract page text: the package lxml_html_clean is not installed; "
                                  "install it with pip install lxml_html_clean") from None

    text = trafilatura.extract(_tree(html), url=url, include_comments=False, include_tables=True,
                               favor_precision=True)
    if not text or not text.strip():
        raise ParseError(source, f"no readable main text in {url}; the page may need a browser or "
                                 "have moved")
    metadata = trafilatura.extract_metadata(html, default_url=url)
    lines = (clean_inline(line) for line in text.splitlines())
    normalised = "\n".join(line for line in lines if line and not is_time_stamp(line))
    title = _page_title(html, metadata.title if metadata is not None else None, normalised)
    digest = hashlib.sha256(normalised.encode("utf-8")).hexdigest()
    return PageText(url=url, title=title, text=normalised[:MAX_TEXT], content_hash=digest)


# a line that is only the page's own time ("Last updated: 2 December 2026 10:31", "Posted on … by
# admin", "Senest opdateret 4. december 2026"): a CMS writes it anew on every request, and kept it
# changed the page's hash and its call's text on every run
_TIME_STAMP = re.compile(
    r"(?:(?:last|page|senest|sidst|zuletzt|senast|sist|seneste?)\s+)?(?:updated|modified|posted|published|"
    r"opdateret|ændret|udgivet|publiceret|aktualisiert|geändert|veröffentlicht|uppdaterad|publicerad|"
    r"ändrad|oppdatert|publisert|endret)\b", re.IGNORECASE)
_MOMENT = re.compile(r"\d{4}|\d{1,2}[./-]\d{1,2}")


def is_time_stamp(line: str) -> bool:
    """``line`` is no more than the page's own time stamp: it names a moment, and no deadline or
    opening ("Updated deadline: 15 March 2027" is the call's)."""
    head = _TIME_STAMP.match(line)
    rest = line[head.end():] if head is not None else ""
    return head is not None and len(line) <= 80 and _MOMENT.search(rest) is not None \
        and not names_call_date(rest)


def _page_title(html: str, found: str | None, text: str) -> str | None:
    """trafilatura's title when the page's <title> or main text holds it, else the <title>: on a page
    without a heading or og:title trafilatura takes any element classed "…title", such as a sidebar
    widget's "Latest news"."""
    from lxml import html as lxml_html

    try:
        own = clean_inline(lxml_html.fromstring(html).findtext(".//title") or "")
    except (ValueError, TypeError, SyntaxError):  # lxml's ParserError is a SyntaxError: no document
        own = ""
    found = clean_inline(found or "")
    if found and (not own or found.casefold() in own.casefold() or found in text):
        return found
    return own or found or None


def mentions_call(text: str, phrase: str, call_words: tuple[str, ...] | list[str] = CALL_WORDS) -> bool:
    """The phrase appears in the text together with a call word (at the start of a word) or a full date."""
    if phrase.casefold() not in text.casefold():
        return False
    return first_phrase(text, tuple(call_words)) is not None or bool(call_dates(text).deadlines)


def record_for_page(page: PageText, phrase: str, programme: str | None, now: datetime,
                    call_words: tuple[str, ...] | list[str] = CALL_WORDS) -> CallRecord | None:
    """The call a watched page announces, or None when it does not mention one (pure)."""
    if not mentions_call(page.text, phrase, call_words):
        return None
    dates = call_dates(page.text)
    deadlines = tuple(Deadline(d.at, d.time_assumed) for d in dates.deadlines)
    last = max((d.at for d in deadlines), default=None)
    if last is not None and last < now:
        status = "closed"
    elif dates.opening is not None and dates.opening > now:
        status = "forthcoming"
    elif last is not None:
        status = "open"
    else:
        status = "announced"
    host = urlsplit(page.url).netloc.removeprefix("www.")
    title = page.title or f"{phrase} ({host})"
    return CallRecord(external_id=page.url, title=title, text=page.text, url=page.url, status=status,
                      programme=programme, opening_date=dates.opening, deadlines=deadlines,
                      type_of_action="IE" if "innovation express" in phrase.lower() else None,
                      extra={"watched_phrase": phrase, "page_hash": page.content_hash})


def changed_pages(previous: dict[str, str], pages: list[PageText]) -> list[str]:
    """The URLs whose content hash differs from ``previous`` (URL -> hash), new pages included (pure)."""
    return [p.url for p in pages if previous.get(p.url) != p.content_hash]


class PageWatchAdapter:
    type = "page_watch"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg = name, cfg
        self.url = cfg.pages[0] if len(cfg.pages) == 1 else None
        self.engine = getattr(context, "engine", None)

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        pages: list[PageText] = []
        failures: list[str] = []
        for raw_url in self.cfg.pages:
            url = clean_url(raw_url)
            try:
                # redirects within the page's host only: a login, consent or parked-domain page
                # elsewhere is not the funder's page, and read as it, it removed the call it announced
                html, _, kind = fetch_typed(client, url, source=self.name, timeout=self.cfg.timeout_seconds,
                                            hosts=[urlsplit(url).hostname or ""])
                if not is_page_type(kind):  # a PDF or office file never ends in </html>: no passing fault
                    failures.append(f"{url} answers with {kind.split(';')[0].strip()}, not a web page; watch "
                                    "the page that links it, or take it out of pages")
                    continue
                if cut_off_html(html):
                    # what is missing may be the call's dates: read as the page, it changed the call
                    failures.append(f"{url} ends before </html> (cut off?); it is read again on the next run")
                    continue
                pages.append(main_text(html, url, source=self.name))
            except SourceError as exc:
                failures.append(str(exc).removeprefix(f"source {self.name!r}: "))
        if not pages and failures:
            raise SourceError(self.name, f"no watched page could be read ({failures[0]})")
        if self.engine is None:
            log.info("page_watch %s: no database given, page changes are not compared", self.name)
        previous = watched_pages(self.engine, self.name) if self.engine is not None else {}
        words = tuple(self.cfg.call_phrases)
        records = [r for r in (record_for_page(p, self.cfg.phrase, self.cfg.programme, now, words)
                               for p in pages) if r is not None]
        problems = []
        if failures:
            problems.append(f"{len(failures)} of {len(self.cfg.pages)} watched pages could not be read "
                            f"(first: {failures[0]})")
        warning = "; ".join(problems) or None
        # the states are written by the store with the records (watcher.store.finish_run)
        states = [PageState(url=p.url, content_hash=p.content_hash, text=p.text) for p in pages]
        # a page taken out of (or edited in) the config is not read: its call is not missing on that account
        watched = {clean_url(raw_url) for raw_url in self.cfg.pages}
        unwatched = {ref for ref in ahead_ids(self.engine, self.name, now) if ref not in watched} \
            if self.engine is not None else set()
        return FetchResult(records=records, complete=not problems, warning=warning, pages=states,
                           extra={"pages": len(pages), "changed_pages": changed_pages(previous, pages)},
                           unwatched=unwatched)


    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        """Serve ``recording_dir/<source name>/<n>.html`` for the n-th page (from 1) of the config."""
        folder = recording_dir / self.name
        recorded = {}
        for number, url in enumerate(self.cfg.pages, start=1):
            path = folder / f"{number}.html"
            if path.is_file():
                target = httpx.URL(clean_url(url))
                recorded[(target.host, target.path)] = path
        if not recorded:
            return None

        def handle(request: httpx.Request) -> httpx.Response | None:
            path = recorded.get((request.url.host, request.url.path))
            if path is None:
                return None
            return httpx.Response(200, content=read_recorded(path),
                                  headers={"content-type": "text/html; charset=utf-8"})

        return handle


@register("page_watch")
def build(name: str, cfg: Any, context: BuildContext) -> PageWatchAdapter:
    return PageWatchAdapter(name, cfg, context)

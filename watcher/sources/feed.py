"""Source type ``feed``: any RSS or Atom feed (feedparser), e.g. https://interreg-baltic.eu/feed/.

Items whose title or text contain one of the config's ``call_phrases`` (Danish, Swedish, Norwegian,
German and English by default, :mod:`pipeline.core.call_phrases`) become calls with status
"announced" and the dates found in their text (:mod:`watcher.dates`). A feed with errors ("bozo") is
read as far as feedparser got (when feedparser itself fails on it, after lxml's recovering parser
has dropped the malformed markup) and the problem is reported as the run's warning.

A feed run is never complete (a feed shows only its latest items, so a call missing from it is not
closed), and its warning says so, with how many items were skipped as no call announcement: the run's
error column and ``last_error`` then explain the "partial" instead of staying empty.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.core.call_phrases import first_phrase
from pipeline.core.clock import UTC
from pipeline.core.errors import ParseError
from watcher.dates import call_dates
from watcher.encoding import decode_text
from watcher.html_text import clean_inline, unescape_entities
from watcher.http import fetch_text
from watcher.records import CallRecord, Deadline
from watcher.replay import file_replay
from watcher.sources import BuildContext, FetchResult, register
from watcher.stored_links import keep_stored_ids, stored_links
from watcher.urls import clean_url, goes_nowhere

UTF8_XML = {"content-type": "application/xml; charset=utf-8"}  # the text was decoded already
# Items read of one feed, the first (newest) ones: a feed shows its latest ten to a hundred, and each
# item costs its dates' search (some 8 ms), so a hostile feed of 150,000 items held its run 20 minutes.
MAX_ITEMS = 500
# an "&" that starts no character or entity reference, or a "<" that starts no markup, outside CDATA and
# comments (an unterminated one runs to the end, as it does for an XML parser, so the scan stays linear).
# Markup is read as leniently as HTML reads a tag (attributes without a value or quotes are kept for
# feedparser's loose parser); no value runs past a "<", so a tag's scan stops at the next one.
_NAME = r"(?:[^\W\d]|:)[\w.:-]*"
_TAG = (rf"</{_NAME}\s*>|<{_NAME}(?:\s+{_NAME}(?:\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'|[^\s\"'<>=`]+))?)*\s*/?>|"
        r"<![A-Za-z]|<\?[A-Za-z_:]")
# What needs no change (text, tags, named references) is taken a run of up to 1,000 pieces at a time
# rather than a match per tag: the callback's Python call per tag made a 5 MB feed of tags cost
# seconds before feedparser saw it. The bound keeps the regex engine's saved state per match small.
_UNCHANGED = rf"(?:[^<&]+|{_TAG}|&[A-Za-z][\w.-]{{0,40}};){{1,1000}}"
_BARE_MARKUP = re.compile(r"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|"
                          r"&#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}));|"
                          rf"&(?!#[0-9]{{1,7}};|#[xX][0-9a-fA-F]{{1,6}};|[A-Za-z][\w.-]{{0,40}};)|"
                          rf"{_UNCHANGED}|<", re.DOTALL)


def _xml_char(code: int) -> bool:
    """``code`` is a character XML 1.0 allows (tab, line feed, carriage return and from U+0020 on,
    surrogates and U+FFFE/U+FFFF excepted)."""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD \
        or 0x10000 <= code <= 0x10FFFF


def _repaired(match: re.Match[str]) -> str:
    written = match.group(0)
    if written == "&":
        return "&amp;"
    if written == "<":
        return "&lt;"
    decimal, hexadecimal = match.group(1), match.group(2)
    if decimal is None and hexadecimal is None:
        return written  # CDATA, a comment, markup or text, as written
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if _xml_char(code):
        return match.group(0)
    # a reference to a surrogate, NUL or a control character is not XML: feedparser's strict parser
    # gave up on the whole feed and its loose one wrote the surrogate's bytes as Latin-1 ("í €")
    return "&#xFFFD;" if code > 0x1F else ""


def strip_tags(text: str) -> str:
    """Plain text of an HTML snippet (feed summaries are HTML)."""
    from bs4 import BeautifulSoup

    return clean_inline(BeautifulSoup(text or "", "lxml").get_text(" "))


def escape_bare_markup(text: str) -> str:
    """``text`` with each bare "&" written "&amp;", each "<" that starts no tag, comment, CDATA section,
    declaration or processing instruction written "&lt;", and each character reference XML forbids
    (a surrogate, NUL, a control character) replaced by U+FFFD or, for a control character, dropped.
    A hand-made feed writing "R&D" or "a<b" is not well-formed XML: feedparser's loose parser read
    "&D" as an entity reference and titled the item "R&D; call", and read "<b" as a tag, cutting the
    title there (lxml's recovering parser dropped the "<"); escaped, the feed parses as written."""
    return _BARE_MARKUP.sub(_repaired, text)


def _title(entry: Any) -> str:
    """An item's title as text: an HTML title (Atom ``type="html"``, or an RSS title holding markup,
    which feedparser reads as HTML) loses its tags, which stored as they were showed as "<b>Call…</b>"
    everywhere the title went."""
    raw = str(entry.get("title") or "")
    kind = str((entry.get("title_detail") or {}).get("type") or "")
    if "html" in kind and "<" in raw:
        return strip_tags(raw)
    return clean_inline(unescape_entities(raw))


def _first_words(text: str, limit: int = 100) -> str:
    """The start of ``text`` up to ``limit`` characters, cut at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit].rstrip(" ,.;:") + "…"


def _absolute(link: str, feed: str | None) -> str:
    """An item's link made absolute against the feed's address: hand-made feeds write them relative
    ("/da/nyheder/call-1"), which stored as such was a link nobody could open. The guid is left as
    written: it is the item's id, not an address."""
    if not link or not feed or not feed.startswith(("http://", "https://")):
        return link
    try:
        return link if urlsplit(link).scheme else urljoin(feed, link)
    except ValueError:  # a feed address or link that is no URL ("http://[")
        return link


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    try:
        return datetime(*parsed[:6], tzinfo=UTC) if parsed else None
    except (ValueError, OverflowError, TypeError):  # feedparser reads "0000-00-00" as year -1
        return None


def is_call_announcement(text: str, phrases: list[str]) -> bool:
    """One of ``phrases`` starts a word of ``text`` (case-insensitive)."""
    return first_phrase(text, tuple(phrases)) is not None


# the five entities XML predefines, outside CDATA and comments: libxml2's recovering parser (2.14) drops
# them ("Heat &lt; 100" read "Heat  100", "R&amp;D" read "RD") but keeps a character reference
_PREDEFINED = re.compile(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|&(lt|gt|amp|quot|apos);", re.DOTALL)
_REFERENCES = {b"lt": b"&#60;", b"gt": b"&#62;", b"amp": b"&#38;", b"quot": b"&#34;", b"apos": b"&#39;"}


def _as_reference(match: re.Match[bytes]) -> bytes:
    return _REFERENCES[match.group(1)] if match.group(1) else match.group(0)


def _recovered(feedparser: Any, data: bytes) -> tuple[Any, str | None]:
    """The feed feedparser reads once lxml's recovering XML parser has dropped what is malformed
    (a stray end tag), and that parser's first complaint; (None, None) when nothing is left."""
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(_PREDEFINED.sub(_as_reference, data), parser)
    except etree.LxmlError:
        return None, None
    if root is None:
        return None, None
    complaint = " ".join(str(parser.error_log[0].message).split())[:120] if len(parser.error_log) else None
    try:
        parsed = feedparser.parse(etree.tostring(root, encoding="utf-8", xml_declaration=True),
                                  response_headers=UTF8_XML)
    except Exception:  # what is left still trips feedparser (e.g. a <width> out of place): unreadable
        return None, complaint
    return (parsed if parsed.entries else None), complaint


_CLOSED = re.compile(r"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*(?:<!--.*?-->\s*)*\Z", re.IGNORECASE | re.DOTALL)


def cut_off(text: str) -> bool:
    """The feed document ends before the end tag of its root (``</rss>``, ``</feed>``, ``</rdf:RDF>``):
    the server stopped in the middle of it, so its last item may be half (pure)."""
    return _CLOSED.search(text[-4096:]) is None


def parse_feed(content: bytes | str, *, source: str, phrases: list[str], programme: str | None = None,
               feed: str | None = None, skipped: list[str] | None = None,
               cut: list[str] | None = None) -> tuple[list[CallRecord], str | None]:
    """Records for the call announcements of a feed, and a warning when the feed had errors. The titles
    of the items that are no call announcement are appended to ``skipped`` (when given).

    A malformed feed ("bozo") keeps the items the parser recovered; the warning names the feed
    (``feed``, its URL, else the source) and the parser's message. A feed that ends before its root's
    end tag was cut off: when its last item is a call, that record is the last one returned and its
    title is appended to ``cut`` (when given), as it may be read in part only. Raises ParseError when
    nothing at all could be read.
    """
    import feedparser

    name = feed or source
    # decoded once by the shared rules (HTTP charset, declaration, detection; NFC), then handed to
    # feedparser as UTF-8 said by the header, which overrides the document's own declaration
    text = unicodedata.normalize("NFC", content) if isinstance(content, str) else decode_text(content)
    data = escape_bare_markup(text).encode("utf-8")
    try:
        parsed = feedparser.parse(data, response_headers=UTF8_XML)
    except Exception as exc:  # feedparser promises "bozo" instead of raising, but its loose parser
        # still raises on some malformed feeds (e.g. a stray </width>, kurtmckee/feedparser#576)
        problem = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        parsed, repair = _recovered(feedparser, data)
        if parsed is None:
            raise ParseError(source, f"the feed is not valid RSS or Atom ({problem}); check the URL") \
                from None
        problem += f"; the XML parser found: {repair}" if repair else ""
        parsed["bozo"], parsed["bozo_exception"] = True, problem
    warning = None
    if not parsed.get("version") and not parsed.entries:
        raise ParseError(source, "the answer is not an RSS or Atom feed; check the URL")
    if parsed.get("bozo"):
        problem = " ".join(str(parsed.get("bozo_exception") or "malformed feed").split())
        if not parsed.entries:
            raise ParseError(source, f"the feed is not valid RSS or Atom ({problem}); check the URL")
        warning = (f"feed {name} has errors, read {len(parsed.entries)} items as far as possible "
                   f"(the parser said: {problem})")
    if len(parsed.entries) > MAX_ITEMS:
        warning = "; ".join(filter(None, [warning, f"feed {name} has {len(parsed.entries):,} items, only the "
                                                    f"first {MAX_ITEMS} were read"]))
    records = []
    last = parsed.entries[-1] if parsed.entries and cut_off(text) else None
    seen: set[tuple[str, str]] = set()  # (link without tracking, title) of the items read
    repeated: list[str] = []
    for entry in parsed.entries[:MAX_ITEMS]:
        title = _title(entry)
        summary = strip_tags(entry.get("summary") or "")
        content = " ".join(strip_tags(c.get("value", "")) for c in entry.get("content") or [])
        body = content or summary
        # an item without a title (RSS allows one with a description only) is titled by its first words
        title = title or _first_words(body)
        if not title or not is_call_announcement(f"{title} {summary} {body}", phrases):
            if skipped is not None:
                skipped.append(title or "(untitled)")
            continue
        written = str(entry.get("link") or "").strip()  # an Atom href is kept as laid out, spaces and all
        # a script or data: link is no call page: stored, it was the call's address, and as the id of
        # items without a guid it made them one call
        link = None if goes_nowhere(written) else _absolute(written, feed) or None
        external_id = str(entry.get("id") or entry.get("guid") or link or title)
        key = (_same_page(link), " ".join(title.casefold().split())) if link else None
        if key is not None and key in seen:
            # one post republished, or listed again with a newsletter's tracking link, under a new
            # guid: kept, the same announcement was two calls
            repeated.append(external_id)
            continue
        if key is not None:
            seen.add(key)
        dates = call_dates(f"{title}. {body}")
        published = _when(entry)
        records.append(CallRecord(
            external_id=external_id, title=title, text=body, url=link, status="announced",
            programme=programme, opening_date=dates.opening,
            deadlines=tuple(Deadline(d.at, d.time_assumed) for d in dates.deadlines),
            extra={"published": published.isoformat() if published else None,
                   "categories": [t.get("term") for t in entry.get("tags") or [] if t.get("term")]},
        ))
        if entry is last and cut is not None:
            cut.append(title)
    if repeated:
        warning = "; ".join(filter(None, [warning, f"{len(repeated)} item(s) repeat the link and title of an "
                                                    f"earlier item, read as that one (first: "
                                                    f"{' '.join(repeated[0].split())[:120]})"]))
    return records, warning


def _same_page(link: str) -> str:
    try:
        return clean_url(link)
    except ValueError:  # a link that is no URL ("http://["): compared as written
        return link


def partial_reason(kept: int, skipped: list[str], problem: str | None) -> str:
    """Why a feed run is partial, for the run's error column: the feed's own problem first, then what
    was kept and skipped (pure)."""
    parts = [problem] if problem else []
    parts.append(f"a feed lists only recent items, so calls missing from it stay as they are; {kept} item(s) "
                 f"read as calls, {len(skipped)} skipped as no call announcement (no call phrase)")
    if skipped:
        parts[-1] += f", first skipped: {' '.join(skipped[0].split())[:80]!r}"
    return "; ".join(parts)


class FeedAdapter:
    type = "feed"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url
        self.engine = context.engine if context is not None else None  # its stored links, when given

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        body = fetch_text(client, self.url, source=self.name, timeout=self.cfg.timeout_seconds)
        skipped: list[str] = []
        cut: list[str] = []
        records, warning = parse_feed(body, source=self.name, phrases=list(self.cfg.call_phrases),
                                      programme=self.cfg.programme, feed=self.url, skipped=skipped, cut=cut)
        if self.engine is not None:
            records = keep_stored_ids(records, stored_links(self.engine, self.name))
        # the item the answer broke off in: a call stored is kept as it is (its text and dates may be
        # half), a new one is stored as read
        partial = {records[-1].external_id} if cut else set()
        if cut:
            warning = "; ".join(filter(None, [warning, f"the feed ends before its closing tag (cut off?): "
                                                       f"its last item, {cut[0][:80]!r}, is kept as stored"]))
        # announcements age out of a feed; a missing item is not a closed call, so never "complete"
        return FetchResult(records=records, complete=False,
                           warning=partial_reason(len(records), skipped, warning),
                           extra={"skipped_items": skipped[:20]}, partial=partial)

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        return file_replay(recording_dir, self.name, self.url, (".xml", ".rss", ".atom"),
                           "application/rss+xml")


@register("feed")
def build(name: str, cfg: Any, context: BuildContext) -> FeedAdapter:
    return FeedAdapter(name, cfg, context)


"""Source type ``euro_access``: Interreg (and other) calls listed on euro-access.eu.

The listing gives programme, title, link and deadline for every call; the calls of the programmes the
config selects (case-insensitive) are then read from their detail pages for the call number, opening,
funding rate, budget, contribution per project, links and eligibility. A detail page that fails makes
the run incomplete with a warning, so that nothing is closed on partial data; its call is stored from
the listing when new, and left as stored otherwise (``FetchResult.partial``). Parsing is in
:mod:`watcher.euro_access_parse`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from pipeline.core.errors import FetchError, SourceError
from pipeline.core.models import Call
from watcher.euro_access_parse import CallDetail, ListingRow, call_id_of, parse_detail, parse_listing
from watcher.html_text import cut_off_html
from watcher.http import fetch_page
from watcher.records import CallRecord, Deadline
from watcher.replay import RecordingError, read_recorded
from watcher.sources import BuildContext, FetchResult, register
from watcher.store import GONE


def _norm(name: str) -> str:
    """A programme name for comparison: NFC, case-folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def record_for(row: ListingRow, detail: CallDetail | None, now: datetime) -> CallRecord:
    """One call from its listing row, completed by its detail page when that was read."""
    assumed = dict(zip(row.deadlines, row.deadlines_assumed, strict=False))
    listed = row.deadlines or ((row.deadline,) if row.deadline else ())
    deadlines = [Deadline(at, assumed.get(at, False)) for at in sorted(set(listed))]
    opening = None
    extra: dict[str, Any] = {"listing_programme": row.programme}
    if detail is not None:
        if detail.deadlines:
            deadlines = [Deadline(at, assumed) for at, assumed in sorted(set(detail.deadlines))]
        opening = detail.opening
        extra.update(links=detail.links, eligibility=detail.eligibility, details=detail.extra)
        if detail.contribution_text:
            extra["contribution_per_project"] = detail.contribution_text
    last = max((d.at for d in deadlines), default=None)
    if last is not None and last < now:
        status = "closed"
    elif opening is not None and opening > now:
        status = "forthcoming"
    else:
        status = "open"
    return CallRecord(
        external_id=row.external_id,
        title=(detail.title if detail and detail.title else row.title),
        text=detail.text if detail else "",
        url=row.url,
        status=status,
        programme=(detail.programme if detail and detail.programme else row.programme),
        call_id=detail.call_number if detail else None,
        opening_date=opening,
        deadlines=tuple(deadlines),
        budget=detail.budget if detail else None,
        min_contribution=detail.min_contribution if detail else None,
        max_contribution=detail.max_contribution if detail else None,
        type_of_action="INTERREG" if "interreg" in row.programme.lower() else None,
        funding_rate=detail.funding_rate if detail else None,
        extra=extra,
    )


def _host(url: str) -> str:
    try:
        return (httpx.URL(url).host or "").lower().removeprefix("www.")
    except (httpx.InvalidURL, ValueError):
        return ""


def declared_total(text: str | None) -> int | None:
    """The number of calls a listing heading declares ("142 Calls found" -> 142), if it says one."""
    match = re.search(r"(\d[\d,.]*)\s+calls?\s+found", text or "", re.I)
    if not match:
        return None
    digits = re.sub(r"[,.]", "", match.group(1))
    return int(digits) if digits.isdigit() and len(digits) < 9 else None


def listing_warning(rows: list[ListingRow], declared: int | None, pages: int, url: str) -> str | None:
    """Why the listing read is not the whole listing, if it is not: an empty table, or fewer calls
    than its heading declares (a page cut short). Either leaves the run incomplete."""
    if not rows:
        said = f" although it declares {declared} calls" if declared else ""
        return (f"the listing table of {url} has no rows{said}; the page was cut or the site changed, "
                "nothing closed")
    found = len({row.external_id for row in rows})
    if declared is not None and found < declared:
        return (f"the listing of {url} declares {declared} calls but {pages} page(s) held {found}; the "
                "page was cut short, nothing closed")
    return None


class EuroAccessAdapter:
    type = "euro_access"

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url
        self.programmes = {_norm(p) for p in cfg.programmes}
        self.engine = context.engine if context is not None else None  # its stored calls, when given

    def _renamed(self, rows: list[ListingRow], kept: dict[str, ListingRow]) -> list[str]:
        """Notes for the programmes the config keeps whose stored calls the listing now shows under
        another programme name (renamed on the site): left out by the programme filter, those calls were
        never updated again, and nothing said so."""
        if self.engine is None:
            return []
        others = {row.external_id: row.programme for row in rows if row.external_id not in kept}
        if not others:
            return []
        table = Call.__table__
        with self.engine.connect() as conn:
            stored = conn.execute(sa.select(table.c.external_id, table.c.programme, table.c.extra).where(
                table.c.source == self.name, table.c.status.not_in(GONE),
                table.c.external_id.in_(list(others)))).all()
        moved: dict[tuple[str, str], list[str]] = {}
        for external_id, programme, extra in stored:
            was = (extra or {}).get("listing_programme") if isinstance(extra, dict) else None
            was = str(was or programme or "")
            if _norm(was) in self.programmes and _norm(others[external_id]) not in self.programmes:
                moved.setdefault((was, others[external_id]), []).append(external_id)
        return [f"programme {was!r} is now listed as {now!r} ({len(ids)} stored call(s), first "
                f"{sorted(ids)[0]}): its calls are no longer updated; add {now!r} to the programmes of "
                f"source {self.name!r}" for (was, now), ids in sorted(moved.items())]

    def _get(self, client: httpx.Client, url: str) -> str:
        return self._page(client, url)[0]

    def _page(self, client: httpx.Client, url: str) -> tuple[str, str]:
        # redirects only to the hosts call pages may come from (_allowed): the listing's and detail_hosts
        return fetch_page(client, url, source=self.name, timeout=self.cfg.timeout_seconds,
                          hosts=[_host(self.url), *self.cfg.detail_hosts])

    def _call_page(self, client: httpx.Client, row: ListingRow) -> CallDetail:
        """The call's own page; FetchError when it redirects to another call's page (a call merged or
        renumbered), which read as this call's gave it the other call's number, text and deadlines."""
        html, final = self._page(client, row.url)
        if cut_off_html(html):  # read as the call's page, its missing end took the call's dates or text
            raise FetchError(self.name, f"{row.url} ends before </html> (cut off?); its call is read from "
                                        "the listing")
        landed = call_id_of(final)
        if landed is not None and landed != call_id_of(row.url):
            raise FetchError(self.name, f"{row.url} redirects to another call's page {final}; its call is "
                                        "read from the listing")
        return parse_detail(html, source=self.name, url=row.url)

    cut_rows: set[str]  # external ids of the last rows of listing pages cut off (see listing)

    def listing(self, client: httpx.Client) -> tuple[list[ListingRow], str | None]:
        """Every row of every listing page (up to max_pages); a warning if pages were left unread or
        the rows read are fewer than the listing declares."""
        rows: list[ListingRow] = []
        self.cut_rows = set()
        url: str | None = self.url
        visited: set[str] = set()
        skipped: list[str] = []
        pages = 0
        declared: int | None = None
        foreign: list[str] = []
        repeated: list[str] = []
        while url and url not in visited:
            if pages >= self.cfg.max_pages:
                return rows, (f"listing has more than max_pages={self.cfg.max_pages} pages; raise "
                              "max_pages to read them all")
            if pages and _host(url) != _host(self.url):  # a scraped link may point anywhere
                foreign.append(f"the listing's next page {url} is on another host than the listing's; it "
                               "was not read, nothing closed")
                break
            visited.add(url)
            html = self._get(client, url)
            page = parse_listing(html, url, source=self.name)
            if cut_off_html(html):
                # the rows after the cut were never sent, and the last one read may be half
                last = f"its last row ({page.rows[-1].external_id}) is kept as stored, " if page.rows else ""
                if page.rows:
                    self.cut_rows.add(page.rows[-1].external_id)
                repeated.append(f"the listing page {url} ends before </html> (cut off?): {last}nothing "
                                "closed")
            if declared is None:
                declared = declared_total(page.total_text)
            if pages and not {row.external_id for row in page.rows} - {row.external_id for row in rows}:
                # a page the pagination names holding no call of its own: the site answered it empty,
                # or with an earlier page again (ignoring the page asked for); its calls were never read
                repeated.append(f"listing page {pages + 1} of {self.url} ({url}) holds no call the pages "
                                f"before it did not ({len(page.rows)} rows); the site did not page as "
                                "asked, nothing closed")
            rows.extend(page.rows)
            skipped.extend(page.skipped)
            pages += 1
            url = page.next_url
        # a row left out could be a call still open: the run is then incomplete, nothing is closed
        left_out = [f"{len(skipped)} listing row(s) left out (first: {skipped[0]})"] if skipped else []
        return rows, "; ".join(w for w in [*repeated, listing_warning(rows, declared, pages, self.url),
                                           *left_out, *foreign] if w) or None

    def _allowed(self, url: str) -> bool:
        """Call pages are fetched only from the listing's own host or the config's detail_hosts: a
        scraped listing's links could send the watcher anywhere."""
        host = _host(url)
        return host == _host(self.url) or host in {h.lower().removeprefix("www.") for h in
                                                   self.cfg.detail_hosts}

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        rows, warning = self.listing(client)
        kept: dict[str, ListingRow] = {}
        for row in rows:
            if _norm(row.programme) in self.programmes:
                kept.setdefault(row.external_id, row)  # dedup on the URL without tracking parameters
        records, failures, foreign, malformed = [], [], [], []
        partial: set[str] = set(self.cut_rows)
        for row in kept.values():
            detail = None
            if not self._allowed(row.url):
                foreign.append(row.url)
            else:
                try:
                    detail = self._call_page(client, row)
                except SourceError as exc:
                    failures.append(str(exc).removeprefix(f"source {self.name!r}: "))
                    partial.add(row.external_id)
            record = record_for(row, detail, now)
            if row.unreadable_deadline and not record.deadlines:
                # stored without one it would read as "no deadline", which the site never said
                malformed.append(f"{row.external_id}: deadline {row.unreadable_deadline!r} is not a date")
                continue
            records.append(record)
        warnings = [w for w in [warning] if w]
        if malformed:
            more = f"; and {len(malformed) - 3} more" if len(malformed) > 3 else ""
            warnings.append(f"{len(malformed)} listing row(s) skipped: {'; '.join(malformed[:3])}{more}")
        if failures:
            warnings.append(f"{len(failures)} of {len(kept)} call pages could not be read, listing data "
                            f"kept (first: {failures[0]})")
        # a call linked on another host is still listed, so the run stays complete: only its details
        # were not fetched
        notes = [f"{len(foreign)} call link(s) point to hosts other than the listing's, not fetched, "
                 f"listing data kept (first: {foreign[0][:120]}); add a host to detail_hosts to allow it"
                 ] if foreign else []
        notes += self._renamed(rows, kept)
        return FetchResult(records=records, complete=not warnings,
                           warning="; ".join(warnings + notes) or None,
                           extra={"listed": len(rows), "selected": len(kept)}, partial=partial,
                           # listed, of a programme the config does not keep (taken out, or renamed on
                           # the site): still on euro-access, so never missing
                           unwatched={row.external_id for row in rows} - kept.keys())

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        return replay_handler(recording_dir, self.url)


def replay_handler(recording_dir: Path, listing_url: str = "https://www.euro-access.eu/en/calls",
                   ) -> Callable[[httpx.Request], httpx.Response | None] | None:
    """Serve euro-access.eu from recordings: ``calls_list_*.html`` for the listing and
    ``call_detail_<id>_*.html`` for call pages; an unrecorded call page is a page failure
    (:class:`~watcher.replay.RecordingError` "not in the recording <folder>"), which the adapter
    tolerates like a call page that fails live.

    ``recording_dir`` is the folder with the recordings or a samples root with ``euro_access/``.
    """
    folder = recording_dir / "euro_access" if (recording_dir / "euro_access").is_dir() else recording_dir
    listings = sorted(folder.glob("calls_list_*.html"))
    if not listings:
        return None
    listing = listings[-1]
    details: dict[str, Path] = {}
    for path in sorted(folder.glob("call_detail_*.html")):
        details[path.name.split("_")[2]] = path
    host = httpx.URL(listing_url).host.removeprefix("www.")
    listing_path = httpx.URL(listing_url).path.rstrip("/")

    def handle(request: httpx.Request) -> httpx.Response | None:
        if request.url.host.removeprefix("www.") != host:
            return None
        html_headers = {"content-type": "text/html; charset=utf-8"}
        if request.url.path.rstrip("/") == listing_path:
            return httpx.Response(200, content=read_recorded(listing), headers=html_headers)
        call_id = call_id_of(str(request.url))
        if call_id in details:
            return httpx.Response(200, content=read_recorded(details[call_id]), headers=html_headers)
        raise RecordingError(f"{request.url} is not in the recording {folder}")

    return handle


@register("euro_access")
def build(name: str, cfg: Any, context: BuildContext) -> EuroAccessAdapter:
    return EuroAccessAdapter(name, cfg, context)

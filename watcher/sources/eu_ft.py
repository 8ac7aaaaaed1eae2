"""Source type ``eu_ft``: open and forthcoming opportunities of the EU Funding & Tenders portal,
through its SEDIA search API.

One query per configured programme (``programmes: {label: frameworkProgramme id}``; an empty mapping
means one query over all programmes) keeps each result set under the API's 10,000-result window; a
programme that still exceeds it is split by status. Each query is a multipart POST::

    POST {url}?apiKey=SEDIA&text=***&pageSize=100&pageNumber=N
    query:     {"bool":{"must":[{"terms":{"type":["1","2","8"]}},
                                {"terms":{"status":["31094501","31094502"]}},
                                {"terms":{"frameworkProgramme":["43108390"]}}]}}
    languages: ["en"]
    sort:      {"field":"startDate","order":"DESC"}

and is read page by page up to ``totalResults``. Results are parsed by :mod:`watcher.sedia` and
de-duplicated by ``reference``. The run is complete (so that topics missing from it may be closed)
only if every page of every query was read and every result could be parsed.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from pipeline.core.deadlines import last_deadline
from pipeline.core.errors import FetchError, ParseError
from pipeline.core.models import Call
from pipeline.core.text import one_line
from watcher.http import request_bytes
from watcher.records import CallRecord
from watcher.replay import SediaSearchRecording, find_search_recording
from watcher.sedia import SediaPage, load_page, parse_page, parse_salt
from watcher.sources import BuildContext, FetchResult, register
from watcher.store import GONE, raw_hashes

TYPES = ("1", "2", "8")  # grants (topics), calls for proposals (PROSPECT), cascade funding calls
STATUSES = ("31094501", "31094502")  # forthcoming, open
RESULT_WINDOW = 10_000  # the search API serves at most this many results of one query
MAX_BYTES = 50_000_000  # one page of 100 full topics is a few MB
SORT = {"field": "startDate", "order": "DESC"}

MAX_NAMED = 5  # malformed results named one by one in a run's warning; the rest are counted

PageHook = Callable[[str, int, int], None]  # (query label, page number, page count)
PageTaker = Callable[[int, int, dict[str, Any]], None]  # (page number, page count, page)


def search_query(programme_id: str | None, statuses: tuple[str, ...] = STATUSES) -> dict[str, Any]:
    must: list[dict[str, Any]] = [{"terms": {"type": list(TYPES)}}, {"terms": {"status": list(statuses)}}]
    if programme_id:
        must.append({"terms": {"frameworkProgramme": [programme_id]}})
    return {"bool": {"must": must}}


def multipart_parts(query: dict[str, Any]) -> dict[str, tuple[str, bytes, str]]:
    """The form parts the portal's own front end sends (JSON blobs)."""
    def blob(value: Any) -> tuple[str, bytes, str]:
        return ("blob", json.dumps(value, separators=(",", ":")).encode("utf-8"), "application/json")

    return {"query": blob(query), "languages": blob(["en"]), "sort": blob(SORT)}


class EuFtAdapter:
    type = "eu_ft"
    pauses_collector = True  # its records hold no reference cycles (see watcher.runner.run_source)

    def __init__(self, name: str, cfg: Any, context: BuildContext | None = None) -> None:
        self.name, self.cfg, self.url = name, cfg, cfg.url
        # the database, to read the raw hashes of the stored calls; without it every result is parsed
        self.engine = context.engine if context is not None else None
        # programme id -> name: the config's labels first, then a recording's facet labels
        self.programme_names: dict[str, str] = {}
        self.on_page: PageHook | None = None

    def _names(self) -> dict[str, str]:
        return {**self.programme_names, **{pid: label for label, pid in self.cfg.programmes.items()}}

    def queries(self) -> list[tuple[str, str | None]]:
        """(label, programme id) of each query; one over every programme when none is configured."""
        if not self.cfg.programmes:
            return [("all programmes", None)]
        return [(label, pid) for label, pid in self.cfg.programmes.items()]

    def _page(self, client: httpx.Client, label: str, query: dict[str, Any], number: int,
              pages: int | None) -> dict[str, Any]:
        position = f"page {number}{f' of {pages}' if pages else ''}"
        where = f"{position} ({label})"
        body = request_bytes(
            client, "POST", self.url, source=self.name, max_bytes=MAX_BYTES,
            what=f"{self.url} ({position}, {label})",
            params={"apiKey": "SEDIA", "text": "***", "pageSize": str(self.cfg.page_size),
                    "pageNumber": str(number)},
            files=multipart_parts(query), timeout=self.cfg.timeout_seconds)
        return load_page(body, source=self.name, page=where)

    def _read_rest(self, client: httpx.Client, label: str, query: dict[str, Any], first: dict[str, Any],
                   take: PageTaker) -> list[str]:
        """Hand each page of a query to ``take`` (page number, page count, page) as it is read, the first
        one included, keeping only what the consistency check needs; the warnings saying why what was
        read does not add up to what the API declared, which makes the run incomplete."""
        total = first["totalResults"]
        declared = min(total, RESULT_WINDOW)
        size = self.cfg.page_size
        pages = max(1, math.ceil(declared / size))
        if self.on_page:
            self.on_page(label, 1, pages)
        read, warnings = [_summary(first)], []
        take(1, pages, first)
        for number in range(2, pages + 1):
            data = self._page(client, label, query, number, pages)
            if self.on_page:
                self.on_page(label, number, pages)
            if not data["results"]:
                warnings.append(f"page {number} of {pages} ({label}) was empty although totalResults is "
                                f"{total}; the result set changed while reading, the next run completes it")
                break
            if data["totalResults"] != total:
                # the pages asked for were counted from page 1's total: a result published meanwhile
                # pushed the last one onto a page never asked for, with every page read full
                warnings.append(f"page {number} of {pages} ({label}) declares totalResults "
                                f"{data['totalResults']}, page 1 declared {total}; the result set changed "
                                "while it was read, the next run completes it")
            read.append(_summary(data))
            take(number, pages, data)
        warnings.extend(consistency_warnings(label, read, total, size, pages))
        if not warnings and declared == size * pages and size * (pages + 1) <= RESULT_WINDOW:
            warnings.extend(self._past_total(client, label, query, read, total, take))
        return warnings

    def _past_total(self, client: httpx.Client, label: str, query: dict[str, Any], read: list[PageRead],
                    total: int, take: PageTaker) -> list[str]:
        """The page after the last one ``total`` makes, asked for when that last page came full: a
        totalResults short by whole pages leaves nothing else to tell it by, and the calls past it looked
        dropped by a complete answer. An empty page (or one repeating earlier results, as a server
        answering past the end with its last page) confirms the total; new results on it are read and
        make the run incomplete, as does a page that cannot be read."""
        number = len(read) + 1
        where = f"page {number} ({label}), asked for after the full last page of the {len(read)} that " \
                f"totalResults {total} makes,"
        try:
            data = self._page(client, label, query, number, None)
        except (FetchError, ParseError) as exc:
            return [f"{where} could not be read ({one_line(str(exc))[:200]}); the total is not confirmed, "
                    "so nothing missing is closed"]
        earlier, got = frozenset().union(*(page.references for page in read)), _summary(data)
        if not got.results or (len(got.references) == got.results and got.references <= earlier):
            return []
        take(number, number, data)
        return [f"{where} has {len(data['results'])} results: the total is short, the next run completes it"]

    def fetch(self, client: httpx.Client, now: datetime) -> FetchResult:
        names = self._names()
        salt = parse_salt(names)
        known = raw_hashes(self.engine, self.name) if self.engine is not None else {}
        found = _Found()
        warnings: list[str] = []
        plans = [(label, programme_id, STATUSES) for label, programme_id in self.queries()]
        empty: list[tuple[str, str]] = []  # (label, programme id) of the programmes answered with nothing
        answered: list[tuple[str, str, int]] = []  # (label, programme id, totalResults) of the others
        while plans:
            label, programme_id, statuses = plans.pop(0)
            query = search_query(programme_id, statuses)
            first = self._page(client, label, query, 1, None)
            total = first["totalResults"]
            if total > RESULT_WINDOW and len(statuses) > 1:
                # too many for one query: ask again per status, before reading past the window
                plans = [(f"{label}, status {code}", programme_id, (code,)) for code in statuses] + plans
                continue
            if total > RESULT_WINDOW:
                warnings.append(f"{label} has {total} results, more than the API's window of "
                                f"{RESULT_WINDOW}; split it into narrower programmes")
            if programme_id and statuses == STATUSES and total == 0 and not first["results"]:
                empty.append((label, programme_id))
            elif programme_id and statuses == STATUSES:
                answered.append((label, programme_id, total))

            def take(number: int, count: int, data: dict[str, Any], label: str = label) -> None:
                found.add(parse_page(data, source=self.name, page=f"page {number} of {count} ({label})",
                                     programme_names=names, known=known, salt=salt))

            # each page is parsed as it arrives: a query's pages are never all held at once
            warnings.extend(self._read_rest(client, label, query, first, take))
            found.stats["queries"] += 1
        if (empty or answered) and self.engine is not None:
            live = live_programme_calls(self.engine, self.name, {*found.records, *found.unchanged}, now)
            warnings.extend(empty_programme_warnings(empty, live))
            warnings.extend(thin_programme_warnings(answered, live, self.cfg.max_close_share))
        stats = {**found.stats, "unparsed": len(found.unchanged)}
        if found.skipped:
            warnings.append(malformed_warning(found.skipped))
        if found.conflicts:
            first_conflict = sorted(found.conflicts)[0][:80]
            warnings.append(f"{len(found.conflicts)} reference(s) sent more than once with different content "
                            f"(first: {first_conflict}); their calls are kept as stored")
        if not found.records and not found.unchanged and stats["results"] and \
                stats["skipped"] == stats["results"]:
            raise ParseError(self.name, "no result of the search API could be read; its format changed")
        return FetchResult(records=list(found.records.values()), complete=not warnings,
                           warning="; ".join(warnings) or None, extra=stats, raw_hashes=found.raw_hashes,
                           unchanged=found.unchanged, partial=found.conflicts, unwatched=self._unwatched(now))

    def _unwatched(self, now: datetime) -> set[str]:
        """Stored calls of a programme the config no longer lists, deadline ahead: not asked for, so
        their absence says nothing of the portal (one query over all programmes asks for every one)."""
        if not self.cfg.programmes or self.engine is None:
            return set()
        asked, table = set(self.cfg.programmes.values()), Call.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table.c.external_id, table.c.deadline, table.c.deadlines,
                                          table.c.extra)
                                .where(table.c.source == self.name, table.c.status.not_in(GONE))).all()
        return {row.external_id for row in rows if isinstance(row.extra, dict)
                and row.extra.get("programme_id") and str(row.extra["programme_id"]) not in asked
                and ((last := last_deadline(row)) is None or last >= now)}

    def replay_handler(self, recording_dir: Path) -> Callable[[httpx.Request], httpx.Response | None] | None:
        """Serve the search API from ``recording_dir`` (a ``search_<date>`` folder, or a samples root
        with ``eu_ft/search_<date>/``: the newest is used); its facets name the programmes."""
        folder = find_search_recording(recording_dir)
        if folder is None:
            return None
        recording = SediaSearchRecording(folder)
        self.programme_names = recording.programme_names()
        return recording.handler(self.url)


@dataclass
class _Found:
    """The parsed pages of a run so far, de-duplicated by reference across queries."""

    records: dict[str, CallRecord] = field(default_factory=dict)
    raw_hashes: dict[str, str] = field(default_factory=dict)
    unchanged: dict[str, str] = field(default_factory=dict)  # results sent as when their call was parsed
    conflicts: set[str] = field(default_factory=set)  # references sent twice with different content
    skipped: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("queries", "pages", "results", "stale", "duplicates", "skipped"), 0))

    def add(self, page: SediaPage) -> None:
        self.stats["pages"] += 1
        self.stats["results"] += page.results
        self.stats["stale"] += page.stale
        self.stats["duplicates"] += page.duplicates
        self.stats["skipped"] += len(page.skipped)
        self.skipped.extend(page.skipped)
        self.conflicts |= page.conflicts
        for reference, hashed in page.unchanged.items():
            if reference in self.records or reference in self.unchanged:
                self.stats["duplicates"] += 1  # also found by another programme's query
                if reference in self.records:  # parsed before: it differed from the stored one
                    self.conflicts.add(reference)
            else:
                self.unchanged[reference] = hashed
        for record in page.records:
            if record.external_id in self.records or record.external_id in self.unchanged:
                self.stats["duplicates"] += 1
                earlier = self.records.get(record.external_id)
                if earlier is None or earlier.content_hash() != record.content_hash():
                    self.conflicts.add(record.external_id)
            else:
                self.records[record.external_id] = record
                self.raw_hashes[record.external_id] = page.raw_hashes[record.external_id]


def live_programme_calls(engine: Any, source: str, seen: set[str],
                         now: datetime) -> dict[str, tuple[int, int]]:
    """Per programme id (``extra.programme_id``): its stored calls still open or forthcoming (last
    deadline ahead, or none) and how many of them the run did not see."""
    table = Call.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.external_id, table.c.deadline, table.c.deadlines,
                                      table.c.extra)
                            .where(table.c.source == source, table.c.status.not_in(GONE))).all()
    stored: Counter[str] = Counter()
    unseen: Counter[str] = Counter()
    for row in rows:
        if not isinstance(row.extra, dict):
            continue
        last = last_deadline(row)
        if last is None or last >= now:
            programme = str(row.extra.get("programme_id"))
            stored[programme] += 1
            unseen[programme] += row.external_id not in seen
    return {programme: (count, unseen[programme]) for programme, count in stored.items()}


def empty_programme_warnings(empty: list[tuple[str, str]], live: dict[str, tuple[int, int]]) -> list[str]:
    """Why a programme's empty answer cannot be the whole of it: stored calls of that programme
    that the run did not see are still open or forthcoming (``live``, :func:`live_programme_calls`). An
    empty but well-formed answer for one programme is a short answer as an empty answer of the whole
    source is (which the store never takes as complete), but the store's guard counts the share of the
    source: a small programme's calls would all be removed by two such answers. Once their deadlines
    have passed, an empty answer is the programme's true one."""
    short = [(label, live[pid][1]) for label, pid in empty if live.get(pid, (0, 0))[1]]
    if len(short) == 1:
        [(label, count)] = short
        return [f"{label}: the search answered no results although {count} stored calls of the programme "
                "are open or forthcoming; nothing closed, the next run reads it again"]
    named = ", ".join(f"{label}: {count}" for label, count in short)
    return [f"{len(short)} programmes answered no results although stored calls of them are open or "
            f"forthcoming ({named}); nothing closed, the next run reads them again"] if short else []


def thin_programme_warnings(answered: list[tuple[str, str, int]], live: dict[str, tuple[int, int]],
                            share: float) -> list[str]:
    """The store's mass-closure guard applied to each programme's query: one answering a few of its
    calls (a consistent page of 1 where 31 are open) lacks more than ``share`` of the programme's
    open or forthcoming calls, which the guard, counting the whole source, lets through to be removed
    by the next such answer."""
    found = []
    for label, pid, total in answered:
        stored, unseen = live.get(pid, (0, 0))
        if unseen > 1 and unseen > share * stored:
            results = f"{total} result{'s' if total != 1 else ''}"
            found.append(f"{label}: the search answered {results} although {stored} stored calls of the "
                         f"programme are open or forthcoming ({unseen} not in it, more than "
                         f"max_close_share={share:g} of them); nothing closed, the next run reads it again")
    return found


def malformed_warning(skipped: list[str]) -> str:
    """The malformed results of a run, counted and the first :data:`MAX_NAMED` named (page, result,
    reference, reason)."""
    named = "; ".join(skipped[:MAX_NAMED])
    more = f"; and {len(skipped) - MAX_NAMED} more" if len(skipped) > MAX_NAMED else ""
    return f"{len(skipped)} malformed result(s) skipped: {named}{more}"


@dataclass(frozen=True)
class PageRead:
    """What the consistency check keeps of a page read: its result count and references."""

    results: int
    references: frozenset[str]


def _summary(data: dict[str, Any]) -> PageRead:
    results = data["results"]
    return PageRead(len(results), frozenset(
        r["reference"] for r in results if isinstance(r, dict) and isinstance(r.get("reference"), str)))


def consistency_warnings(label: str, pages: list[PageRead], total: int, size: int,
                         count: int | None = None) -> list[str]:
    """Why the pages read of one query are not the whole result set the API declared, if they are not
    (``count``: the number of pages ``total`` makes, by default the pages read; reading stopped early,
    the page read last is not the last one, and is not told to hold what the last one would):

    - a page before the last with fewer than ``pageSize`` results, or more results on the last one
      than the declared total leaves (a short or cut answer);
    - fewer results in all than ``totalResults`` (up to the API's window);
    - references of an earlier page repeated on a later one (a server ignoring ``pageNumber``, or a
      result set reordered while it was read: either way some results were never served).

    Any of these makes the run incomplete, so nothing missing from it is closed."""
    declared = min(total, RESULT_WINDOW)
    count = len(pages) if count is None else count
    warnings: list[str] = []
    for number, page in enumerate(pages, start=1):
        got = page.results
        expected = size if number < count else declared - size * (count - 1)
        if number < count and got < size:
            warnings.append(f"page {number} of {count} ({label}) has {got} results, fewer than the page "
                            f"size {size}; the answer was cut short")
        elif number == count and got < expected:
            warnings.append(f"page {number} of {count} ({label}) has {got} results where totalResults "
                            f"{total} leaves {expected}")
        elif number == count and got > expected and total <= RESULT_WINDOW:
            # a total short of the result set: the pages after the last one it makes were never asked
            # for, and their calls looked dropped by a complete answer
            warnings.append(f"page {number} of {count} ({label}) has {got} results where totalResults "
                            f"{total} leaves {expected}; the results go on past the total, so the pages "
                            "after it were not read")
    read = sum(page.results for page in pages)
    if read < declared:
        warnings.append(f"{label}: read {read} results of the {declared} declared by totalResults")
    earlier: set[str] = set()
    for number, page in enumerate(pages, start=1):
        refs = page.references
        repeated = refs & earlier
        if repeated:
            warnings.append(f"page {number} of {count} ({label}) repeats {len(repeated)} of its "
                            f"{len(refs)} references from earlier pages (first: {sorted(repeated)[0][:80]}); "
                            "the server does not page as asked")
        earlier |= refs
    return warnings


@register("eu_ft")
def build(name: str, cfg: Any, context: BuildContext) -> EuFtAdapter:
    return EuFtAdapter(name, cfg, context)

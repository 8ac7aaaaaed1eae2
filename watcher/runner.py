"""Running sources: fetch, write, and record the outcome, with one failing source never stopping others."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.core.duplicates import relink
from pipeline.core.errors import FundradarError, SourceError
from pipeline.core.locks import JobLock
from pipeline.core.text import shorten
from watcher.http_limits import run_time_limit
from watcher.records import split_valid
from watcher.retry import one_source_run, rate_limited_advice
from watcher.sources import FetchResult, SourceAdapter
from watcher.store import MAX_CLOSE_SHARE, RunResult, begin_run, fail_run, finish_run, record_duration
from watcher.stored_links import keep_ids_across_case, stored_ids

log = logging.getLogger(__name__)

_collector_lock = threading.Lock()
_collector_pauses = 0  # runs (threads of ``serve``) now inside collector_paused()
_collector_was_enabled = False


@contextmanager
def collector_paused(active: bool = True) -> Iterator[None]:
    """CPython's cycle collector off while a source is fetched and written, on again when the last
    such run of the process ends.

    A run builds every record of the source before its one write transaction, so tens of thousands of
    objects stay alive until it ends; each full collection walks all of them and finds next to nothing
    (the parse and the write make a few cycles per page, about one object per result). Those walks
    were a seventh of a 100,000-result sync, and one falling inside a 731-result sync cost as much as
    a third of it. Memory is still freed by reference counting as always; the few cycles wait until
    the run ends."""
    global _collector_pauses, _collector_was_enabled
    if not active:
        yield
        return
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_enabled:
                gc.enable()


def describe_exception(source: str, exc: BaseException) -> str:
    """One readable line for any failure of a source."""
    if isinstance(exc, SourceError):
        return str(exc).removeprefix(f"source {source!r}: ")
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out contacting {exc.request.url if exc.request else 'the source'}; try again later"
    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 429:
        return (f"HTTP 429 from {exc.request.url}; "
                f"{rate_limited_advice(exc.response.headers.get('retry-after'))}")
    if isinstance(exc, httpx.HTTPStatusError):
        return (f"HTTP {exc.response.status_code} from {exc.request.url}; the source is failing, "
                "try again later")
    if isinstance(exc, httpx.HTTPError):
        return f"cannot reach the source ({type(exc).__name__}: {exc}); check the URL and the network"
    if isinstance(exc, FundradarError):
        return str(exc)
    if isinstance(exc, sa.exc.DBAPIError):
        orig = exc.orig if exc.orig is not None else exc
        detail = shorten(str(orig) or type(orig).__name__, 200)
        return (f"the database refused the write ({type(orig).__name__}: {detail}); nothing of this run "
                "was stored")
    return f"unexpected {type(exc).__name__}: {shorten(str(exc), 200)}"


def run_source(engine: Engine, adapter: SourceAdapter, client: httpx.Client, now: datetime) -> RunResult:
    """Fetch and store one source; a failure is recorded in its fetch run and returned, not raised.

    Every run holds the source's run lock while it lasts (a flock or pg advisory lock, released by the
    kernel or the server when a process dies). A run that gets it knows no other run of the source is
    alive, so a run row still "running" is a leftover of a killed process, and begin_run marks it. A run
    that does not get it (a ``fundradar sync`` beside ``serve``) still runs; it only leaves the
    leftovers to the next one.
    """
    lock = JobLock(engine, f"run:{adapter.name}")
    started = time.monotonic()
    # only sources that say so: a BeautifulSoup tree is a web of reference cycles (parent and child
    # links), so with the collector off every page a scraper parses stays in memory until the run ends
    # (about 1 MB per 90 KB call page); the SEDIA source builds records from JSON, without such cycles
    with collector_paused(getattr(adapter, "pauses_collector", False)):
        try:
            run_id = begin_run(engine, adapter.name, now, type_=adapter.type, url=adapter.url,
                               alone=lock.acquire())
            cfg = getattr(adapter, "cfg", None)
            minutes = getattr(cfg, "max_run_minutes", None)
            try:
                with run_time_limit(minutes * 60 if minutes else None), one_source_run():
                    fetched = adapter.fetch(client, now)
            except Exception as exc:  # every failure of one source is reported, none stops the others
                message = describe_exception(adapter.name, exc)
                log.warning("source %s failed: %s", adapter.name, message)
                result = fail_run(engine, run_id, message, now)
            else:
                result = _store(engine, adapter, run_id, fetched, now)
                del fetched  # its records go now, before the collector is back
            record_duration(engine, run_id, time.monotonic() - started)
            return result
        finally:
            lock.release()


def _store(engine: Engine, adapter: SourceAdapter, run_id: int, fetched: FetchResult,
           now: datetime) -> RunResult:
    """Write a fetched run. Records whose values cannot be stored are skipped and named (the run is
    then incomplete: a skipped call must not be closed); a store error fails this run only, with its
    row marked failed, so the sources after it still run."""
    records, bad = split_valid(fetched.records)
    warnings = [w for w in [fetched.warning] if w]
    if bad:
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        warnings.append(f"{len(bad)} malformed record(s) skipped: {'; '.join(bad[:5])}{more}")
    cfg = getattr(adapter, "cfg", None)
    try:
        records, renamed = keep_ids_across_case(records, stored_ids(engine, adapter.name))
        raw_hashes, partial = fetched.raw_hashes, fetched.partial
        if renamed:  # what the fetch keyed by the id as sent is keyed by the stored call's id
            raw_hashes = {renamed.get(key, key): value for key, value in (raw_hashes or {}).items()}
            partial = {renamed.get(key, key) for key in partial}
        result = finish_run(engine, run_id, records, now, complete=fetched.complete and not bad,
                            warning="; ".join(warnings) or None, pages=fetched.pages,
                            max_close_share=getattr(cfg, "max_close_share", MAX_CLOSE_SHARE),
                            max_close=getattr(cfg, "max_close", None), raw_hashes=raw_hashes,
                            unchanged=fetched.unchanged, partial=partial, unwatched=fetched.unwatched)
    except Exception as exc:  # nothing of the run was written (one transaction); the run row says why
        message = f"storing the run failed: {describe_exception(adapter.name, exc)}"
        log.warning("source %s failed: %s", adapter.name, message)
        return fail_run(engine, run_id, message, now)
    if result.outcome == "suspicious":
        log.warning("source %s is suspicious: %s", adapter.name, result.error)
    _relink_duplicates(engine, adapter.name)
    return result


def _relink_duplicates(engine: Engine, source: str) -> None:
    """Link the calls this run stored to other sources' copies of them (pipeline.core.duplicates). A
    failure keeps the links the previous run wrote (listing a call twice until the next run), and
    fails nothing: the run's calls are stored."""
    try:
        with engine.begin() as connection:
            relink(connection)
    except Exception as exc:
        log.warning("source %s: linking its calls to other sources' copies failed (the next run tries "
                    "again): %s", source, describe_exception(source, exc))


"""Running sources: fetch, write, and record the outcome, with one failing source never stopping others."""

from __future__ import annotations

import logging
import time
from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from pipeline.core.errors import FundradarError, SourceError
from pipeline.core.locks import JobLock
from watcher.sources import SourceAdapter
from watcher.store import RunResult, begin_run, fail_run, finish_run, record_duration

log = logging.getLogger(__name__)


def describe_exception(source: str, exc: BaseException) -> str:
    """One readable line for any failure of a source."""
    if isinstance(exc, SourceError):
        return str(exc).removeprefix(f"source {source!r}: ")
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out contacting {exc.request.url if exc.request else 'the source'}; try again later"
    if isinstance(exc, httpx.HTTPStatusError):
        return (f"HTTP {exc.response.status_code} from {exc.request.url}; the source is failing, "
                "try again later")
    if isinstance(exc, httpx.HTTPError):
        return f"cannot reach the source ({type(exc).__name__}: {exc}); check the URL and the network"
    if isinstance(exc, FundradarError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


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
    try:
        run_id = begin_run(engine, adapter.name, now, type_=adapter.type, url=adapter.url,
                           alone=lock.acquire())
        try:
            fetched = adapter.fetch(client, now)
        except Exception as exc:  # every failure of one source is reported, none stops the others
            message = describe_exception(adapter.name, exc)
            log.warning("source %s failed: %s", adapter.name, message)
            result = fail_run(engine, run_id, message, now)
        else:
            result = finish_run(engine, run_id, fetched.records, now, complete=fetched.complete,
                                warning=fetched.warning, pages=fetched.pages)
        record_duration(engine, run_id, time.monotonic() - started)
        return result
    finally:
        lock.release()

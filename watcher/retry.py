"""Retries of the watcher's requests: :class:`RetryTransport`, an httpx transport wrapped around the real
one (or a replay transport), retrying failed connections, timeouts, 429 and 5xx with backoff and
``Retry-After``; and what the request being sent in a thread learnt of its retries, for its message
(:mod:`watcher.http` words the failures).

httpx itself only retries failed *connections* (``HTTPTransport(retries=…)``) and none of the kept
libraries retries on status codes, so the status-based part is written here.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx

from pipeline.core.text import wait_text
from watcher.http_limits import REQUEST_DEADLINE, attempt_deadline, rest, run_limit, stop_asked
from watcher.proxies import ProxyUnusable

log = logging.getLogger("watcher.http")  # the retries' lines go with the client's (watcher.http)
# the wait a retry of the request being sent in this thread would have needed, where it would have passed
# the source run's time limit (None when no retry was cut so)
CUT: contextvars.ContextVar[float | None] = contextvars.ContextVar("fundradar_cut", default=None)
# whether a retry of the request being sent in this thread was not sent because the process is stopping
STOPPED: contextvars.ContextVar[bool] = contextvars.ContextVar("fundradar_stopped", default=False)
STOPPING = "fundradar serve is stopping"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for a longer wait gets its error reported instead
# the retries the request being sent in this thread made, and whether they were skipped because its
# host had failed after its retries before (None outside a RetryTransport)
RETRIED: contextvars.ContextVar[tuple[int, bool] | None] = contextvars.ContextVar("fundradar_retried",
                                                                                    default=None)
# the hosts that failed a request after its retries in the source run fetching in this thread (None
# outside one: the client's own set then); see RetryTransport
_FAILING: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("fundradar_failing", default=None)


@contextlib.contextmanager
def one_source_run() -> Iterator[None]:
    """The requests sent in this thread inside the block are one source's run: a host that failed after
    its retries before it, in another source's run on the same client, still gets its retries here."""
    token = _FAILING.set(set())
    try:
        yield
    finally:
        _FAILING.reset(token)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def rate_limited_advice(retry_after: str | None) -> str:
    """What a 429 that outlasted its retries says to do: the source limits how often it is asked (not
    failing), and its ``Retry-After``, when it gave one, says when it answers again."""
    wait = retry_after_seconds(retry_after)
    when = f"in {wait_text(round(wait))} (its Retry-After)" if wait is not None and wait >= 1 else \
        "later" if wait is not None else "later (it gave no Retry-After)"
    return f"the source is rate-limiting these requests (too many requests), try again {when}"


class RetryTransport(httpx.BaseTransport):
    """Retries a request on connection errors and timeouts, 429 and 5xx, with exponential backoff.

    ``Retry-After`` is honoured (up to ``max_retry_after`` seconds); otherwise the wait is
    ``backoff * 2**attempt`` capped at ``max_backoff``. After the last retry the last response is
    returned (so the caller sees the real status) or the last transport error is raised.

    A host that failed a request after all its retries gets no retries for its next requests on this
    client, until it answers one well: a rate limiter or an outage answering every call page of a
    listing held a run for pages x retries x Retry-After (hours), the other sources waiting. Inside
    :func:`one_source_run` this holds within that source's run only: one source's path down is no
    reason to refuse another source on the same host its retries.
    """

    def __init__(self, inner: httpx.BaseTransport, *, retries: int = 3, backoff: float = 1.0,
                 max_backoff: float = 30.0, max_retry_after: float = MAX_RETRY_AFTER,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner, self.retries, self.backoff = inner, retries, backoff
        self.max_backoff, self.max_retry_after, self.sleep = max_backoff, max_retry_after, sleep
        self.failing: set[str] = set()  # hosts whose last request failed after its retries

    def _wait(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if response is not None and "retry-after" in response.headers:
            asked = retry_after_seconds(response.headers["retry-after"])
            if asked is not None:
                return asked if asked <= self.max_retry_after else None
        return min(self.backoff * (2 ** attempt), self.max_backoff)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a multipart or streamed body must be replayable for a retry
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        host = request.url.host
        failing = _FAILING.get()
        if failing is None:
            failing = self.failing
        skipped = bool(self.retries) and host in failing
        retries = 0 if skipped else self.retries
        attempt = 0
        while True:
            RETRIED.set((attempt, skipped))
            # each attempt, its body included, must finish within its total limit and its run's time
            REQUEST_DEADLINE.set(attempt_deadline(read_timeout))
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as exc:
                wait = self._wait(attempt, None)
                if isinstance(exc, ProxyUnusable):
                    raise
                if _stopping(attempt < retries):
                    raise
                if attempt >= retries or _cut_by_run_limit(wait):
                    if self.retries:
                        failing.add(host)
                    raise
                log.info("%s %s failed (%s); retry %d of %d in %.1fs", request.method, request.url,
                         type(exc).__name__, attempt + 1, retries, wait)
            else:
                if response.status_code not in RETRY_STATUSES:
                    failing.discard(host)
                    return response
                if attempt >= retries:
                    if self.retries:
                        failing.add(host)
                    return response
                wait = self._wait(attempt, response)
                if wait is None or _stopping() or _cut_by_run_limit(wait):
                    return response
                response.read()
                response.close()
                log.info("%s %s answered %d; retry %d of %d in %.1fs", request.method, request.url,
                         response.status_code, attempt + 1, retries, wait)
            assert wait is not None
            rest(wait, self.sleep)
            attempt += 1

    def close(self) -> None:
        self.inner.close()


def _stopping(retry: bool = True) -> bool:
    """The process is stopping, so a retry is not sent (noted for the request's message when one was
    due)."""
    if not stop_asked():
        return False
    if retry:
        STOPPED.set(True)
    return True


def run_ends_within(wait: float) -> bool:
    """The source run's time is up before a retry after ``wait`` seconds could be sent."""
    limit = run_limit()
    return limit is not None and limit.passed(after=wait)


def _cut_by_run_limit(wait: float) -> bool:
    """:func:`run_ends_within`, noting the wait not waited for the request's message."""
    if not run_ends_within(wait):
        return False
    CUT.set(wait)
    return True

"""Time limits of the watcher's requests, kept by the connections themselves (httpx has no total
timeout): each attempt of a request must finish within :data:`TOTAL_TIMEOUT_FACTOR` times its timeout,
and every request of a source's run within the run's own limit (:func:`run_time_limit`,
``max_run_minutes``), so neither a dripping answer nor a source slow on every page holds a sync whose
other sources wait their turn.

    with run_time_limit(15 * 60):
        adapter.fetch(client, now)  # a request the limit cuts off, or one after it, is a FetchError
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

# httpx's timeouts bound each network operation, so a server dripping a byte every few seconds never
# trips them; every attempt of a request (connecting, headers and body) also gets a total limit of this
# many times its timeout.
TOTAL_TIMEOUT_FACTOR = 3
# the total limit of the request being sent in this thread (a time.monotonic() moment), if any
REQUEST_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("fundradar_deadline",
                                                                                default=None)


def _remaining(timeout: float | None) -> float | None:
    """``timeout`` cut to what is left of the request's total limit; httpcore.ReadTimeout when none is."""
    deadline = REQUEST_DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's total time limit passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most what is left of the request's total limit,
    so a server dripping its status line and headers is cut off too, not only one dripping its body."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with :class:`_DeadlineStream` connections. Written here because httpx
    has no total timeout and its transport takes no network backend, so this one is set on its pool."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.connect_tcp(host, port, _remaining(timeout), local_address,
                                                      socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.inner.connect_unix_socket(path, _remaining(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def with_total_limit(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    pool = getattr(transport, "_pool", None)
    if pool is not None and hasattr(pool, "_network_backend"):
        pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport




@dataclass(frozen=True)
class RunLimit:
    """The end of a source run's time (a ``time.monotonic()`` moment) and its length in seconds."""

    ends: float
    seconds: float

    def passed(self, after: float = 0.0) -> bool:
        """The run's time is up now, or will be ``after`` seconds from now."""
        return time.monotonic() + after >= self.ends

    @property
    def text(self) -> str:
        minutes = self.seconds / 60
        if minutes >= 1 and minutes == int(minutes):
            return f"{minutes:g} min"
        return f"{round(self.seconds, 1):g} s"


# the time limit of the source run fetching in this thread, if any
_RUN_LIMIT: contextvars.ContextVar[RunLimit | None] = contextvars.ContextVar("fundradar_run_limit",
                                                                             default=None)


@contextlib.contextmanager
def run_time_limit(seconds: float | None) -> Iterator[None]:
    """Every request sent in this thread inside the block ends by ``seconds`` from now (None: no limit)."""
    token = _RUN_LIMIT.set(RunLimit(time.monotonic() + seconds, seconds) if seconds else None)
    try:
        yield
    finally:
        _RUN_LIMIT.reset(token)


def run_limit() -> RunLimit | None:
    """The time limit of the source run fetching in this thread, if any."""
    return _RUN_LIMIT.get()


def attempt_deadline(timeout: float | None) -> float | None:
    """The moment an attempt of a request with this (read) ``timeout`` must end: its total limit, or the
    end of its run's time when that comes first."""
    ends = [time.monotonic() + TOTAL_TIMEOUT_FACTOR * timeout] if timeout else []
    limit = _RUN_LIMIT.get()
    if limit is not None:
        ends.append(limit.ends)
    return min(ends) if ends else None


# the event a process stopping (``fundradar serve`` on SIGTERM) sets, for the requests sent in this thread
_STOP: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("fundradar_stop", default=None)


@contextlib.contextmanager
def stopped_by(event: threading.Event) -> Iterator[None]:
    """Once ``event`` is set, the requests sent in this thread inside the block are not retried and no
    new one is sent (:func:`stop_asked`): a stop waits for the answer in flight only, not for the retries
    and pages after it, which held it for minutes and had the supervisor kill the process."""
    token = _STOP.set(event)
    try:
        yield
    finally:
        _STOP.reset(token)


def stop_asked() -> bool:
    """Whether the process sending the requests of this thread is stopping."""
    event = _STOP.get()
    return event is not None and event.is_set()


def rest(seconds: float, sleep: Callable[[float], None]) -> None:
    """Wait ``seconds`` before a retry, cut short when the process stops (:func:`stopped_by`)."""
    event = _STOP.get()
    if event is None:
        sleep(seconds)
    else:
        event.wait(seconds)

"""The one HTTP client of the watcher: timeouts, retries with backoff, a connection limit, an honest
User-Agent, size-limited bodies, and one readable line for every failure.

    with make_client(timeout=30) as client:
        text = fetch_text(client, "https://interreg-baltic.eu/feed/", source="interreg_bsr_news")

Retries are an httpx transport (:class:`watcher.retry.RetryTransport`) wrapped around the real one
(or around a replay transport in tests and ``--replay``); this module words what they leave failing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Collection, Iterator
from typing import Any

import httpx

from pipeline.core.errors import FetchError
from pipeline.core.text import NOT_A_HOST_NAME, host_name_ok, wait_text
from watcher.compression import check_encoding, decoded_to_the_end
from watcher.connect_errors import connect_failure, protocol_failure
from watcher.encoding import decode_text
from watcher.http_limits import REQUEST_DEADLINE, rest, run_limit, stop_asked, with_total_limit
from watcher.proxies import ProxyRouting
from watcher.retry import (  # noqa: F401 (RetryTransport, retry_after_seconds, one_source_run: read here too)
    CUT,
    MAX_RETRY_AFTER,
    RETRIED,
    RETRY_STATUSES,
    STOPPED,
    STOPPING,
    RetryTransport,
    one_source_run,
    rate_limited_advice,
    retry_after_seconds,
    run_ends_within,
)
from watcher.urls import inside_network

log = logging.getLogger(__name__)

USER_AGENT = "fundradar/0.1 (EU funding call watcher for Danish cluster organisations; python-httpx)"
DEFAULT_MAX_BYTES = 20_000_000

def make_client(*, transport: httpx.BaseTransport | None = None, timeout: float = 30, retries: int = 3,
                max_connections: int = 4, user_agent: str | None = None, backoff: float = 1.0,
                max_retry_after: float = MAX_RETRY_AFTER) -> httpx.Client:
    """An httpx.Client with timeouts, retries (see :class:`RetryTransport`), at most
    ``max_connections`` connections, redirects followed, the environment's proxies used
    (:class:`~watcher.proxies.ProxyRouting`) and an honest User-Agent."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    inner = transport if transport is not None else ProxyRouting(
        with_total_limit(httpx.HTTPTransport(limits=limits)),
        lambda proxy: with_total_limit(httpx.HTTPTransport(limits=limits, proxy=proxy)))
    return httpx.Client(
        transport=RetryTransport(inner, retries=retries, backoff=backoff, max_retry_after=max_retry_after),
        timeout=httpx.Timeout(timeout), follow_redirects=True, limits=limits,
        headers={"User-Agent": user_agent or USER_AGENT})


def read_limited(response: httpx.Response, limit_bytes: int, source: str, *,
                 what: str | None = None, deadline: float | None = None) -> bytes:
    """The body of a (streamed) response, refusing more than ``limit_bytes``; FetchError when larger,
    or when it is still arriving at ``deadline`` (a ``time.monotonic()`` moment)."""
    try:
        label = what or str(response.request.url)
    except RuntimeError:  # a response built without a request
        label = what or "the response"
    declared = response.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit_bytes:
        raise FetchError(source, f"{label} is {int(declared):,} bytes, more than the limit of "
                                 f"{limit_bytes:,}; refusing to read it")
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit_bytes:
                raise FetchError(source, f"{label} sent more than {limit_bytes:,} bytes; refusing to read "
                                         "the rest")
            chunks.append(chunk)
            if deadline is not None and time.monotonic() > deadline:
                raise _late(source, label)
    except httpx.DecodingError as exc:  # the bytes arrived whole; what they say is no such compression
        coding = " ".join(response.headers.get("content-encoding", "").split())[:40] or "compressed"
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FetchError(source, f"{label} was sent as {coding} but does not decompress ({detail}); the site "
                                 "sent it broken, try again later or report it to the site") from None
    if response.num_bytes_downloaded and not decoded_to_the_end(response):
        raise FetchError(source, f"{label} was cut short: its compressed body ends before the compressed "
                                 "data does; try again later")
    return b"".join(chunks)


def _late(source: str, label: str) -> FetchError:
    """A request cut off at its total limit: the source run's, when its time is up, else its own."""
    limit = run_limit()
    if limit is not None and limit.passed():
        return FetchError(source, f"{label} was still arriving when the run of the source reached its limit "
                                  f"of {limit.text} (max_run_minutes); the rest is read on the next run, "
                                  "raise max_run_minutes if the source is only slow")
    return FetchError(source, f"{label} was still arriving after its total time limit (a slow, dripping "
                              "answer); try again later or raise timeout_seconds")


def request_bytes(client: httpx.Client, method: str, url: str, *, source: str,
                  max_bytes: int = DEFAULT_MAX_BYTES, what: str | None = None, **kwargs: Any) -> bytes:
    """Send one request and return its body; FetchError with one readable line on any failure.

    ``what`` names the request in messages (e.g. "page 5 of 8 of Horizon Europe"); the URL otherwise.
    """
    return _request(client, method, url, source=source, max_bytes=max_bytes, what=what, **kwargs)[0]


# redirects followed for a request limited to its own host (httpx's own limit for the others is 20)
MAX_SAME_HOST_REDIRECTS = 10


def _host(url: httpx.URL | str) -> str:
    return httpx.URL(url).host.lower().removeprefix("www.")


class _BrokeOff(Exception):
    """The answer's body broke off (the connection reset or timed out after the headers)."""

    def __init__(self, cause: httpx.TransportError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _request(client: httpx.Client, method: str, url: str, *, source: str, max_bytes: int,
             what: str | None = None, hosts: Collection[str] | None = None,
             **kwargs: Any) -> tuple[bytes, httpx.Headers, str]:
    """``hosts``: follow redirects only to these hosts (``www.`` aside); one elsewhere is not
    requested at all and fails the request (a funder's call page sending the scraper to another site,
    or to an address inside the network, is not the funder's page). Returns the body, the headers and
    the URL that answered (after redirects).

    A body that breaks off is retried as the client's RetryTransport retries a failed connection: the
    transport has handed the response over by then, so it cannot see the body fail."""
    label = what or url
    transport = _transport(client)
    retries = transport.retries if isinstance(transport, RetryTransport) else 0
    attempt = 0
    while True:
        try:
            return _request_once(client, method, url, source=source, max_bytes=max_bytes, label=label,
                                 hosts=hosts, **kwargs)
        except _BrokeOff as broke:
            exc = broke.cause
            wait = transport._wait(attempt, None) if attempt < retries else 0.0
            stopping = attempt < retries and stop_asked()
            if attempt >= retries or stopping or run_ends_within(wait):
                # the retries counted are this loop's own: the transport's count is of its connection
                # attempts, which all succeeded here
                tries = f" (after {attempt} retr{'y' if attempt == 1 else 'ies'})" if attempt else ""
                if stopping:
                    tries = f" (not retried: {STOPPING})"
                if isinstance(exc, httpx.TimeoutException):
                    raise FetchError(source, f"timed out reading {label}{tries}; try again later or "
                                             "raise timeout_seconds") from None
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise FetchError(source, f"cannot fetch {label} ({type(exc).__name__}: {detail})"
                                         f"{tries}; try again later") from None
            log.info("%s %s broke off (%s); retry %d of %d in %.1fs", method, url, type(exc).__name__,
                     attempt + 1, retries, wait)
            rest(wait, transport.sleep)
            attempt += 1


def _request_once(client: httpx.Client, method: str, url: str, *, source: str, max_bytes: int, label: str,
                  hosts: Collection[str] | None, **kwargs: Any) -> tuple[bytes, httpx.Headers, str]:
    limit = run_limit()
    if limit is not None and limit.passed():
        raise FetchError(source, f"{label} was not read: the run of the source reached its limit of "
                                 f"{limit.text} (max_run_minutes) first; the rest is read on the next run, "
                                 "raise max_run_minutes if the source is only slow")
    if stop_asked():
        raise FetchError(source, f"{label} was not read: {STOPPING}; it is read on its next run")
    token = REQUEST_DEADLINE.set(None)  # each attempt of the RetryTransport sets its own
    retried = RETRIED.set(None)
    cut = CUT.set(None)
    stopped = STOPPED.set(False)
    try:
        with _stream(client, method, url, source=source, label=label, hosts=hosts, **kwargs) as response:
            if response.status_code >= 400:
                asked = _long_wait(client, response)
                if asked is not None:  # RetryTransport gave up at once: no retry was made
                    raise FetchError(source, f"HTTP {response.status_code} from {label}, asking to wait "
                                             f"{wait_text(asked)} (Retry-After), longer than the "
                                             f"{_transport(client).max_retry_after:g} s a run waits; try "
                                             "again later")
                moved = _redirected(url, response)
                if moved and response.request.method != method.upper():
                    raise FetchError(source, f"HTTP {response.status_code} from {label}{moved} and asked "
                                             f"there with {response.request.method} (a 301, 302 or 303 "
                                             f"redirect drops a {method.upper()}'s body); set the source's "
                                             f"url to {moved.removeprefix(', redirected to ')}")
                raise FetchError(source, f"HTTP {response.status_code} from {label}{moved}"
                                         f"{_status_advice(client, response)}")
            if response.status_code == 304:  # an answer to a conditional request, which is never sent
                raise FetchError(source, f"HTTP 304 (not modified) from {label}, an answer to a question "
                                         "fundradar did not ask (it sends no If-Modified-Since or "
                                         "If-None-Match): a cache or proxy on the way answers wrongly; try "
                                         "again later")
            if 300 <= response.status_code < 400:  # a redirect httpx could not follow: no Location
                raise FetchError(source, f"HTTP {response.status_code} from {label} without a Location to "
                                         "follow; the page is not there as asked, check the URL")
            check_encoding(response, source, label)
            try:
                body = read_limited(response, max_bytes, source, what=label, deadline=REQUEST_DEADLINE.get())
            except httpx.TransportError as exc:
                deadline = REQUEST_DEADLINE.get()
                if isinstance(exc, httpx.TimeoutException) and deadline is not None \
                        and time.monotonic() >= deadline:
                    raise  # a dripping answer over its total limit: not worth another wait
                raise _BrokeOff(exc) from None
            return body, response.headers, str(response.url)
    except httpx.TimeoutException:
        deadline = REQUEST_DEADLINE.get()
        if deadline is not None and time.monotonic() >= deadline:
            raise _late(source, label) from None
        raise FetchError(source, f"timed out fetching {label}{_tries(client)}; try again later or raise "
                                 "timeout_seconds") from None
    except httpx.InvalidURL as exc:  # not an httpx.HTTPError: "http://[::1", a port of 99999
        if _fetchable(url):  # the URL asked for is fine: the Location of a redirect is not
            raise FetchError(source, f"{label} redirects to an address that cannot be fetched ({exc}); the "
                                     "site's redirect is broken, try again later or report it to the site") \
                from None
        raise FetchError(source, f"{label} is not a URL that can be fetched ({exc}); check the URL") \
            from None
    except httpx.UnsupportedProtocol as exc:
        try:
            target: httpx.URL | None = exc.request.url
        except RuntimeError:  # an error raised without its request
            target = None
        if target is not None and _fetchable(url) and target != httpx.URL(url):
            raise FetchError(source, _other_scheme(label, target)) from None
        raise FetchError(source, f"{label} is not an http or https address; check the URL") from None
    except UnicodeError:  # the socket's IDNA encoding of a host name that is none (httpx lets it through)
        if _fetchable(url) and host_name_ok(httpx.URL(url).host):
            raise FetchError(source, f"{label} redirects to an address whose host name is not one "
                                     f"({NOT_A_HOST_NAME}); the site's redirect is broken, try again later "
                                     "or report it to the site") from None
        raise FetchError(source, f"{label} is not a URL that can be fetched (its host name is not one: "
                                 f"{NOT_A_HOST_NAME}); check the URL") from None
    except httpx.TooManyRedirects:
        raise FetchError(source, f"redirect loop at {label} (more than {client.max_redirects} redirects); "
                                 "check the source's URL") from None
    except httpx.HTTPError as exc:
        said = None
        if isinstance(exc, httpx.ProxyError):
            said = (f"cannot fetch {label}: {exc}{_tries(client)}; check the proxy variable, or name the "
                    "host in NO_PROXY if it is reached without the proxy")
        elif isinstance(exc, httpx.ConnectError):
            said = connect_failure(label, exc, _tries(client))
        elif isinstance(exc, httpx.RemoteProtocolError):
            said = protocol_failure(label, exc, _tries(client))
        if said is not None:
            raise FetchError(source, said) from None
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FetchError(source, f"cannot fetch {label} ({type(exc).__name__}: {detail}); check the URL "
                                 "and the network") from None
    finally:
        REQUEST_DEADLINE.reset(token)
        RETRIED.reset(retried)
        CUT.reset(cut)
        STOPPED.reset(stopped)


@contextlib.contextmanager
def _stream(client: httpx.Client, method: str, url: str, *, source: str, label: str,
            hosts: Collection[str] | None, **kwargs: Any) -> Iterator[httpx.Response]:
    """``client.stream`` with its redirects followed here, each checked before it is sent (httpx's
    ``follow_redirects`` would send it first): only to http(s), with ``hosts`` only to those, and from
    an address outside this machine's network never into it (a public site's redirect to 127.0.0.1 or
    169.254.169.254 would have the watcher read a service of its own machine or network)."""
    allowed = None if hosts is None else {host.lower().removeprefix("www.") for host in hosts}
    most = client.max_redirects if hosts is None else MAX_SAME_HOST_REDIRECTS
    request = client.build_request(method, url, **kwargs)
    outside = not inside_network(request.url.host)
    for _ in range(most + 1):
        response = client.send(request, stream=True, follow_redirects=False)
        if not response.is_redirect or response.next_request is None:
            try:
                yield response
            finally:
                response.close()
            return
        response.close()
        request = response.next_request
        if request.url.scheme not in ("http", "https"):
            raise FetchError(source, _other_scheme(label, request.url))
        if allowed is not None and _host(request.url) not in allowed:
            raise FetchError(source, f"{label} redirects to another host ({request.url.host}); only pages "
                                     f"on {', '.join(sorted(allowed))} are read for this source")
        if outside and inside_network(request.url.host):
            raise FetchError(source, f"{label} redirects to {request.url}, an address of this machine or its "
                                     f"private network; a redirect there from {httpx.URL(url).host} is not "
                                     "followed (it would reach services that are not the source's), check "
                                     "the source's URL")
    if allowed is None:
        raise FetchError(source, f"redirect loop at {label} (more than {client.max_redirects} redirects); "
                                 "check the source's URL")
    raise FetchError(source, f"{label} redirects more than {MAX_SAME_HOST_REDIRECTS} times; check the URL")


def _redirected(url: str, response: httpx.Response) -> str:
    """", redirected to URL" for an answer from another address than the one asked (after redirects);
    its query left out when the address asked had none (the request's own parameters)."""
    try:
        asked = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return ""
    final = response.url
    if (final.scheme, final.host, final.port, final.path) == \
            (asked.scheme, asked.host, asked.port, asked.path):
        return ""
    return f", redirected to {final if asked.query else final.copy_with(query=None)}"


def _fetchable(url: str) -> bool:
    """Whether ``url`` is an http or https URL httpx can send."""
    try:
        return httpx.URL(url).scheme in ("http", "https")
    except (httpx.InvalidURL, TypeError):
        return False


def _other_scheme(label: str, target: httpx.URL) -> str:
    return (f"{label} redirects to {target}, which is not an http or https address; only web pages are "
            "read, check the source's URL")


def _transport(client: httpx.Client) -> Any:
    return getattr(client, "_transport", None)


def _status_advice(client: httpx.Client, response: httpx.Response) -> str:
    """What an error status says to do: a retried 429 is the source limiting how often it is asked, a
    retried server error the source failing for now; another client error (404, 410, 403 …) is not
    retried and will not pass by itself."""
    status = response.status_code
    if status == 429:
        return f"{_tries(client)}; {rate_limited_advice(response.headers.get('retry-after'))}"
    if status in RETRY_STATUSES:
        return f"{_tries(client)}; the source is failing, try again later"
    if status in (404, 410):
        return " (the page is not there); check the URL, the page may have moved"
    return " (not retried: the server refuses this request); check the URL and the source config"


def _tries(client: httpx.Client) -> str:
    if STOPPED.get():
        return f" (not retried: {STOPPING})"
    cut, limit = CUT.get(), run_limit()
    if cut is not None and limit is not None:
        return (f" (not retried: its wait of {wait_text(cut)} would pass the run's limit of {limit.text}, "
                "max_run_minutes)")
    retried = RETRIED.get()
    if retried is not None and retried[1]:
        return " (not retried: the host failed so after its retries earlier in this run)"
    retries = retried[0] if retried is not None else getattr(_transport(client), "retries", 0)
    return f" (after {retries} retr{'y' if retries == 1 else 'ies'})" if retries else ""


def _long_wait(client: httpx.Client, response: httpx.Response) -> float | None:
    """The Retry-After of a retryable answer that the client's RetryTransport would not wait for."""
    transport = _transport(client)
    if not isinstance(transport, RetryTransport) or transport.retries == 0 or \
            response.status_code not in RETRY_STATUSES:
        return None
    asked = retry_after_seconds(response.headers.get("retry-after"))
    return asked if asked is not None and asked > transport.max_retry_after else None


def fetch_text(client: httpx.Client, url: str, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES,
               timeout: float | None = None, hosts: Collection[str] | None = None) -> str:
    """GET ``url`` and decode it (:func:`watcher.encoding.decode_text`: the HTTP charset, else the
    document's declared encoding, else detection; NFC); FetchError on any failure.

    ``timeout`` (the source's ``timeout_seconds``) overrides the client's for this request;
    ``hosts`` limits the redirects followed to those hosts (:func:`_request`)."""
    return fetch_page(client, url, source=source, max_bytes=max_bytes, timeout=timeout, hosts=hosts)[0]


def fetch_page(client: httpx.Client, url: str, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES,
               timeout: float | None = None, hosts: Collection[str] | None = None) -> tuple[str, str]:
    """:func:`fetch_text`, and the URL that answered it after redirects."""
    text, final, _ = fetch_typed(client, url, source=source, max_bytes=max_bytes, timeout=timeout,
                                 hosts=hosts)
    return text, final


def fetch_typed(client: httpx.Client, url: str, *, source: str, max_bytes: int = DEFAULT_MAX_BYTES,
                timeout: float | None = None, hosts: Collection[str] | None = None) -> tuple[str, str, str]:
    """:func:`fetch_page`, and the answer's Content-Type ("" when it sent none)."""
    extra: dict[str, Any] = {"timeout": timeout} if timeout else {}
    body, headers, final = _request(client, "GET", url, source=source, max_bytes=max_bytes, hosts=hosts,
                                    **extra)
    kind = headers.get("content-type") or ""
    return decode_text(body, kind), final, kind

"""The proxies of the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, ``NO_PROXY``), as
httpx reads them for a client of its own transport: a client given a transport (as the watcher's is, for
its retries and limits) is sent past them, straight to the funder's site, which a network reaching out
only through its proxy never answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from httpx._utils import URLPattern, get_environment_proxies  # httpx's own reading of the variables

# the variable a pattern of get_environment_proxies() came from
_VARIABLE = {"http://": "HTTP_PROXY", "https://": "HTTPS_PROXY", "all://": "ALL_PROXY"}


class ProxyUnusable(httpx.ProxyError):
    """A proxy variable httpx cannot use (a scheme it does not speak, SOCKS without its package): a
    setting, which no retry mends."""


def shown(proxy: httpx.URL) -> str:
    """The proxy's address without its user name and password (they are a secret)."""
    return f"{proxy.scheme}://{proxy.host}" + (f":{proxy.port}" if proxy.port else "")


class ProxyRouting(httpx.BaseTransport):
    """Sends each request through the environment's proxy for its URL (none for a host in
    ``NO_PROXY``), each proxy through a transport of its own made by ``make``."""

    def __init__(
        self, direct: httpx.BaseTransport, make: Callable[[httpx.Proxy], httpx.BaseTransport]
    ) -> None:
        self.direct = direct
        self.routes: list[tuple[URLPattern, httpx.BaseTransport | str | None, str]] = []
        for pattern, url in get_environment_proxies().items():
            said = f"{shown(httpx.URL(url))} (from {_VARIABLE.get(pattern, 'NO_PROXY')})" if url else ""
            self.routes.append((URLPattern(pattern), _transport(make, url) if url else None, said))
        self.routes.sort(key=lambda route: route[0])  # the most specific pattern first, as httpx does

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for pattern, transport, said in self.routes:
            if pattern.matches(request.url):
                if transport is None:
                    break
                if isinstance(transport, str):  # each source fails in one line; the others still run
                    raise ProxyUnusable(f"the proxy {said} cannot be used: {transport}", request=request)
                try:
                    return transport.handle_request(request)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise httpx.ProxyError(
                        f"the proxy {said} cannot be reached ({detail})", request=request
                    ) from exc
                except httpx.ProxyError as exc:  # the proxy answered the tunnel's CONNECT with an error
                    raise httpx.ProxyError(f"the proxy {said} refused ({exc})", request=request) from exc
        return self.direct.handle_request(request)

    def close(self) -> None:
        self.direct.close()
        for _pattern, transport, _said in self.routes:
            if isinstance(transport, httpx.BaseTransport):
                transport.close()


def _transport(make: Callable[[httpx.Proxy], httpx.BaseTransport], url: str) -> httpx.BaseTransport | str:
    """The transport through the proxy at ``url``, or why httpx cannot use it (raised as it was, it
    ended every run in a traceback before any source was read, those not proxied too)."""
    try:
        return make(httpx.Proxy(url))
    except ImportError:  # httpx needs the socksio package for socks5://
        return "a SOCKS proxy needs the package socksio (pip install socksio)"
    except ValueError:  # httpx.InvalidURL is one too
        return "its scheme is none of http, https, socks5, socks5h"

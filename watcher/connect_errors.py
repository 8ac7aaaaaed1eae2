"""What a failed connection means, said as a person can act on it: a host name the name service does
not know, or could not be asked about, a port nothing answers on, and an https handshake that failed.
httpx hands all of them out as one ``ConnectError`` whose text is the C library's ("[Errno -2] Name or
service not known", "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")."""

from __future__ import annotations

import re
import socket
import ssl

import httpx

# getaddrinfo's answers that the name does not exist (rather than that no name server could be asked)
_UNKNOWN_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")
                 if hasattr(socket, name)}
_SSL_WORDS = re.compile(r"^\[[A-Z0-9_]+: [A-Z0-9_]+\]\s*|\s*\(_ssl\.c:\d+\)$")


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: BaseException | None = exc
    for _ in range(10):  # httpx's error, httpcore's, then the socket's
        if seen is None or isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def connect_failure(label: str, exc: httpx.ConnectError, tries: str) -> str | None:
    """One line for a connection that failed on its host name or its TLS handshake; None for another
    failure. ``tries`` is the retries made, as " (after 3 retries)" or ""."""
    try:
        host = exc.request.url.host
    except RuntimeError:  # an error raised without its request
        host = "the host"
    lookup = _cause(exc, socket.gaierror)
    if isinstance(lookup, socket.gaierror):
        said = lookup.strerror or str(lookup)
        if lookup.errno in _UNKNOWN_NAME:
            return (f"cannot fetch {label}: the host name {host} is not known to the name service "
                    f"(DNS: {said}){tries}; check the host name in the URL")
        return (f"cannot fetch {label}: the host name {host} could not be looked up (DNS: {said}){tries}; "
                "the network or its name server is down, try again later")
    refused = _cause(exc, ConnectionRefusedError)
    if isinstance(refused, ConnectionRefusedError):
        try:
            port = exc.request.url.port or {"http": 80, "https": 443}.get(exc.request.url.scheme, 0)
        except RuntimeError:
            port = 0
        return (f"cannot fetch {label}: {host} refused the connection on port {port} (nothing answers "
                f"there){tries}; the site is down, or check the URL's port, and try again later")
    tls = _cause(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLError):
        if isinstance(tls, ssl.SSLCertVerificationError):
            said = tls.verify_message or _ssl_words(tls)
            return (f"cannot fetch {label}: the https certificate of {host} is not valid ({said}){tries}; "
                    "the site's certificate is broken (or a proxy on the way replaces it), report it to "
                    "the site or the network's administrator")
        return (f"cannot fetch {label}: the https (TLS) handshake with {host} failed ({_ssl_words(tls)})"
                f"{tries}; the server may not speak https at this address: check the URL (http:// or "
                "https://, its port), or try again later")
    return None


def _ssl_words(error: ssl.SSLError) -> str:
    """OpenSSL's words without its codes: "wrong version number"."""
    text = str(error.args[1]) if len(error.args) > 1 else str(error)
    return " ".join(_SSL_WORDS.sub("", text).split())[:160] or error.reason or type(error).__name__


def protocol_failure(label: str, exc: httpx.RemoteProtocolError, tries: str) -> str | None:
    """One line for an answer the HTTP parser refused for a reason a person can name; None otherwise."""
    if "receive buffer too long" in str(exc).lower():  # h11's limit on a status line and headers
        return (f"cannot fetch {label}: its status line and headers are longer than any web page's (more "
                f"than the client reads){tries}; the site answers wrongly, try again later or report it to "
                "the site")
    if "server disconnected without sending a response" in str(exc).lower():  # httpcore's words
        return (f"cannot fetch {label}: the server closed the connection without answering{tries}; the site "
                "is failing, try again later")
    return None

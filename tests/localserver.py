"""A real HTTP server on 127.0.0.1 for tests: sources and the Slack Web API are served from here and
reached through the real httpx and slack_sdk clients.

    with LocalServer() as server:
        server.route("GET", "/feed", lambda req: Reply(200, body=b"...", headers={...}))
        httpx.get(server.url("/feed"))
        server.requests  # every request received, in order

A handler may return a :class:`Reply`, raise :class:`Drop` to close the connection without an answer,
or sleep to simulate a slow server; ``Reply(drip=0.1)`` sends its body a byte at a time. A Reply whose
headers set Content-Length or Transfer-Encoding is sent exactly as given (a body shorter than its
Content-Length, a hand-made chunked body); add ``Connection: close`` so the server hangs up after it.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0  # seconds between the body's bytes: a slowly dripping answer


class Drop(Exception):
    """Raised by a handler to drop the connection without answering."""


Handler = Callable[[Request], Reply]


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections while the block lasts: bound by this socket, so no
    other process can take it, and never listening. A fixed "unused" port (1, 9) may have a listener
    on some machine."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


class _QuietServer(ThreadingHTTPServer):
    """Clients in these tests drop connections on purpose (timeouts, size limits, killed processes);
    the handler's error then belongs to the test, not on stderr, where a handler thread outliving its
    test would print it into the next test's captured output."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class LocalServer:
    def __init__(self, *, tls: tuple[str, str] | None = None) -> None:
        """``tls``: a certificate and key file, to answer https instead of http."""
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(request)
                handler = server.routes.get((self.command, parts.path))
                if handler is None:
                    reply = Reply(404, b"not found")
                else:
                    try:
                        reply = handler(request)
                    except Drop:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                payload = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                framing = {key.lower() for key in reply.headers} & {"content-length", "transfer-encoding"}
                if not framing:  # a reply that sets its own framing is sent as is (a lying length)
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(payload)
                    return
                for index in range(len(payload)):
                    time.sleep(reply.drip)
                    self.wfile.write(payload[index:index + 1])
                    self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method.upper(), path)] = handler

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

"""Slack's side of Socket Mode for tests: a local WebSocket server (the ``websockets`` package) that
sends envelopes and records the acks, and the local Web API (tests.slack_server) with the methods the
buttons use: ``apps.connections.open`` (answers with this server's ``ws://127.0.0.1`` URL, for the
app-level token), ``chat.update``, ``chat.postEphemeral`` and ``views.open`` (these three take the
``"500"``, ``"drop"``, ``"429"`` (Slack's ``ratelimited`` answer with its Retry-After) and
``"refuse:CODE"`` faults of ``fail_next``, and ``"hold"``: the answer waits until a modal was opened,
or ``delay`` seconds, as a Slack slow to answer; ``held_while_opened`` says which it was).

    with SocketSlack(token=TOKEN) as slack:
        envelope = slack.socket.send({"type": "block_actions", ...})   # to the newest connection
        slack.socket.wait_ack(envelope)                                # the ack's payload
        slack.socket.drop()                                           # close every connection
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.sync.server import ServerConnection, serve

from tests.localserver import Drop, Reply, Request
from tests.slack_server import SlackServer, _args, _json

APP_TOKEN = "xapp-1-A0TEST-secret-app-token"


class SocketModeServer:
    """Plays Slack's WebSocket end: a ``hello`` on connect, then the envelopes a test sends."""

    def __init__(self) -> None:
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._lock = threading.Condition()
        self.connections: list[ServerConnection] = []
        self.connected_total = 0
        self.acks: dict[str, tuple[float, dict[str, Any] | None]] = {}  # envelope id -> (seconds, payload)
        self.sent_at: dict[str, float] = {}
        self.drop_after_hello = False  # a disconnect storm: every connection closed right after its hello

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/link/?ticket=test"

    def __enter__(self) -> SocketModeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop()
        self._server.shutdown()
        self._thread.join(timeout=5)

    def _handle(self, connection: ServerConnection) -> None:
        with self._lock:
            self.connections.append(connection)
            self.connected_total += 1
            self._lock.notify_all()
        connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                    "connection_info": {"app_id": "A0TEST"}}))
        if self.drop_after_hello:
            connection.close()
        try:
            for raw in connection:
                message = json.loads(raw)
                envelope = message.get("envelope_id")
                with self._lock:
                    if envelope:
                        self.acks[envelope] = (time.monotonic() - self.sent_at.get(envelope, 0),
                                               message.get("payload"))
                    self._lock.notify_all()
        except Exception:  # the connection was dropped
            pass
        finally:
            with self._lock:
                if connection in self.connections:
                    self.connections.remove(connection)
                self._lock.notify_all()

    def wait_connected(self, total: int = 1, timeout: float = 60.0) -> None:
        """Until ``total`` connections have been made in all and one is open."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.connected_total >= total and self.connections, timeout):
                raise AssertionError(f"{self.connected_total} connections, expected {total}")

    def send(self, payload: dict[str, Any], *, kind: str = "interactive", envelope_id: str | None = None,
             retry_attempt: int = 0) -> str:
        envelope_id = envelope_id or uuid.uuid4().hex
        with self._lock:
            connection = self.connections[-1]
            self.sent_at[envelope_id] = time.monotonic()
        connection.send(json.dumps({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                    "accepts_response_payload": kind == "interactive",
                                    "retry_attempt": retry_attempt, "retry_reason": ""}))
        return envelope_id

    def wait_ack(self, envelope_id: str, within: float = 60.0) -> dict[str, Any] | None:
        """The ack's payload; AssertionError if none came within ``within`` seconds. Slack's 3 s rule is
        tested by order, not by a stopwatch a loaded machine can miss: the ack comes while the click's
        write still waits (tests/test_slack_interact.py)."""
        with self._lock:
            self._lock.wait_for(lambda: envelope_id in self.acks, within)
            if envelope_id not in self.acks:
                raise AssertionError(f"no ack for envelope {envelope_id}")
            _seconds, payload = self.acks[envelope_id]
        return payload

    def drop(self) -> None:
        """Close every open connection, as a network loss or Slack's own refresh would."""
        with self._lock:
            open_now = list(self.connections)
        for connection in open_now:
            connection.close()


@dataclass
class Update:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


@dataclass
class SocketSlack(SlackServer):
    app_token: str = APP_TOKEN
    updates: list[Update] = field(default_factory=list)
    ephemeral: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    held_while_opened: list[bool] = field(default_factory=list)  # per "hold": a modal opened meanwhile

    def __post_init__(self) -> None:
        super().__post_init__()
        self._opened = threading.Event()
        self._triggers: set[str] = set()  # trigger ids a form was opened with
        self.channels.setdefault("random", "C0RANDOM03")
        self.socket = SocketModeServer()
        self.server.route("POST", "/api/apps.connections.open", self._connections_open)
        for method in ("chat.update", "chat.postEphemeral", "views.open"):
            self.server.route("POST", f"/api/{method}", self._interaction_api(method))

    def __enter__(self) -> SocketSlack:
        super().__enter__()
        self.socket.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.socket.__exit__(*exc)
        super().__exit__(*exc)

    def _connections_open(self, request: Request) -> Reply:
        self.calls.append("apps.connections.open")
        if request.headers.get("authorization") != f"Bearer {self.app_token}":
            return _json({"ok": False, "error": "invalid_auth"})
        return _json({"ok": True, "url": self.socket.url})

    def _interaction_api(self, method: str):
        def handle(request: Request) -> Reply:
            self.calls.append(method)
            fault = self._fault(method)  # fail_next(method, "500" | "drop" | "429")
            if fault and fault.kind == "429":
                return _json({"ok": False, "error": "ratelimited"}, 429,
                             {"Retry-After": str(fault.retry_after)})
            if fault and fault.kind == "500":
                return Reply(500, "<html>Internal Server Error</html>", {"Content-Type": "text/html"})
            if fault and fault.kind == "drop":
                raise Drop()
            if fault and fault.kind.startswith("refuse:"):  # Slack's refusal, e.g. "refuse:token_revoked"
                return _json({"ok": False, "error": fault.kind.removeprefix("refuse:")})
            if fault and fault.kind == "hold":
                self.held_while_opened.append(self._opened.wait(fault.delay))
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _json({"ok": False, "error": "invalid_auth"})
            args = _args(request)
            for name in ("blocks", "view"):
                if isinstance(args.get(name), str):
                    args[name] = json.loads(args[name])
            if method == "views.open":
                # a trigger opens one form, as Slack's: a second views.open with it is refused
                if not args.get("trigger_id") or args["trigger_id"] in self._triggers:
                    return _json({"ok": False, "error": "invalid_trigger_id"})
                self._triggers.add(args["trigger_id"])
                self.views.append(args["view"])
                self._opened.set()
                return _json({"ok": True, "view": {"id": "V0TEST", **args["view"]}})
            channel = self._channel_id(str(args.get("channel", "")))
            if channel is None:
                return _json({"ok": False, "error": "channel_not_found"})
            if method == "chat.postEphemeral":
                self.ephemeral.append({"channel": channel, "user": args.get("user"),
                                       "text": args.get("text")})
                return _json({"ok": True, "message_ts": "1787000000.000900"})
            found = next((m for m in self.messages if m.channel == channel and m.ts == args.get("ts")), None)
            if found is None:
                return _json({"ok": False, "error": "message_not_found"})
            if len(args.get("blocks") or []) > 50:
                return _json({"ok": False, "error": "invalid_blocks"})
            found.blocks, found.text = args.get("blocks") or [], args.get("text", "")
            self.updates.append(Update(channel, found.ts, found.text, found.blocks))
            return _json({"ok": True, "channel": channel, "ts": found.ts, "text": found.text})

        return handle

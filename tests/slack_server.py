"""A local Slack for tests: the parts of the Web API fundradar uses and an incoming webhook, served by
tests.localserver.LocalServer and reached through the real slack_sdk clients.

    with SlackServer(token="xoxb-test") as slack:
        WebClient(token="xoxb-test", base_url=slack.api_url)
        slack.fail_next("chat.postMessage", "429", retry_after=1)   # scripted faults, in order
        slack.messages                                              # every message posted, as received

Methods: chat.postMessage (JSON body, like Slack: ``ok``, ``channel`` id, ``ts``; message ``metadata``
kept), conversations.history (``include_all_metadata``, ``oldest``, ``limit`` and ``cursor``
pagination), conversations.list, conversations.info (a channel's name by its id); ``POST
/services/T0/B0/secret`` is an incoming webhook answering ``ok``.
A token other than ``token`` is answered ``invalid_auth``; a channel named in ``left`` (the bot was
removed from it) ``not_in_channel``. Faults: ``"429"`` (with Retry-After), ``"500"``, ``"drop"``
(connection closed before the message is stored), ``"drop_after_post"`` (message stored, then the
connection closed without an answer) and ``"slow_after_post"`` (message stored, the answer sent only
after ``delay`` seconds: longer than the client's timeout, the client gives up while Slack has the
message), ``"slow_before_post"`` (the message stored only after ``delay`` seconds: a slow Slack),
``"msg_too_long"`` (Slack refusing the message itself) and ``"missing_scope"`` (Slack's
answer to a token without the method's scope, ``needed`` naming it).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.localserver import Drop, LocalServer, Reply, Request

SCOPES = {"chat.postMessage": "chat:write", "conversations.history": "channels:history",
          "conversations.list": "channels:read", "conversations.info": "channels:read"}
WEBHOOK_PATH = "/services/T0TEST/B0TEST/webhooksecret"  # the path of a real Slack webhook


@dataclass
class Fault:
    kind: str  # 429 | 500 | drop | drop_after_post | slow_after_post | slow_before_post | msg_too_long ...
    retry_after: int = 1
    delay: float = 0.0  # slow_after_post, slow_before_post: seconds before the answer


@dataclass
class Posted:
    channel: str  # the channel id
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    metadata: dict[str, Any] | None
    raw: dict[str, Any]  # the exact JSON received
    via: str = "api"  # api | webhook


@dataclass
class SlackServer:
    token: str = "xoxb-test-token"
    channels: dict[str, str] = field(default_factory=lambda: {
        "eu-fundraising": "C0EUFUND01", "energy-projects": "C0ENERGY02"})
    history_page_size: int = 2  # small, so pagination is exercised
    left: set[str] = field(default_factory=set)  # channel names the bot was removed from: not_in_channel

    def __post_init__(self) -> None:
        self.server = LocalServer()
        self.messages: list[Posted] = []
        self.faults: dict[str, list[Fault]] = {}
        self.calls: list[str] = []  # API methods called, in order
        self._lock = threading.Lock()
        self._clock = 1_787_000_000
        for method in ("chat.postMessage", "conversations.history", "conversations.list",
                       "conversations.info"):
            self.server.route("POST", f"/api/{method}", self._api(method))
            self.server.route("GET", f"/api/{method}", self._api(method))
        self.server.route("POST", WEBHOOK_PATH, self._webhook)

    # --- test controls -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.server.url("/api/")

    @property
    def webhook_url(self) -> str:
        return self.server.url(WEBHOOK_PATH)

    def fail_next(self, method: str, kind: str, *, times: int = 1, retry_after: int = 1,
                  delay: float = 0.0) -> None:
        """The next ``times`` calls of ``method`` (or "webhook") answer with the fault ``kind``."""
        self.faults.setdefault(method, []).extend(Fault(kind, retry_after, delay) for _ in range(times))

    def add_message(self, channel_name: str, text: str, metadata: dict[str, Any] | None = None) -> str:
        """Put a message in a channel's history directly (as if posted earlier)."""
        return self._store(self.channels[channel_name.lstrip("#")], {"text": text, "metadata": metadata}).ts

    def posted_to(self, channel_name: str) -> list[Posted]:
        cid = self.channels[channel_name.lstrip("#")]
        return [m for m in self.messages if m.channel == cid]

    def __enter__(self) -> SlackServer:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    # --- the API -------------------------------------------------------------------------------

    def _store(self, channel_id: str, body: dict[str, Any], via: str = "api") -> Posted:
        with self._lock:
            self._clock += 1
            ts = f"{self._clock}.000100"
            message = Posted(channel_id, body.get("text", ""), body.get("blocks") or [], ts,
                             body.get("metadata"), body, via)
            self.messages.append(message)
            return message

    def _fault(self, method: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(method)
            return queue.pop(0) if queue else None

    def _api(self, method: str):
        def handle(request: Request) -> Reply:
            self.calls.append(method)
            fault = self._fault(method)
            if fault and fault.kind == "429":
                return _json({"ok": False, "error": "ratelimited"}, 429,
                             {"Retry-After": str(fault.retry_after)})
            if fault and fault.kind == "500":
                return Reply(500, "<html>Internal Server Error</html>", {"Content-Type": "text/html"})
            if fault and fault.kind == "drop":
                raise Drop()
            if fault and fault.kind == "msg_too_long":
                return _json({"ok": False, "error": "msg_too_long"})
            if fault and fault.kind.startswith("refuse:"):  # any other refusal Slack answers with
                return _json({"ok": False, "error": fault.kind.removeprefix("refuse:")})
            if fault and fault.kind == "missing_scope":
                return _json({"ok": False, "error": "missing_scope", "needed": SCOPES[method],
                              "provided": "chat:write"})
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return _json({"ok": False, "error": "invalid_auth"})
            args = _args(request)
            if method == "chat.postMessage":
                if fault and fault.kind == "slow_before_post":
                    time.sleep(fault.delay)
                reply = self._post(args)
            elif method == "conversations.history":
                reply = self._history(args)
            elif method == "conversations.info":
                reply = self._info(args)
            else:
                reply = _json({"ok": True, "channels": [{"id": cid, "name": name, "is_member": True}
                                                        for name, cid in self.channels.items()],
                               "response_metadata": {"next_cursor": ""}})
            if fault and fault.kind == "drop_after_post":
                raise Drop()
            if fault and fault.kind == "slow_after_post":
                time.sleep(fault.delay)
            return reply

        return handle

    def _channel_id(self, value: str) -> str | None:
        if value in self.channels.values():
            return value
        return self.channels.get(value.lstrip("#"))

    def _post(self, args: dict[str, Any]) -> Reply:
        channel = self._channel_id(str(args.get("channel", "")))
        if channel is None:
            return _json({"ok": False, "error": "channel_not_found"})
        if channel in {self.channels[name] for name in self.left}:
            return _json({"ok": False, "error": "not_in_channel"})
        if not args.get("text") and not args.get("blocks"):
            return _json({"ok": False, "error": "no_text"})
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            args["blocks"] = json.loads(blocks)
        if len(args.get("blocks") or []) > 50:
            return _json({"ok": False, "error": "invalid_blocks", "errors": ["must be 50 or fewer items"]})
        for block in args.get("blocks") or []:
            text = (block.get("text") or {}).get("text", "")
            if block.get("type") == "section" and len(text) > 3000:
                return _json({"ok": False, "error": "invalid_blocks", "errors": ["text too long"]})
        message = self._store(channel, args)
        return _json({"ok": True, "channel": channel, "ts": message.ts,
                      "message": {"text": message.text, "ts": message.ts}})

    def _info(self, args: dict[str, Any]) -> Reply:
        names = {cid: name for name, cid in self.channels.items()}
        channel = str(args.get("channel", ""))
        if channel not in names:
            return _json({"ok": False, "error": "channel_not_found"})
        return _json({"ok": True, "channel": {"id": channel, "name": names[channel], "is_channel": True,
                                              "is_member": names[channel] not in self.left}})

    def _history(self, args: dict[str, Any]) -> Reply:
        channel = self._channel_id(str(args.get("channel", "")))
        if channel is None or not channel.startswith("C"):
            return _json({"ok": False, "error": "channel_not_found"})
        if channel in {self.channels[name] for name in self.left}:
            return _json({"ok": False, "error": "not_in_channel"})
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in reversed(self.messages) if m.channel == channel and float(m.ts) > oldest]
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), self.history_page_size)
        page = found[start:start + limit]
        more = start + limit < len(found)
        items = []
        for m in page:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            items.append(item)
        return _json({"ok": True, "messages": items, "has_more": more,
                      "response_metadata": {"next_cursor": str(start + limit) if more else ""}})

    def _webhook(self, request: Request) -> Reply:
        self.calls.append("webhook")
        fault = self._fault("webhook")
        if fault and fault.kind == "429":
            return Reply(429, "rate_limited", {"Retry-After": str(fault.retry_after)})
        if fault and fault.kind == "500":
            return Reply(500, "internal_error")
        if fault and fault.kind == "drop":
            raise Drop()
        if fault and fault.kind.startswith("refuse:"):  # "refuse:404:no_service", as Slack answers
            _, status, code = fault.kind.split(":", 2)
            return Reply(int(status), code)
        try:
            body = json.loads(request.body)
        except ValueError:
            return Reply(400, "invalid_payload")
        self._store("C0WEBHOOK", body, via="webhook")
        if fault and fault.kind == "drop_after_post":
            raise Drop()
        return Reply(200, "ok", {"Content-Type": "text/html"})


def _args(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = {k: v[-1] for k, v in request.query.items()}
    content_type = request.headers.get("content-type", "")
    if request.body and "json" in content_type:
        args.update(json.loads(request.body))
    elif request.body:
        args.update({k: v[-1] for k, v in parse_qs(request.body.decode("utf-8")).items()})
    return args


def _json(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(data),
                 {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

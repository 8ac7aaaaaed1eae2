"""Sending messages to Slack exactly once, with a delivery log (table ``slack_delivery``).

Every message has an idempotency ``key`` (e.g. ``alert:new:42``). Before posting, its row is written
as ``sending`` (committed); after Slack answers it becomes ``sent`` with the message ``ts``. The key
travels in the message ``metadata`` (``event_type`` ``fundradar_delivery``), so when a run died
between posting and logging (or the answer was lost to a timeout or a dropped connection), the next
attempt first looks for the key in ``conversations.history`` and only posts when it is not there.
A message that failed (Slack refused, 429 after the retries, the network was down) stays ``failed``
and is sent on the next run, up to :data:`MAX_ATTEMPTS` times.

Retries: slack_sdk's :class:`RateLimitErrorRetryHandler` (429, waits Retry-After, capped at
:data:`MAX_RETRY_AFTER` seconds by :class:`CappedRateLimitRetryHandler`) and
:class:`ConnectionErrorRetryHandler`. When Slack asks for a longer wait, the run does not sit there
(one blocked job would hold back ``alerts`` and the scheduler for an hour): that message and the rest
still to send are ``deferred``, left due for the next run, without using up an attempt.

For ``chat.postMessage`` the connection handler only retries
``URLError`` — urllib raises it when the request could not be *sent* (refused, DNS, reset while
sending), so a retry cannot double-post. A connection dropped *after* the request went out
(``RemoteDisconnected``, a read timeout) is ambiguous: we check the history for the key instead.

Incoming webhooks cannot be checked (no history, no metadata). For them we choose *at most once*:
an ambiguous failure (no answer) is logged as ``unconfirmed`` and not re-posted, because a doubled
message is worse for the readers than a rare lost one, which ``fundradar digest`` can resend by hand.
Definite failures (an HTTP error status, a refused connection) are retried on the next run.

At least :data:`MIN_INTERVAL` seconds pass between two posts to the same channel (Slack allows about
one message per second per channel).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.core.config import Slack
from pipeline.core.db import session_scope
from pipeline.core.errors import DeliveryError
from pipeline.core.models import SlackDelivery
from pipeline.notify.blocks import SlackMessage

log = logging.getLogger("fundradar.slack")

MIN_INTERVAL = 1.0
MAX_ATTEMPTS = 5  # over all runs; then the row stays failed and is reported
POSTS_PER_RUN = 3  # attempts within one run after ambiguous failures
EVENT_TYPE = "fundradar_delivery"
HISTORY_PAGES = 5  # newest messages searched for an interrupted post's key (200 per page)
BASELINE_KEY = "baseline"
WEBHOOK_CHANNEL = "the webhook's channel"  # where a webhook post really goes: Slack fixed it at setup
RETRY_STATUSES = ("pending", "sending", "failed")
MAX_RETRY_AFTER = 30.0  # seconds; a longer Retry-After defers the rest of the run's messages


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """The seconds of a ``Retry-After`` header (values may be strings or lists of them), or None."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, retrying only when Slack's Retry-After is at most ``max_wait`` seconds;
    a longer wait is left to the caller (the 429 comes back as the answer), see :class:`Deferred`."""

    def __init__(self, max_retry_count: int = 3, max_wait: float = MAX_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(self, *, state: Any, request: Any, response: Any = None,
                   error: Exception | None = None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= self.max_wait


class Deferred(Exception):
    """Slack asked for a longer wait than :data:`MAX_RETRY_AFTER`: nothing was posted, try next run."""


def _deferred(wait: float | None, what: str) -> Deferred:
    asked = f"{wait:g} s" if wait is not None else "a long wait"
    return Deferred(f"Slack rate limit on {what}: asked to wait {asked}, more than the "
                    f"{MAX_RETRY_AFTER:g} s a run waits; sent on the next run")


class AmbiguousDelivery(Exception):
    """The request went out but no answer came back: the message may or may not be in Slack."""


class Sender(Protocol):
    kind: str  # bot | webhook
    can_check: bool

    def post(self, message: SlackMessage, key: str) -> str | None: ...

    def find(self, channel: str, key: str, since: datetime) -> str | None: ...


def api_url(slack: Slack, environ: Mapping[str, str] = os.environ) -> str | None:
    """The Web API base URL: config ``slack.base_url``, else ``SLACK_API_URL``, else Slack's own."""
    url = slack.base_url or environ.get("SLACK_API_URL")
    if url and not url.endswith("/"):
        url += "/"
    return url


def make_sender(slack: Slack, environ: Mapping[str, str] = os.environ,
                *, timeout: int = 30) -> Sender | None:
    """A bot-token sender if ``slack.token_env`` is set, else a webhook sender if ``slack.webhook_env``
    is set, else ``None`` (no Slack configured: the CLI prints to the terminal)."""
    token = environ.get(slack.token_env, "").strip()
    if token:
        return BotSender(token, api_url(slack, environ), timeout=timeout)
    webhook = environ.get(slack.webhook_env, "").strip()
    if webhook:
        return WebhookSender(webhook, timeout=timeout)
    return None


def _post_retry_handlers() -> list[Any]:
    # only URLError: the request was not sent, so retrying cannot post twice (see the module doc)
    return [ConnectionErrorRetryHandler(max_retry_count=2, error_types=[URLError]),
            CappedRateLimitRetryHandler(max_retry_count=3)]


def _read_retry_handlers() -> list[Any]:
    return [ConnectionErrorRetryHandler(max_retry_count=2), CappedRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2)]


class BotSender:
    """``chat.postMessage`` with a bot token; can look messages up in ``conversations.history``."""

    kind = "bot"
    can_check = True

    def __init__(self, token: str, base_url: str | None = None, *, timeout: int = 30) -> None:
        extra = {"base_url": base_url} if base_url else {}
        self._poster = WebClient(token=token, timeout=timeout, retry_handlers=_post_retry_handlers(), **extra)
        self._reader = WebClient(token=token, timeout=timeout, retry_handlers=_read_retry_handlers(), **extra)
        self._channel_ids: dict[str, str] = {}

    def post(self, message: SlackMessage, key: str) -> str | None:
        try:
            response = self._poster.chat_postMessage(
                channel=message.channel, text=message.text, blocks=message.blocks, unfurl_links=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}})
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if status >= 500:
                raise AmbiguousDelivery(f"Slack answered HTTP {status}") from None
            if status == 429 and (wait := retry_after(exc.response.headers)) is not None \
                    and wait > MAX_RETRY_AFTER:
                raise _deferred(wait, message.channel) from None
            if status == 429:
                raise DeliveryError(f"Slack rate limit for {message.channel} persisted after the "
                                    "retries; it is sent on the next run") from None
            hint = {"channel_not_found": "check the channel name and invite the bot to it",
                    "not_in_channel": "invite the bot to the channel (/invite @fundradar)",
                    "invalid_auth": "check the bot token in the environment",
                    "not_authed": "set the bot token in the environment"}.get(str(error), "")
            raise DeliveryError(f"Slack refused the message for {message.channel}: "
                                f"{error or f'HTTP {status}'}" + (f"; {hint}" if hint else "")) from None
        except URLError as exc:  # not sent at all (after the connection retries)
            raise DeliveryError(f"cannot reach Slack for {message.channel}: {exc.reason}; "
                                "it is sent on the next run") from None
        except (OSError, TimeoutError) as exc:  # sent, but the answer was lost
            raise AmbiguousDelivery(f"no answer from Slack ({type(exc).__name__})") from None
        channel_id = response.get("channel")
        if channel_id:
            self._channel_ids[message.channel] = channel_id
        return response.get("ts")

    def channel_id(self, channel: str) -> str:
        """A channel's id (``C…``) for ``conversations.history``, from a name like ``#eu-funding``."""
        if channel in self._channel_ids:
            return self._channel_ids[channel]
        if not channel.startswith("#"):
            return channel
        name = channel.lstrip("#")
        cursor = None
        while True:
            page = self._reader.conversations_list(types="public_channel,private_channel",
                                                   exclude_archived=True, limit=200, cursor=cursor)
            for item in page.get("channels", []):
                if item.get("name") == name:
                    self._channel_ids[channel] = item["id"]
                    return item["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise DeliveryError(f"channel {channel} not found; check the name and invite the bot")

    def find(self, channel: str, key: str, since: datetime) -> str | None:
        """The ``ts`` of a recent message in ``channel`` that carries ``key``, or None.

        ``since`` is not used as ``oldest``: fundradar's clock may be frozen (``--as-of``) while Slack's
        timestamps are real, so the newest :data:`HISTORY_PAGES` pages are searched instead."""
        try:
            cid = self.channel_id(channel)
            cursor = None
            for _page in range(HISTORY_PAGES):
                page = self._reader.conversations_history(
                    channel=cid, include_all_metadata=True, limit=200, cursor=cursor)
                for item in page.get("messages", []):
                    metadata = item.get("metadata") or {}
                    if metadata.get("event_type") == EVENT_TYPE and \
                            (metadata.get("event_payload") or {}).get("key") == key:
                        return item.get("ts")
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
            return None
        except SlackApiError as exc:
            raise _check_error(exc, channel) from None
        except OSError as exc:
            raise DeliveryError(f"cannot reach Slack to check {channel}: {exc}") from None


def _check_error(exc: SlackApiError, channel: str) -> Exception:
    """What went wrong looking ``channel`` up for an earlier post, said as what it is: only Slack's
    ``missing_scope`` answer names a scope; an HTTP 5xx is Slack's fault and passes, so is retried."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    method = (getattr(response, "api_url", "") or "").rstrip("/").rsplit("/", 1)[-1] or "the Slack API"
    error = data.get("error")
    if response.status_code == 429:
        wait = retry_after(response.headers)
        if wait is not None and wait > MAX_RETRY_AFTER:
            return _deferred(wait, f"{method} for {channel}")
        return DeliveryError(f"Slack rate limit on {method} for {channel} persisted after the retries; "
                             "will retry next run")
    if error == "missing_scope":
        needed = data.get("needed") or ("channels:read" if method == "conversations.list"
                                        else "channels:history")
        return DeliveryError(f"the bot lacks the {needed} scope that {method} needs to check {channel} for "
                             "an earlier post; add it to the Slack app and reinstall it")
    if response.status_code >= 500 or not error:
        return DeliveryError(f"Slack answered HTTP {response.status_code} to {method} for {channel}; "
                             "will retry next run")
    return DeliveryError(f"Slack refused {method} for {channel}: {error}; will retry next run")


class WebhookSender:
    """An incoming webhook: one channel, no history (see the module doc for the choice made)."""

    kind = "webhook"
    can_check = False

    def __init__(self, url: str, *, timeout: int = 30) -> None:
        self._client = WebhookClient(url, timeout=timeout, retry_handlers=_post_retry_handlers())

    def post(self, message: SlackMessage, key: str) -> str | None:
        try:
            response = self._client.send(text=message.text, blocks=message.blocks, unfurl_links=False)
        except URLError as exc:
            raise DeliveryError(f"cannot reach the Slack webhook: {exc.reason}; it is sent on the next "
                                "run") from None
        except (OSError, TimeoutError) as exc:
            raise AmbiguousDelivery(f"no answer from the Slack webhook ({type(exc).__name__})") from None
        if response.status_code == 429 and (wait := retry_after(response.headers)) is not None \
                and wait > MAX_RETRY_AFTER:
            raise _deferred(wait, "the Slack webhook")
        if response.status_code != 200:
            raise DeliveryError(f"the Slack webhook refused the message: HTTP {response.status_code} "
                                f"{(response.body or '').strip()[:100]}")
        return None

    def find(self, channel: str, key: str, since: datetime) -> str | None:
        return None


@dataclass
class Pacer:
    """Keeps at least ``interval`` seconds between posts to the same channel."""

    interval: float = MIN_INTERVAL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    last: dict[str, float] = field(default_factory=dict)

    def wait(self, channel: str) -> None:
        previous = self.last.get(channel)
        if previous is not None:
            remaining = self.interval - (self.clock() - previous)
            if remaining > 0:
                self.sleep(remaining)
        self.last[channel] = self.clock()


@dataclass(frozen=True)
class Outgoing:
    key: str
    kind: str  # digest | alert | reminder
    message: SlackMessage


@dataclass
class Outcome:
    key: str
    channel: str
    kind: str
    status: str  # sent | already sent | failed | unconfirmed | deferred | dry run | terminal
    message: SlackMessage
    ts: str | None = None
    error: str | None = None
    items: list[str] = field(default_factory=list)  # the alert keys a batched message carries

    def as_dict(self) -> dict[str, Any]:
        found = {"key": self.key, "channel": self.channel, "kind": self.kind, "status": self.status,
                 "ts": self.ts, "error": self.error, "text": self.message.text, "blocks": self.message.blocks}
        if self.items:
            found["items"] = self.items
        return found


# --- the log -------------------------------------------------------------------------------------

def baseline(engine: Engine, now: datetime, *, create: bool = True) -> tuple[datetime, bool]:
    """When notifications started. The first run after install writes it (so the calls already in the
    database count as seen and nobody's channel is flooded); returns (moment, created now)."""
    with session_scope(engine) as session:
        row = session.exec(select(SlackDelivery).where(SlackDelivery.key == BASELINE_KEY)).first()
        if row is not None:
            return row.created_at, False
        if create:
            session.add(SlackDelivery(key=BASELINE_KEY, channel="*", kind="baseline", status="sent",
                                      created_at=now, sent_at=now))
        return now, create


def known_keys(session: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.exec(select(SlackDelivery.key).where(
            SlackDelivery.key.in_(keys[start:start + 500]))))
    return found


def register(engine: Engine, outgoing: Sequence[Outgoing], now: datetime) -> None:
    """Log new messages as ``pending`` (keys already logged are left alone)."""
    with session_scope(engine) as session:
        existing = known_keys(session, (o.key for o in outgoing))
        for item in outgoing:
            if item.key not in existing:
                session.add(SlackDelivery(key=item.key, channel=item.message.channel, kind=item.kind,
                                          status="pending", payload=item.message.payload(), created_at=now))
                existing.add(item.key)


BATCHED = "batched"  # an item posted as part of a batch message: never sent on its own


def register_batch(engine: Engine, batch: str, parts: Sequence[Outgoing], items: Sequence[Outgoing],
                   now: datetime) -> None:
    """Log the ``parts`` of batch message ``batch`` as ``pending`` (sent by :func:`deliver`) and each of
    ``items`` once as ``batched`` with the batch key in its payload, so a later run knows it as sent or
    on its way and never posts it again; :func:`settle_batch` marks the items sent with the batch."""
    keys = [item.key for item in items]
    with session_scope(engine) as session:
        existing = known_keys(session, [*(p.key for p in parts), *keys])
        for part in parts:
            if part.key not in existing:
                session.add(SlackDelivery(key=part.key, channel=part.message.channel, kind=part.kind,
                                          status="pending", payload={**part.message.payload(), "items": keys},
                                          created_at=now))
        for item in items:
            if item.key not in existing:
                session.add(SlackDelivery(key=item.key, channel=item.message.channel, kind=item.kind,
                                          status=BATCHED, payload={"batch": batch, **item.message.payload()},
                                          created_at=now))
                existing.add(item.key)


def settle_batch(engine: Engine, outcomes: Sequence[Outcome], now: datetime) -> None:
    """The items of every sent batch part (see :func:`register_batch`) marked sent with its ``ts``."""
    with session_scope(engine) as session:
        for outcome in outcomes:
            if outcome.status != "sent" or not outcome.items:
                continue
            for row in session.exec(select(SlackDelivery).where(
                    SlackDelivery.key.in_(outcome.items), SlackDelivery.status == BATCHED)):
                row.status, row.message_ts, row.sent_at = "sent", outcome.ts, now
                session.add(row)


def due(engine: Engine, kinds: Sequence[str], channels: Sequence[str] | None = None, *,
        prefix: str = "") -> list[SlackDelivery]:
    """Logged messages of ``kinds`` still to send (new, interrupted or failed), oldest first; with
    ``prefix`` only keys starting with it (one strategy's messages when there are several)."""
    query = select(SlackDelivery).where(
        SlackDelivery.kind.in_(kinds),
        SlackDelivery.status.in_(RETRY_STATUSES),
        SlackDelivery.attempts < MAX_ATTEMPTS)
    if channels is not None:
        query = query.where(SlackDelivery.channel.in_(channels))
    if prefix:
        query = query.where(SlackDelivery.key.startswith(prefix, autoescape=True))
    with Session(engine) as session:
        return list(session.exec(query.order_by(SlackDelivery.id)))


def _update(engine: Engine, row_id: int, **values: Any) -> None:
    with session_scope(engine) as session:
        row = session.get(SlackDelivery, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


# --- sending -------------------------------------------------------------------------------------

def deliver(engine: Engine, sender: Sender, kinds: Sequence[str], now: datetime, *,
            channels: Sequence[str] | None = None, pacer: Pacer | None = None,
            backoff: Callable[[float], None] = time.sleep, prefix: str = "") -> list[Outcome]:
    """Send every due message of ``kinds`` (see :func:`register`). One failing message never stops the
    others; each outcome says what happened."""
    pacer = pacer or Pacer()
    outcomes = []
    deferred: str | None = None  # once Slack asks for a long wait, the rest waits for the next run too
    for row in due(engine, kinds, channels, prefix=prefix):
        message = SlackMessage(row.payload.get("channel", row.channel), row.payload.get("text", ""),
                               row.payload.get("blocks", []))
        outcome = Outcome(row.key, row.channel, row.kind, "failed", message,
                          items=list(row.payload.get("items", [])))
        try:
            if deferred is not None:
                raise Deferred(deferred)
            ts = _deliver_one(engine, sender, row, message, now, pacer, backoff)
        except Deferred as exc:
            _update(engine, row.id, error=str(exc))
            if deferred is None:
                log.warning("Slack messages deferred: %s", exc)
            deferred = str(exc)
            outcome.status, outcome.error = "deferred", deferred
        except DeliveryError as exc:
            _update(engine, row.id, status="failed", error=str(exc))
            log.warning("Slack message %s not sent: %s", row.key, exc)
            outcome.error = str(exc)
        except AmbiguousDelivery as exc:
            error = f"{exc}; not re-posted because an incoming webhook cannot be checked for a double post"
            _update(engine, row.id, status="unconfirmed", error=error)
            log.warning("Slack message %s unconfirmed: %s", row.key, error)
            outcome.status, outcome.error = "unconfirmed", error
        else:
            outcome.status, outcome.ts = "sent", ts
        if sender.kind == "webhook":  # the webhook chose the channel, whatever the config names
            outcome.channel = WEBHOOK_CHANNEL
        outcomes.append(outcome)
    return outcomes


def _deliver_one(engine: Engine, sender: Sender, row: SlackDelivery, message: SlackMessage, now: datetime,
                 pacer: Pacer, backoff: Callable[[float], None]) -> str | None:
    since = row.created_at - timedelta(minutes=5)
    if row.status == "sending" or (row.status == "failed" and sender.can_check):
        # an earlier run may have posted it without logging: look before posting again
        if not sender.can_check:
            raise AmbiguousDelivery("an earlier run was interrupted while posting")
        ts = sender.find(row.channel, row.key, since)
        if ts is not None:
            _mark_sent(engine, row, ts, now)
            return ts
    attempts = row.attempts
    # Hand-written rather than a slack_sdk retry handler: after an ambiguous failure (a read timeout, a
    # dropped answer, a 5xx) the next attempt must first look the key up in the channel history, and a
    # retry handler only sees the failed request, so it would re-post a message Slack already stored.
    for attempt in range(POSTS_PER_RUN):
        attempts += 1
        _update(engine, row.id, status="sending", attempts=attempts)
        pacer.wait(message.channel)
        try:
            ts = sender.post(message, row.key)
        except Deferred:
            # a 429 posts nothing: on a first try the row is left as it was (status, attempts), so the
            # next run sends it as usual; after an ambiguous try it stays failed, checked before posting
            if attempt == 0:
                _update(engine, row.id, status=row.status, attempts=row.attempts)
            else:
                _update(engine, row.id, status="failed")
            raise
        except AmbiguousDelivery as exc:
            if not sender.can_check:
                raise
            log.info("Slack message %s: %s; checking the channel before retrying", row.key, exc)
            ts = sender.find(row.channel, row.key, since)
            if ts is None:
                if attempt + 1 == POSTS_PER_RUN:
                    raise DeliveryError(f"{exc} for {message.channel} {POSTS_PER_RUN} times; it is sent "
                                        "on the next run") from None
                backoff(2.0 ** attempt)
                continue
        _mark_sent(engine, row, ts, now)
        return ts
    raise AssertionError("unreachable")


def _mark_sent(engine: Engine, row: SlackDelivery, ts: str | None, now: datetime) -> None:
    _update(engine, row.id, status="sent", message_ts=ts, sent_at=now, error=None)

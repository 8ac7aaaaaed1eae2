"""Sending messages to Slack exactly once, with a delivery log (table ``slack_delivery``).

Every message has an idempotency ``key`` (e.g. ``alert:new:42``). Before posting, its row is written
as ``sending`` (committed); after Slack answers it becomes ``sent`` with the message ``ts``. The key
travels in the message ``metadata`` (``event_type`` ``fundradar_delivery``), so when a run died
between posting and logging (or the answer was lost to a timeout or a dropped connection), the next
attempt first looks for the key in ``conversations.history`` and only posts when it is not there.
A message that failed (Slack refused, 429 after the retries, the network was down) stays ``failed``
and is sent on the next run. Only Slack refusing the message and interrupted posts count towards
:data:`MAX_ATTEMPTS`; Slack down or unreachable (:class:`SlackUnavailable`) never uses one up, so an
outage of any length loses no message.

Posting and its retries are the senders' (:mod:`pipeline.notify.senders`). When Slack asks for a
longer wait than :data:`MAX_RETRY_AFTER`, the run does not sit there (one blocked job would hold back
``alerts`` and the scheduler for an hour): that message and the rest still to send are ``deferred``,
left due for the next run, without using up an attempt. A request that went out without an answer is
ambiguous: we check the history for the key before posting again.

Incoming webhooks cannot be checked (no history, no metadata). For them we choose *at most once*:
an ambiguous failure (no answer) is logged as ``unconfirmed`` and not re-posted, because a doubled
message is worse for the readers than a rare lost one, which ``fundradar digest`` can resend by hand.
Definite failures (an HTTP error status, a refused connection) are retried on the next run.

At least :data:`MIN_INTERVAL` seconds pass between two posts to the same channel (Slack allows about
one message per second per channel).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.core.db import session_scope
from pipeline.core.errors import DeliveryError
from pipeline.core.locks import JobLock
from pipeline.core.models import SlackDelivery
from pipeline.notify.blocks import SlackMessage

# the senders live in their own module; their names stay importable from here
from pipeline.notify.senders import (
    EVENT_TYPE,
    HISTORY_PAGES,
    MAX_RETRY_AFTER,
    AmbiguousDelivery,
    BotSender,
    CappedRateLimitRetryHandler,
    Deferred,
    Sender,
    SlackUnavailable,
    WebhookSender,
    api_url,
    make_sender,
    retry_after,
)

__all__ = [
    "BASELINE_KEY", "BATCHED", "EVENT_TYPE", "GIVEN_UP", "HISTORY_PAGES", "MAX_ATTEMPTS", "MAX_RETRY_AFTER",
    "MIN_INTERVAL", "POSTS_PER_RUN", "RETRY_STATUSES", "SUPERSEDED", "WEBHOOK_CHANNEL", "AmbiguousDelivery",
    "BotSender",
    "CappedRateLimitRetryHandler", "Deferred", "Outcome", "Outgoing", "Pacer", "Sender", "SlackUnavailable",
    "WebhookSender",
    "api_url", "baseline", "deliver", "due", "known_keys", "make_sender", "register", "register_batch",
    "retry_after", "sending", "settle_batch", "supersede",
]

log = logging.getLogger("fundradar.slack")

MIN_INTERVAL = 1.0
MAX_ATTEMPTS = 5  # refusals and interrupted posts, over all runs; then the row stays failed
GIVEN_UP = "given up after"  # starts what a message's error adds once no run will send it again
POSTS_PER_RUN = 3  # attempts within one run after ambiguous failures
BASELINE_KEY = "baseline"
WEBHOOK_CHANNEL = "the webhook's channel"  # where a webhook post really goes: Slack fixed it at setup
RETRY_STATUSES = ("pending", "sending", "failed")
SUPERSEDED = "superseded"  # an unsent message a newer one replaces (a digest of an earlier period)


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
    passing: bool = False  # not sent because Slack was down or asked to wait: a later try may pass

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


def has_baseline(engine: Engine) -> bool:
    """Whether an alerts run has recorded when notifications started (:func:`baseline`)."""
    with Session(engine) as session:
        return session.exec(select(SlackDelivery.key).where(SlackDelivery.key == BASELINE_KEY)).first() \
            is not None


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


SEND_LOCK_WAIT = 300.0  # seconds a run waits for another process sending the same messages


@contextmanager
def sending(engine: Engine, name: str, *, active: bool = True,
            wait: float = SEND_LOCK_WAIT) -> Iterator[None]:
    """Hold ``name``'s send lock (one channel's digest, one strategy's alerts) while deciding what to
    send and sending it, so two processes (serve's job and a command) never both post one message: the
    second waits, then finds it logged. DeliveryError when the other holds it longer than ``wait``."""
    lock = JobLock(engine, f"slack-send:{name}")
    deadline = time.monotonic() + wait
    while active and not lock.acquire():
        if time.monotonic() > deadline:
            raise DeliveryError(f"another fundradar process has been sending {name} for {wait:g} s; "
                                "try again when it has finished")
        time.sleep(0.1)
    try:
        yield
    finally:
        lock.release()


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


def _attempts(engine: Engine, row_id: int) -> int:
    with Session(engine) as session:
        row = session.get(SlackDelivery, row_id)
        return row.attempts if row is not None else 0


def _update(engine: Engine, row_id: int, **values: Any) -> None:
    with session_scope(engine) as session:
        row = session.get(SlackDelivery, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def supersede(engine: Engine, sender: Sender, rows: Sequence[SlackDelivery], reason: str,
              now: datetime) -> None:
    """Settle unsent ``rows`` that a newer message replaces instead of posting them late: one an
    earlier run may have posted (interrupted, or failed after an ambiguous try) is looked up by its key
    and marked ``sent`` when found; the rest become ``superseded`` with ``reason`` and are never posted.
    A row whose lookup fails stays due and is looked up again on the next run."""
    for row in rows:
        if sender.can_check and row.status in ("sending", "failed"):
            try:
                ts = sender.find(row.channel, row.key, row.created_at - timedelta(minutes=5))
            except (DeliveryError, Deferred) as exc:
                log.warning("Slack message %s not checked: %s", row.key, exc)
                continue
            if ts is not None:
                _mark_sent(engine, row, ts, now)
                continue
        _update(engine, row.id, status=SUPERSEDED, error=reason)
        log.info("Slack message %s not sent: %s", row.key, reason)


# --- sending -------------------------------------------------------------------------------------

def deliver(engine: Engine, sender: Sender, kinds: Sequence[str], now: datetime, *,
            channels: Sequence[str] | None = None, pacer: Pacer | None = None,
            backoff: Callable[[float], None] = time.sleep, prefix: str = "") -> list[Outcome]:
    """Send every due message of ``kinds`` (see :func:`register`). One failing message never stops the
    others; each outcome says what happened."""
    pacer = pacer or Pacer()
    outcomes = []
    deferred: str | None = None  # once Slack asks for a long wait, the rest waits for the next run too
    # the parts ("…:2/3") after one not sent this run wait for it, so the channel reads them in order
    held: dict[str, str] = {}
    for row in due(engine, kinds, channels, prefix=prefix):
        message = SlackMessage(row.payload.get("channel", row.channel), row.payload.get("text", ""),
                               row.payload.get("blocks", []))
        outcome = Outcome(row.key, row.channel, row.kind, "failed", message,
                          items=list(row.payload.get("items", [])))
        series, part = _part_of(row.key)
        try:
            if deferred is not None:
                raise Deferred(deferred)
            if series in held:
                raise _Held(f"waits for part {held[series]}, which was not sent; they are sent in order "
                            "on the next run")
            try:
                ts = _deliver_one(engine, sender, row, message, now, pacer, backoff)
            except (Deferred, DeliveryError, AmbiguousDelivery):
                if series is not None:
                    held.setdefault(series, part)
                raise
        except Deferred as exc:
            _update(engine, row.id, error=str(exc))
            if deferred is None and not isinstance(exc, _Held):
                log.warning("Slack messages deferred: %s", exc)
                deferred = str(exc)
            outcome.status, outcome.error, outcome.passing = "deferred", str(exc), True
        except DeliveryError as exc:
            outcome.passing = isinstance(exc, SlackUnavailable)
            error = str(exc)
            if _attempts(engine, row.id) >= MAX_ATTEMPTS:  # no later run sends it: say so, not "next run"
                error += f"; {GIVEN_UP} {MAX_ATTEMPTS} refusals; it is not sent again"
            _update(engine, row.id, status="failed", error=error)
            log.warning("Slack message %s not sent: %s", row.key, error)
            outcome.error = error
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


class _Held(Deferred):
    """A part left for the next run because an earlier part of its series was not sent in this one."""


def _part_of(key: str) -> tuple[str | None, str]:
    """The series a message is part of and its place in it: ``("digest:#c:20260824T0600", "2/3")`` for
    ``digest:#c:20260824T0600:2/3``; no series for a message on its own."""
    series, _, part = key.rpartition(":")
    number, slash, total = part.partition("/")
    if slash and number.isdigit() and total.isdigit() and int(total) > 1:
        return series, part
    return None, part


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
    try:
        return _post_checked(engine, sender, row, message, now, pacer, backoff, since)
    except SlackUnavailable:
        # Slack down or unreachable is no fault of the message: only refusals and interrupted posts
        # count towards MAX_ATTEMPTS, so an outage of any length loses nothing
        _update(engine, row.id, attempts=row.attempts)
        raise


def _post_checked(engine: Engine, sender: Sender, row: SlackDelivery, message: SlackMessage, now: datetime,
                  pacer: Pacer, backoff: Callable[[float], None], since: datetime) -> str | None:
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
                    raise SlackUnavailable(f"{exc} for {message.channel} {POSTS_PER_RUN} times; it is sent "
                                           "on the next run") from None
                backoff(2.0 ** attempt)
                continue
        _mark_sent(engine, row, ts, now)
        return ts
    raise AssertionError("unreachable")


def _mark_sent(engine: Engine, row: SlackDelivery, ts: str | None, now: datetime) -> None:
    _update(engine, row.id, status="sent", message_ts=ts, sent_at=now, error=None)

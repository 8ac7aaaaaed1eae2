"""The digest and alert jobs, run by ``fundradar digest`` / ``fundradar alerts`` and the scheduler.

Without a Slack token or webhook in the environment nothing is logged or sent: the outcomes carry the
messages (status ``terminal``) and the CLI prints them. With ``dry_run`` nothing is written either.

Both cover every strategy of the config, each with its own channels and Slack settings. When the
strategies come from a folder, every delivery key starts with ``<strategy>:`` so that two clusters
alerted about the same call, or sharing a channel, each get their message once, and a strategy's
application reminders, followed-call changes and digest "our applications" cover only its own
applications (those of its ideas, and of shared ideas without a strategy: see pipeline.ideas).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.core.clock import UTC, as_utc
from pipeline.core.config import DigestChannel, LoadedConfig, Schedule, Strategy
from pipeline.core.errors import ConfigError, ValidationError
from pipeline.core.models import SlackDelivery
from pipeline.core.schedules import cron_trigger
from pipeline.notify.alerts import ALARM, RECOVERED, batch_messages, collect_alerts
from pipeline.notify.blocks import SlackMessage
from pipeline.notify.delivery import (
    SUPERSEDED,
    Outcome,
    Outgoing,
    Pacer,
    Sender,
    WebhookSender,
    baseline,
    deliver,
    due,
    known_keys,
    make_sender,
    register,
    register_batch,
    sending,
    settle_batch,
    supersede,
)
from pipeline.notify.digest import build_digest, collect_digest
from pipeline.tenancy import scope_of

log = logging.getLogger("fundradar.slack")
DEFAULT_CHANNEL = "#eu-funding"


def digest_channels(strategy: Strategy, channel: str | None = None) -> list[DigestChannel]:
    """The configured digest channels, or the one named ``channel`` (with or without ``#``)."""
    configured = list(strategy.slack.digests)
    if channel is None:
        return configured or [DigestChannel(channel=DEFAULT_CHANNEL)]
    wanted = channel.lstrip("#")
    for item in configured:
        if item.channel.lstrip("#") == wanted:
            return [item]
    if not configured:
        return [DigestChannel(channel=channel)]
    names = ", ".join(item.channel for item in configured)
    raise ValidationError(f"no digest is configured for channel {channel!r}; the strategy has {names} "
                          "(slack.digests)")


def default_period(schedule: Schedule) -> timedelta:
    """How far back the first digest of a channel looks: its schedule's interval (a cron schedule
    that names weekdays counts as weekly unless it runs on several days)."""
    seconds = schedule.interval_seconds()
    if seconds is not None:
        return timedelta(seconds=seconds)
    weekday = (schedule.cron or "* * * * *").split()[4]
    return timedelta(days=1) if weekday == "*" or "-" in weekday or "," in weekday else timedelta(days=7)


def schedule_period(schedule: Schedule, timezone: str, now: datetime) -> datetime:
    """The start of the period of ``schedule`` that ``now`` falls in: the latest cron time at or before
    ``now`` (in the strategy's time zone), or ``now`` rounded down to the ``every`` interval (counted
    from the Unix epoch). One digest per channel is sent per period, whoever asks for it (``digest``,
    ``run`` and ``serve`` alike), so a rerun a minute later finds it sent."""
    seconds = schedule.interval_seconds()
    if seconds is not None:
        stamp = int(now.timestamp()) // seconds * seconds
        return datetime.fromtimestamp(stamp, tz=UTC)
    trigger = cron_trigger(schedule.cron or "* * * * *", ZoneInfo(timezone))
    # walk forward from two default periods back; the last fire time not after now starts the period.
    # The step is taken in UTC: a local time's arithmetic forgets which pass of a repeated hour it is
    # in (its fold), so a second-pass 02:30 plus a second came before itself and the walk never ended
    start = now - 2 * default_period(schedule)
    fire = trigger.get_next_fire_time(None, start)
    last = start
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(seconds=1))
    return as_utc(last)


def period_key(prefix: str, channel: str, period: datetime) -> str:
    """The delivery key shared by every part of one channel's digest for one period."""
    return f"{prefix}digest:{channel}:{period.astimezone(UTC).strftime('%Y%m%dT%H%M')}:"


def period_start(session: Session, channel: DigestChannel, now: datetime, prefix: str = "") -> datetime:
    """The end of the channel's previous digest (of this strategy, by key ``prefix``), or one schedule
    period ago."""
    query = select(sa.func.max(SlackDelivery.created_at)).where(
        SlackDelivery.kind == "digest", SlackDelivery.channel == channel.channel,
        SlackDelivery.created_at <= now, SlackDelivery.status != SUPERSEDED)
    if prefix:
        query = query.where(SlackDelivery.key.startswith(prefix, autoescape=True))
    last = session.exec(query).first()
    return last if last is not None else now - default_period(channel.schedule)


def digest_targets(loaded_config: LoadedConfig, channel: str | None = None
                   ) -> list[tuple[Strategy, list[DigestChannel]]]:
    """Per strategy its digest channels (or the one named ``channel``). A single strategy without
    digests configured gets the default channel; with several, such a strategy is left out."""
    if len(loaded_config.strategies) == 1:
        return [(loaded_config.strategy, digest_channels(loaded_config.strategy, channel))]
    targets = []
    for strategy in loaded_config.strategies:
        configured = list(strategy.slack.digests)
        if channel is not None:
            configured = [d for d in configured if d.channel.lstrip("#") == channel.lstrip("#")]
        elif not configured:
            log.info("strategy %s has no digest channels (slack.digests): no digest for it", strategy.name)
        if configured:
            targets.append((strategy, configured))
    if channel is not None and not targets:
        have = "; ".join(f"{s.name}: {', '.join(d.channel for d in s.slack.digests) or 'none'}"
                         for s in loaded_config.strategies)
        raise ValidationError(f"no digest is configured for channel {channel!r}; the strategies have {have} "
                              "(slack.digests)")
    return targets


ALREADY_SENT = "already sent for this period"


def send_digests(engine: Engine, loaded_config: LoadedConfig, now: datetime, *, channel: str | None = None,
                 dry_run: bool = False, environ: Mapping[str, str] = os.environ,
                 pacer: Pacer | None = None, force: bool = False) -> list[Outcome]:
    """Build each channel's digest, for every strategy of the config, and send it (or return it, see
    the module doc). A channel whose digest for the current period of its schedule was sent gets an
    ``already sent`` outcome instead (:func:`schedule_period`); ``force`` sends it again."""
    outcomes: list[Outcome] = []
    for strategy, channels in digest_targets(loaded_config, channel):
        selected = loaded_config.select(strategy.name)
        outcomes += _strategy_digests(engine, strategy, channels, loaded_config.key_prefix(strategy), now,
                                      dry_run=dry_run, environ=environ, pacer=pacer, force=force,
                                      scope=scope_of(selected), path=selected.strategy_path)
    return outcomes


def _sent_in_period(engine: Engine, key: str) -> list[SlackDelivery]:
    """The logged parts of the digest whose keys start with ``key`` (one channel, one period)."""
    with Session(engine) as session:
        return list(session.exec(select(SlackDelivery).where(
            SlackDelivery.key.startswith(key, autoescape=True))
            .order_by(SlackDelivery.id)))


def webhook_warnings(loaded_config: LoadedConfig, environ: Mapping[str, str] = os.environ) -> list[str]:
    """A warning per strategy that sends several digests through one incoming webhook: a webhook posts
    to the one channel chosen when it was created, so the digests all land there."""
    found = []
    for strategy in loaded_config.strategies:
        digests = strategy.slack.digests
        if len(digests) > 1 and isinstance(make_sender(strategy.slack, environ), WebhookSender):
            names = ", ".join(d.channel for d in digests)
            found.append(f"strategy {strategy.name}: {len(digests)} digests ({names}) share the webhook in "
                         f"{strategy.slack.webhook_env}, which posts to one channel; set "
                         f"{strategy.slack.token_env} (a bot token) to reach each channel")
    return found


def _strategy_digests(engine: Engine, strategy: Strategy, channels: list[DigestChannel], prefix: str,
                      now: datetime, *, dry_run: bool, environ: Mapping[str, str],
                      pacer: Pacer | None, scope: str | None = None, force: bool = False,
                      path: Any = None) -> list[Outcome]:
    sender = None if dry_run else make_sender(strategy.slack, environ)
    if sender is not None and not isinstance(sender, WebhookSender) and not strategy.slack.digests:
        # the default channel is for a preview (and a webhook posts to its own channel): a bot would
        # post to a channel the cluster never named
        raise ConfigError("no digest channel configured, so the bot token has none to post to; add one, "
                          "e.g. digests: [{channel: '#eu-funding'}]",
                          path=None if path is None else str(path), key="slack.digests")
    if sender is not None:
        baseline(engine, now)
        if isinstance(sender, WebhookSender) and len(channels) > 1:
            log.warning("%d digests go through one webhook, so all to its one channel: %s",
                        len(channels), ", ".join(c.channel for c in channels))
    elif not dry_run:
        _no_slack(strategy)
    outcomes: list[Outcome] = []
    for item in channels:
        # serve's job and a command at once: the second waits, then finds the period's digest sent
        with sending(engine, f"{prefix}digest:{item.channel}", active=sender is not None):
            outcomes += _channel_digest(engine, sender, strategy, item, prefix, now, dry_run=dry_run,
                                        pacer=pacer, scope=scope, force=force)
    return outcomes


def _channel_digest(engine: Engine, sender: Sender | None, strategy: Strategy, item: DigestChannel,
                    prefix: str, now: datetime, *, dry_run: bool, pacer: Pacer | None, scope: str | None,
                    force: bool) -> list[Outcome]:
    key = period_key(prefix, item.channel, schedule_period(item.schedule, strategy.timezone, now))
    if sender is not None:
        # an unsent digest of an earlier period is stale (its days left, its list): this period's
        # digest replaces it and covers its period too; one a crash may have posted is looked up
        earlier = [row for row in due(engine, ("digest",), [item.channel], prefix=prefix)
                   if not row.key.startswith(key)]
        supersede(engine, sender, earlier, f"replaced by the digest of {key.rstrip(':')}", now)
    if sender is not None and due(engine, ("digest",), [item.channel], prefix=key):
        log.info("resending the unsent digest for %s", item.channel)
    elif sender is not None and not force and (logged := _sent_in_period(engine, key)):
        log.info("the digest for %s was %s", item.channel, ALREADY_SENT)
        return [Outcome(row.key, item.channel, "digest",
                        "already sent" if row.status == "sent" else row.status, _logged(row),
                        ts=row.message_ts, error=ALREADY_SENT) for row in logged]
    else:
        with Session(engine) as session:
            since = period_start(session, item, now, prefix)
            data = collect_digest(session, strategy, item, now, since, scope=scope)
        # a folder's strategies: the commands the digest suggests name this one
        messages = build_digest(replace(data, command_strategy=strategy.name) if prefix else data)
        if force:  # a resend of the period's digest gets keys of its own
            key += f"resent-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}:"
        outgoing = [Outgoing(f"{key}{n}/{len(messages)}", "digest", m)
                    for n, m in enumerate(messages, start=1)]
        if sender is None:
            status = "dry run" if dry_run else "terminal"
            return [Outcome(o.key, item.channel, "digest", status, o.message) for o in outgoing]
        register(engine, outgoing, now)
    return _send(engine, sender, ("digest",), now, [item.channel], pacer, key)


def _logged(row: SlackDelivery) -> SlackMessage:
    payload = row.payload or {}
    return SlackMessage(payload.get("channel", row.channel), payload.get("text", ""),
                        payload.get("blocks", []))


def send_alerts(engine: Engine, loaded_config: LoadedConfig, now: datetime, *, dry_run: bool = False,
                environ: Mapping[str, str] = os.environ, pacer: Pacer | None = None) -> list[Outcome]:
    """Send every alert and reminder due now, each once, for every strategy with alerts configured.
    The first run only records the baseline (existing calls and changes count as seen) and the
    reminders due."""
    configured = [s for s in loaded_config.strategies if s.slack.alerts is not None]
    if not configured:
        log.info("no alerts configured (slack.alerts in %s)", loaded_config.config_path)
        return []
    outcomes: list[Outcome] = []
    for strategy in configured:
        prefix = loaded_config.key_prefix(strategy)
        # serve's job and a command at once: the second waits, then finds the alerts logged
        with sending(engine, f"{prefix}alerts", active=not dry_run):
            outcomes += _strategy_alerts(engine, strategy, prefix, now, dry_run=dry_run, environ=environ,
                                         pacer=pacer, scope=scope_of(loaded_config.select(strategy.name)))
    return outcomes


def _strategy_alerts(engine: Engine, strategy: Strategy, prefix: str, now: datetime, *, dry_run: bool,
                     environ: Mapping[str, str], pacer: Pacer | None,
                     scope: str | None = None) -> list[Outcome]:
    config = strategy.slack.alerts
    assert config is not None
    sender = None if dry_run else make_sender(strategy.slack, environ)
    if sender is None and not dry_run:
        _no_slack(strategy)
    since, _created = baseline(engine, now, create=sender is not None)
    with Session(engine) as session:
        alerts = collect_alerts(session, strategy, config.channel, config.reminder_days, now, since,
                                scope=scope, named=strategy.name if prefix else "")
        if prefix:
            # sent before the strategy moved into a folder: the same key without prefix, same channel
            before = _sent_to(session, [a.key for a in alerts], config.channel)
            alerts = [Outgoing(prefix + a.key, a.kind, a.message) for a in alerts if a.key not in before]
        sent = known_keys(session, (a.key for a in alerts))
        # a recovery only follows an alarm that went out
        alarms = known_keys(session, (a.key.replace(RECOVERED, ALARM) for a in alerts if RECOVERED in a.key))
    fresh = [a for a in alerts if a.key not in sent
             and (RECOVERED not in a.key or a.key.replace(RECOVERED, ALARM) in alarms)]
    parts: list[Outgoing] = []
    if fresh:
        stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        batch = f"{prefix}alerts:{config.channel}:{stamp}"
        messages = batch_messages(config.channel, f"Funding alerts for {strategy.organisation}", fresh,
                                  strategy=strategy.name if prefix else "")
        keys = [a.key for a in fresh]
        parts = [Outgoing(f"{batch}:{n}/{len(messages)}", "alerts",
                          SlackMessage(m.channel, m.text, m.blocks)) for n, m in enumerate(messages, start=1)]
    if sender is None:
        status = "dry run" if dry_run else "terminal"
        return [Outcome(p.key, config.channel, "alerts", status, p.message, items=keys) for p in parts]
    if parts:
        register_batch(engine, batch, parts, fresh, now)
    outcomes = _send(engine, sender, ("alerts", "alert", "reminder"), now, None, pacer, prefix)
    settle_batch(engine, outcomes, now)
    return outcomes


def _sent_to(session: Session, keys: Sequence[str], channel: str) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(session.exec(select(SlackDelivery.key).where(
            SlackDelivery.key.in_(keys[start:start + 500]),
            SlackDelivery.channel == channel)))
    return found


def _no_slack(strategy: Strategy) -> None:
    log.info("neither %s nor %s is set: nothing is sent to Slack", strategy.slack.token_env,
             strategy.slack.webhook_env)


def _send(engine: Engine, sender: Sender, kinds: Sequence[str], now: datetime,
          channels: Sequence[str] | None, pacer: Pacer | None, prefix: str = "") -> list[Outcome]:
    outcomes = deliver(engine, sender, kinds, now, channels=channels, pacer=pacer, prefix=prefix)
    for outcome in outcomes:
        if outcome.status == "sent":
            log.info("sent %s to %s", outcome.key, outcome.channel)
    return outcomes

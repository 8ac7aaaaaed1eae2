"""Alerts for the calls a strategy follows (pipeline.follow), as for the call of an application.

- a deadline change, a withdrawal or a removal, and the call listed again after one: key
  ``alert:change:CHANGE``, the key an application's
  change alert has, so a call both followed and bid for is reported once (the application's alert
  names the application; a call one of the strategy's applications bids for is left to it);
- a reminder at the strategy's ``reminder_days`` before the call's next deadline, only the most
  urgent one due (``reminder:follow:CALL:DEADLINE:DAYS``); a call with an open application of the
  strategy gets that application's reminder instead.

``scope`` is as in pipeline.notify.alerts: the applications that count are the strategy's own and
the shared ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, select

from pipeline.core.config import Strategy
from pipeline.core.deadlines import ACTIVE, days_until, effective_status, next_deadline, time_assumed
from pipeline.core.models import Application, Call, CallChange, CallFollow, Idea
from pipeline.notify.actions import add_actions
from pipeline.notify.alerts import BACK, _message, status_change
from pipeline.notify.blocks import SlackMessage, closing_text, command, days_text, section
from pipeline.notify.delivery import Outgoing
from pipeline.notify.escape import call_name, clean, escape, link
from pipeline.notify.followed import DEADLINE_FIELDS, DONE_APPLICATION_STATUSES, followed_changes
from pipeline.tenancy import visible


def followed_call_alerts(session: Session, strategy: Strategy, channel: str, reminder_days: Sequence[int],
                         now: datetime, since: datetime, *, scope: str | None = None,
                         named: str = "") -> list[Outgoing]:
    """Change alerts and reminders due now for the calls ``strategy`` follows (sent ones included;
    the delivery log skips their keys); ``named`` is the strategy their commands name (:func:`command`)."""
    follows = {f.call_id: f for f in session.exec(select(CallFollow).where(
        CallFollow.strategy == strategy.name, CallFollow.kind == "follow"))}
    if not follows:
        return []
    bids = session.exec(visible(select(Application.call_id, Application.status).join(
        Idea, Idea.id == Application.idea_id, isouter=True), scope)).all()
    with_application = {call_id for call_id, _status in bids}
    with_open_application = {call_id for call_id, status in bids if status not in DONE_APPLICATION_STATUSES}
    alerts = _changes(session, channel, follows, set(follows) - with_application, now, since, named)
    alerts += _reminders(session, channel, follows, set(follows) - with_open_application, reminder_days, now)
    # each with an Unfollow button: on a phone `fundradar calls unfollow` is out of reach
    return [Outgoing(a.key, a.kind, add_actions(a.message, strategy.name, call_id, unfollow_only=True))
            for call_id, a in alerts]


def _changes(session: Session, channel: str, follows: dict[int, CallFollow], call_ids: set[int],
             now: datetime, since: datetime, named: str) -> list[tuple[int, Outgoing]]:
    return [(found.call.id, Outgoing(f"alert:change:{found.change.id}", "alert",
                                     change_message(channel, found.call, found.change,
                                                    follows[found.call.id], found.old, found.new,
                                                    strategy=named)))
            for found in followed_changes(session, call_ids, since, now)
            if found.kind in ("deadline", "withdrawn", "back")]


def _reminders(session: Session, channel: str, follows: dict[int, CallFollow], call_ids: set[int],
               reminder_days: Sequence[int], now: datetime) -> list[tuple[int, Outgoing]]:
    if not reminder_days or not call_ids:
        return []
    alerts = []
    for call in session.exec(select(Call).where(Call.id.in_(call_ids)).order_by(Call.id)):
        deadline = next_deadline(call, now)
        if deadline is None or effective_status(call, now) not in ACTIVE:
            continue
        due = [days for days in reminder_days if deadline - timedelta(days=days) <= now]
        if not due:
            continue
        days = min(due)
        key = f"reminder:follow:{call.id}:{deadline.strftime('%Y%m%dT%H%M')}:{days}"
        alerts.append((call.id, Outgoing(key, "reminder",
                                         reminder_message(channel, call, follows[call.id], deadline, now))))
    return alerts


def _who(follow: CallFollow, start: str = "followed") -> str:
    """Who follows: a Slack mention as stored by the Follow button (``<@U123>``), else escaped text."""
    if not follow.by:
        return start
    by = follow.by if re.fullmatch(r"<@[A-Z0-9]+>", follow.by) else escape(clean(follow.by))
    return f"{start} by {by}"


def change_message(channel: str, call: Call, change: CallChange, follow: CallFollow, old: str | None,
                   new: str | None, *, strategy: str = "") -> SlackMessage:
    """A followed call's deadline move or withdrawal; ``old`` and ``new`` as shown (Brussels time),
    ``strategy`` named in its command as :func:`command` does."""
    title = call_name(call.title, call.id, 250)
    if change.field in DEADLINE_FIELDS:
        what = f"Deadline moved: {escape(old) or '?'} → {escape(new) or '?'} (Brussels time)"
        short = "Deadline moved"
    else:
        what, short = status_change(old, new)
    icon = ":white_check_mark:" if short == BACK else ":warning:"
    text = f"{icon} *{short}* for a call we follow\n*{link(call.url, title)}*\n{what}\n" \
           f"{_who(follow, 'Followed')} · {command(f'calls unfollow {call.id}', strategy)}"
    return _message(channel, f"{short}: {title}", [section(text)])


def reminder_message(channel: str, call: Call, follow: CallFollow, deadline: datetime,
                     now: datetime) -> SlackMessage:
    title = call_name(call.title, call.id, 250)
    left, assumed = days_text(days_until(deadline, now)), time_assumed(call, deadline)
    text = f":alarm_clock: *{left}* for a call we follow\n*{link(call.url, title)}*\n" \
           f"{closing_text(deadline, None, time_assumed=assumed, zone=True)} · {_who(follow)}"
    return _message(channel, f"Reminder, {left}: {title}", [section(text)])

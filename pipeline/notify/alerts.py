"""Alerts: the few things that need someone now, each with a key so it is sent once.

- a new call scoring at or above a focus area's ``alert_threshold`` (key ``alert:new:CALL``);
- a deadline change or a withdrawal of a call that an application (an idea's bid) follows, and the
  call listed again after a withdrawal or removal (``alert:change:CHANGE``);
- a reminder before an application's deadline at the configured ``reminder_days`` (default 14, 7, 2):
  only the most urgent due reminder is sent, so an application created five days before its deadline
  gets the 2-day reminder later and not three at once (``reminder:APP:DEADLINE:DAYS``).

The last two concern applications, which belong to a strategy through their idea: with ``scope`` (a
config folder: the strategy whose channel the alerts go to) only that strategy's applications and the
shared ones (ideas without a strategy) count, so another cluster's bids never reach this channel.

Calls and changes from before ``since`` (the notification baseline written on the first run after
install) count as seen. Reading is :func:`collect_alerts`; the message text is built by pure functions.

Each alert keeps its own key (the delivery log records it once), but one run posts them together:
:func:`batch_messages` puts every alert due for a channel into one message, a section per kind (new
matches, changes to followed calls, reminders, source health), one section per call, so a reader gets
one notification instead of a dozen posts in a row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock
from sqlmodel import Session, select

from pipeline.core.config import Strategy
from pipeline.core.deadlines import ACTIVE, days_until, effective_status, next_deadline, time_assumed
from pipeline.core.models import Application, Call, CallChange, FetchRun, Idea, Score, Verdict
from pipeline.core.ranking import score_order
from pipeline.follow import followed_calls, muted_calls
from pipeline.notify.actions import add_actions, without_repeats
from pipeline.notify.blocks import (
    MAX_FALLBACK_CHARS,
    SlackMessage,
    closing_text,
    command,
    context,
    days_text,
    fmt_money,
    header,
    heading,
    section,
    split_messages,
)
from pipeline.notify.delivery import Outgoing
from pipeline.notify.digest import matched_phrases
from pipeline.notify.escape import call_name, clean, escape, link, truncate
from pipeline.notify.followed import (
    BACK_STATUSES,
    DEADLINE_FIELDS,
    DONE_APPLICATION_STATUSES,
    GONE_STATUSES,
    deadline_text,
    followed_changes,
)
from pipeline.notify.health import is_bad, runs_by_source, source_names
from pipeline.tenancy import visible


def collect_alerts(session: Session, strategy: Strategy, channel: str, reminder_days: Sequence[int],
                   now: datetime, since: datetime, *, scope: str | None = None,
                   named: str = "") -> list[Outgoing]:
    """Every alert due now (already-sent ones included; the delivery log skips their keys). ``named``
    is the strategy the alerts' commands name (a folder of several strategies, :func:`command`)."""
    from pipeline.notify.follow_alerts import followed_call_alerts  # followed calls (imports this module)

    runs = strategy.slack.alerts.source_alarm_runs if strategy.slack.alerts else 3
    return [*new_call_alerts(session, strategy, channel, now, since, named=named),
            *change_alerts(session, channel, now, since, scope=scope),
            *reminders(session, channel, reminder_days, now, scope=scope),
            *followed_call_alerts(session, strategy, channel, reminder_days, now, since, scope=scope,
                                  named=named),
            *source_alerts(session, strategy, channel, runs)]


RECOVERED = "alert:source-ok:"
ALARM = "alert:source:"


def source_alerts(session: Session, strategy: Strategy, channel: str, runs_needed: int) -> list[Outgoing]:
    """A source whose last ``runs_needed`` or more finished runs were all bad (failed, suspicious, or
    read nothing) raises ``alert:source:NAME:RUN`` (RUN the first bad run of the streak, so a new streak
    alarms again); its first good run after such a streak gives ``alert:source-ok:NAME:RUN``, which the
    job only sends when the alarm went out."""
    alerts = []
    for name, history in runs_by_source(session, source_names(session, strategy)).items():
        latest_good = bool(history) and not is_bad(history[0], empty_is_bad=True)
        streak = []
        for run in history[1:] if latest_good else history:
            if not is_bad(run, empty_is_bad=True):
                break
            streak.append(run)
        if len(streak) < runs_needed:
            continue
        first = streak[-1]
        if latest_good:
            alerts.append(Outgoing(f"{RECOVERED}{name}:{first.id}", "alert", source_message(
                channel, name, streak, history[0], strategy.timezone)))
        else:
            alerts.append(Outgoing(f"{ALARM}{name}:{first.id}", "alert", source_message(
                channel, name, streak, None, strategy.timezone)))
    return alerts


def new_call_alerts(session: Session, strategy: Strategy, channel: str, now: datetime,
                    since: datetime, *, named: str = "") -> list[Outgoing]:
    # call -> (margin over the threshold, the evidence's margin, score): the best area by margin, of
    # equal margins the one with more evidence before the cap (pipeline.core.ranking)
    best: dict[int, tuple[float, float, Score]] = {}
    for score in session.exec(select(Score).where(Score.strategy == strategy.name)):
        area = strategy.focus_areas.get(score.focus_area)
        if area is None or score.score < area.alert_threshold:
            continue
        margin = score.score - area.alert_threshold
        beyond = (score.score if score.evidence is None else score.evidence) - area.alert_threshold
        if score.call_id not in best or (margin, beyond) > best[score.call_id][:2]:
            best[score.call_id] = (margin, beyond, score)
    if not best:
        return []
    rejected = set(session.exec(select(Verdict.call_id).where(
        Verdict.strategy == strategy.name, Verdict.passed == False)))  # noqa: E712
    rejected |= muted_calls(session, strategy.name)  # a muted call raises no new-call alert
    followed = followed_calls(session, strategy.name)  # offered Unfollow, not a Follow that does nothing
    # a call another source stored before is no new call: its copies (pipeline.core.duplicates) raise
    # no alert, nor does the copy kept when one of its copies was seen before the period
    known = set(session.exec(select(Call.duplicate_of).where(Call.duplicate_of.is_not(None),
                                                             Call.first_seen <= since)))
    calls = session.exec(select(Call).where(Call.id.in_(best), Call.first_seen > since,
                                            Call.duplicate_of.is_(None), Call.id.not_in(known))
                         .order_by(Call.first_seen, Call.id)).all()
    # the best first, in the listing's order: past MAX_SHOWN_PER_KIND of a storm (a source's first run)
    # only a count is shown
    def rank(call: Call) -> tuple[Any, ...]:
        upcoming = next_deadline(call, now)
        margin, beyond, _ = best[call.id]
        return score_order(margin, beyond, upcoming.isoformat() if upcoming else None, call.id)

    calls = sorted(calls, key=rank)
    alerts = []
    for call in calls:
        if call.id in rejected or effective_status(call, now) not in ACTIVE:
            continue
        score = best[call.id][2]
        area = strategy.focus_areas[score.focus_area]
        message = new_call_message(channel, call, score, area.label, now,
                                   why=matched_phrases(area, f"{call.title}\n{call.text}"), strategy=named)
        alerts.append(Outgoing(f"alert:new:{call.id}", "alert",
                               add_actions(message, strategy.name, call.id, followed=call.id in followed)))
    return alerts


def change_alerts(session: Session, channel: str, now: datetime, since: datetime, *,
                  scope: str | None = None) -> list[Outgoing]:
    followers: dict[int, list[tuple[Application, Idea | None]]] = {}
    for app, idea in session.exec(visible(select(Application, Idea).join(
            Idea, Idea.id == Application.idea_id, isouter=True), scope)):
        followers.setdefault(app.call_id, []).append((app, idea))
    alerts = []
    for found in followed_changes(session, followers, since, now):
        if found.kind == "status":  # only a withdrawal (or its undoing) needs someone now; others wait
            continue
        followed_by = followers[found.call.id]
        alerts.append(Outgoing(f"alert:change:{found.change.id}", "alert",
                               change_message(channel, found.call, found.change, followed_by)))
    return alerts


def reminders(session: Session, channel: str, reminder_days: Sequence[int], now: datetime, *,
              scope: str | None = None) -> list[Outgoing]:
    if not reminder_days:
        return []
    alerts = []
    rows = session.exec(visible(select(Application, Call, Idea).join(Call, Call.id == Application.call_id)
                                .join(Idea, Idea.id == Application.idea_id, isouter=True)
                                .where(Application.status.not_in(DONE_APPLICATION_STATUSES)),
                                scope).order_by(Application.id)).all()
    for app, call, idea in rows:
        deadline = next_deadline(call, now)
        if deadline is None:
            continue
        due = [days for days in reminder_days if deadline - timedelta(days=days) <= now]
        if not due:
            continue
        days = min(due)
        key = f"reminder:{app.id}:{deadline.strftime('%Y%m%dT%H%M')}:{days}"
        alerts.append(Outgoing(key, "reminder", reminder_message(channel, app, call, idea, deadline, now)))
    return alerts


# --- messages (pure) -----------------------------------------------------------------------------

def _message(channel: str, text: str, blocks: list[Block]) -> SlackMessage:
    return SlackMessage(channel, escape(truncate(text, 300)), [b.to_dict() for b in blocks])


def _deadline(call: Call, now: datetime) -> str:
    upcoming = next_deadline(call, now)
    if upcoming is None:
        return "no deadline announced"
    return closing_text(upcoming, days_until(upcoming, now), time_assumed=time_assumed(call, upcoming),
                        zone=True)


def new_call_message(channel: str, call: Call, score: Score, area_label: str, now: datetime, *,
                     why: Sequence[str] = (), strategy: str = "") -> SlackMessage:
    """A new call above its focus area's alert threshold; ``why`` the area's keywords found in the call
    (:func:`pipeline.notify.digest.matched_phrases`, as the digest says it), else the score's heaviest
    terms; ``strategy`` named in its command as :func:`command` does."""
    title = call_name(call.title, call.id, 250)
    terms = ", ".join(escape(clean(str(t))) for t in why) or \
        ", ".join(escape(clean(str(t.get("term")))) for t in (score.explanation or [])[:5] if t.get("term"))
    facts = [escape(truncate(clean(call.programme), 80)) if call.programme else None, _deadline(call, now),
             f"budget {fmt_money(call.budget)}" if call.budget else None]
    text = f":rotating_light: *New call for {escape(area_label)}* (score {score.score:.2f})\n" \
           f"*{link(call.url, title)}*\n" + " · ".join(f for f in facts if f)
    if terms:
        text += f"\nWhy: {terms}"
    return _message(channel, f"New call for {area_label}: {title}",
                    [section(text), context(f"fundradar · {command(f'calls show {call.id}', strategy)}")])


def change_message(channel: str, call: Call, change: CallChange,
                   followers: Sequence[tuple[Application, Idea | None]]) -> SlackMessage:
    title = call_name(call.title, call.id, 250)
    if change.field in DEADLINE_FIELDS:
        what = f"Deadline moved: {escape(deadline_text(change.old)) or '?'} → " \
               f"{escape(deadline_text(change.new)) or '?'} (Brussels time)"
        short = "Deadline moved"
    else:
        what, short = status_change(change.old, change.new)
    icon = ":white_check_mark:" if short == BACK else ":warning:"
    who = "; ".join(f"application #{app.id}"
                    + (f" ({escape(truncate(clean(idea.title), 80))})" if idea else "")
                    + (f", owner {escape(clean(app.owner))}" if app.owner else "") for app, idea in followers)
    text = f"{icon} *{short}* for a call we follow\n*{link(call.url, title)}*\n{what}\nFollowed by {who}"
    return _message(channel, f"{short}: {title}", [section(text)])


BACK = "Call back"


def status_change(old: str | None, new: str | None) -> tuple[str, str]:
    """(what happened, the short heading) of a followed call's status change: a call gone (withdrawn,
    removed) listed again is "back", any other change names the new status (pure)."""
    if old in GONE_STATUSES and new in BACK_STATUSES:
        return f"The call is listed again, now *{escape(new)}* (was {escape(old)})", BACK
    return f"The call is now *{escape(new)}* (was {escape(old) or '?'})", f"Call {new}"


def reminder_message(channel: str, app: Application, call: Call, idea: Idea | None, deadline: datetime,
                     now: datetime) -> SlackMessage:
    title = call_name(call.title, call.id, 250)
    left, assumed = days_text(days_until(deadline, now)), time_assumed(call, deadline)
    name = escape(truncate(clean(idea.title), 120)) if idea else f"application #{app.id}"
    text = f":alarm_clock: *{left}* for application #{app.id} ({name}): _{escape(app.status)}_\n" \
           f"*{link(call.url, title)}*\n{closing_text(deadline, None, time_assumed=assumed, zone=True)}" + \
           (f" · owner {escape(clean(app.owner))}" if app.owner else "")
    return _message(channel, f"Reminder, {left}: {title}", [section(text)])



def _what(run: FetchRun) -> str:
    if run.outcome == "suspicious":
        return "suspicious"
    return "failed" if run.outcome == "failed" else "read nothing"


def source_message(channel: str, name: str, streak: Sequence[FetchRun], recovered: FetchRun | None,
                   timezone: str) -> SlackMessage:
    """The alarm for a source's streak of bad runs (newest first), or its recovery by run ``recovered``."""
    tz = ZoneInfo(timezone)
    since = streak[-1].started_at.astimezone(tz).strftime("%-d %b %H:%M")
    label = escape(clean(name))
    if recovered is not None:
        at = recovered.started_at.astimezone(tz).strftime("%-d %b %H:%M")
        text = f":white_check_mark: *Source {label} is back*: its run at {at} read {recovered.seen} " \
               f"{'call' if recovered.seen == 1 else 'calls'} " \
               f"after {len(streak)} bad runs since {since}."
        return _message(channel, f"Source {name} is back", [section(text)])
    kinds = sorted({_what(run) for run in streak})
    error = next((run.error for run in streak if run.error), None)
    text = f":rotating_light: *Source {label}: {len(streak)} bad runs in a row* ({', '.join(kinds)}) " \
           f"since {since}; its listings may be stale." + \
           (f"\nLast error: {escape(truncate(clean(error), 300))}" if error else "") + \
           "\nSee `fundradar sources status`."
    return _message(channel, f"Source {name}: {len(streak)} bad runs in a row", [section(text)])


# --- one message per channel and run (pure) -------------------------------------------------------

GROUPS = (  # (marker in the key, heading, noun, what lists them all) in the order they are shown
    ("alert:new:", "New matches", "new match", "{calls list --passing} lists them"),
    # the calls of our applications and the calls followed: `calls list --followed` has only the latter
    ("alert:change:", "Changes to calls we follow", "change",
     "{applications list} and {calls list --followed} list their calls"),
    ("reminder:", "Reminders", "reminder", "{deadlines} lists them"),
    ("alert:source", "Source health", "source alert", "`fundradar sources status` lists them"),
)
_COMMAND = re.compile(r"\{([^}]+)\}")  # a per-strategy command in a hint of GROUPS
# alerts of one kind shown in full per run; a storm (a source's first run, a portal moving every
# deadline) is counted past them, so the channel gets one or two messages, not a dozen in a row
MAX_SHOWN_PER_KIND = 20


def group_of(key: str) -> int:
    """The index in :data:`GROUPS` of an alert key (strategy prefixes never contain these markers)."""
    return next((n for n, (marker, *_rest) in enumerate(GROUPS) if marker in key), len(GROUPS) - 1)


def _counted(count: int, noun: str) -> str:
    plural = noun[:-2] + "ches" if noun.endswith("match") else noun + "s"
    return f"{count} {noun if count == 1 else plural}"


def batch_messages(channel: str, title: str, items: Sequence[Outgoing],
                   strategy: str = "") -> list[SlackMessage]:
    """Every alert of ``items`` in one message (more only past Slack's 50 blocks): a header, a count
    line, then per kind a heading and each alert's own blocks, dividers between the kinds. ``strategy``
    is named in the commands the message suggests (a folder of several strategies, :func:`command`)."""
    grouped: dict[int, list[Outgoing]] = {}
    for item in items:
        grouped.setdefault(group_of(item.key), []).append(item)
    order = sorted(grouped)
    counts = " · ".join(_counted(len(grouped[n]), GROUPS[n][2]) for n in order)
    blocks: list[Block | dict[str, Any]] = [header(title), context(counts)]
    shown: set[str] = set()  # the block ids so far: a call two alerts name has its buttons once
    for n in order:
        blocks.append(DividerBlock())
        blocks.append(heading(f"*{GROUPS[n][1]}*"))
        for item in grouped[n][:MAX_SHOWN_PER_KIND]:
            blocks.extend(without_repeats(item.message.blocks, shown))
        if len(grouped[n]) > MAX_SHOWN_PER_KIND:
            more, noun = _counted(len(grouped[n]) - MAX_SHOWN_PER_KIND, GROUPS[n][2]).split(" ", 1)
            hint = _COMMAND.sub(lambda m: command(m.group(1), strategy), GROUPS[n][3])
            blocks.append(section(f"_… and {more} more {noun}; {hint}._"))
    shown = {id(i) for n in order for i in grouped[n][:MAX_SHOWN_PER_KIND]}
    fallback = f"{escape(title)}: {escape(counts)}. " + "; ".join(i.message.text for i in items
                                                                   if id(i) in shown)
    return split_messages(channel, blocks, truncate(fallback, MAX_FALLBACK_CHARS), title)

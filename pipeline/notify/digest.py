"""The digest for one Slack channel: what to say (read from the database) and how (Block Kit).

:func:`collect_digest` reads the rows (scores, verdicts, changes, applications) into a
:class:`DigestData`; :func:`build_digest` is pure and turns it into one or more :class:`SlackMessage`
(Block Kit blocks plus a plain-text fallback). Slack's limits are respected by construction: at most
50 blocks per message (a longer digest continues in a second message), at most 3,000 characters per
section text (lines are packed into several sections; a longer list ends with "N more").
Every piece of scraped text goes through :mod:`pipeline.notify.escape`.

"Our applications" are the strategy's own with ``scope`` (a config folder: applications of its ideas
and of the shared ones, see :mod:`pipeline.ideas`), every application without.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from sqlmodel import Session, select

from pipeline.calls import ACTIVE, effective_status, next_deadline
from pipeline.core.clock import BRUSSELS, as_utc
from pipeline.core.config import DigestChannel, Strategy
from pipeline.core.models import Application, ApplicationEvent, Call, CallChange, Idea, Score, Verdict
from pipeline.follow import followed_calls, muted_calls  # Slack workbench: follow / mute
from pipeline.ideas import visible
from pipeline.notify.actions import with_actions  # Slack workbench: the buttons under each call
from pipeline.notify.escape import clean, escape, link, truncate

MAX_BLOCKS = 50  # per message (Slack)
MAX_SECTION_CHARS = 3000  # per section text (Slack)
MAX_HEADER_CHARS = 150  # per header text (Slack)
MAX_LIST_LINES = 40  # changes / applications shown before "N more"
MAX_FALLBACK_CHARS = 3000  # the notification text; Slack truncates far later, but keep it readable
DONE_APPLICATION_STATUSES = ("submitted", "granted", "rejected", "withdrawn")
DEADLINE_FIELDS = ("deadlines", "deadline")


@dataclass(frozen=True)
class SlackMessage:
    """One chat message: Block Kit ``blocks`` and the plain ``text`` fallback (notifications, old
    clients)."""

    channel: str
    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"channel": self.channel, "text": self.text, "blocks": self.blocks}


@dataclass(frozen=True)
class TopCall:
    call_id: int
    title: str
    url: str | None
    programme: str | None
    topic_id: str | None
    deadline: datetime | None
    days_left: int | None
    deadline_time_assumed: bool
    budget: float | None
    max_contribution: float | None
    funding_rate: float | None
    success_rate: float | None
    score: float
    focus_area: str  # the focus area's label
    terms: list[str]
    new: bool


@dataclass(frozen=True)
class ChangeLine:
    call_id: int
    title: str
    url: str | None
    kind: str  # deadline | status | withdrawn
    old: str | None
    new: str | None
    at: datetime


@dataclass(frozen=True)
class ApplicationLine:
    application_id: int
    idea_title: str
    call_title: str
    url: str | None
    status: str
    deadline: datetime | None
    days_left: int | None
    events: list[str] = field(default_factory=list)  # "draft → writing (by Mette)"


@dataclass(frozen=True)
class DigestData:
    channel: str
    organisation: str
    period_start: datetime
    period_end: datetime
    timezone: str
    matching: int  # active calls above the channel's min_score
    new: int  # of those, first seen in the period
    filtered_by_rules: int  # matching calls the strategy rules turned down
    top: list[TopCall]
    changes: list[ChangeLine]
    applications: list[ApplicationLine]
    strategy: str = ""  # whose buttons go under each top call (Slack workbench); "" = no buttons


# --- reading the rows ----------------------------------------------------------------------------

def collect_digest(session: Session, strategy: Strategy, channel: DigestChannel, now: datetime,
                   since: datetime, *, scope: str | None = None) -> DigestData:
    """The channel's digest content for the period ``since``..``now``."""
    areas = list(channel.focus_areas or strategy.focus_areas)
    best: dict[int, Score] = {}
    for score in session.exec(select(Score).where(Score.strategy == strategy.name,
                                                  Score.focus_area.in_(areas),  # type: ignore[attr-defined]
                                                  Score.score >= channel.min_score)):
        if score.call_id not in best or score.score > best[score.call_id].score:
            best[score.call_id] = score
    calls = {c.id: c for c in session.exec(select(Call).where(Call.id.in_(best)))  # type: ignore[union-attr]
             if effective_status(c, now) in ACTIVE}
    for cid in muted_calls(session, strategy.name) & set(calls):  # Slack workbench: mute hides a call
        del calls[cid]
    verdicts = {v.call_id: v for v in session.exec(select(Verdict).where(
        Verdict.strategy == strategy.name, Verdict.call_id.in_(calls)))}  # type: ignore[attr-defined]
    rejected = {cid for cid, v in verdicts.items() if not v.passed}
    eligible = [cid for cid in calls if cid not in rejected]

    def rank(cid: int) -> tuple[float, str]:
        upcoming = next_deadline(calls[cid], now)
        return (-best[cid].score, upcoming.isoformat() if upcoming else "9999")

    eligible.sort(key=rank)
    top = []
    for cid in eligible[: channel.top]:
        call, score, verdict = calls[cid], best[cid], verdicts.get(cid)
        upcoming = next_deadline(call, now)
        area = strategy.focus_areas.get(score.focus_area)
        top.append(TopCall(
            call_id=cid, title=call.title, url=call.url, programme=call.programme, topic_id=call.topic_id,
            deadline=upcoming, days_left=(upcoming - now).days if upcoming else None,
            deadline_time_assumed=call.deadline_time_assumed, budget=call.budget,
            max_contribution=call.max_contribution,
            funding_rate=verdict.funding_rate if verdict and verdict.funding_rate is not None
            else call.funding_rate,
            success_rate=verdict.success_rate if verdict else None, score=score.score,
            focus_area=area.label if area else score.focus_area,
            terms=[str(t.get("term")) for t in (score.explanation or [])[:5] if t.get("term")],
            new=as_utc(call.first_seen) > since))  # type: ignore[operator]
    new_count = sum(1 for cid in eligible if as_utc(calls[cid].first_seen) > since)  # type: ignore[operator]

    query = select(Application)
    if scope is not None:
        query = visible(query.join(Idea, Idea.id == Application.idea_id), scope).order_by(Application.id)
    applications = session.exec(query).all()
    followed = {a.call_id for a in applications} | {t.call_id for t in top}
    followed |= followed_calls(session, strategy.name)  # Slack workbench: calls followed explicitly
    return DigestData(
        channel=channel.channel, organisation=strategy.organisation, period_start=since, period_end=now,
        timezone=strategy.timezone, matching=len(eligible), new=new_count, filtered_by_rules=len(rejected),
        top=top, changes=collect_changes(session, followed, since, now),
        applications=collect_applications(session, applications, since, now), strategy=strategy.name)


def collect_changes(session: Session, call_ids: set[int], since: datetime, now: datetime) -> list[ChangeLine]:
    """Deadline moves, status changes and withdrawals of ``call_ids`` in the period, oldest first."""
    if not call_ids:
        return []
    rows = session.exec(select(CallChange, Call).join(Call, Call.id == CallChange.call_id).where(
        CallChange.call_id.in_(call_ids),  # type: ignore[attr-defined]
        CallChange.field.in_((*DEADLINE_FIELDS, "status")),  # type: ignore[attr-defined]
        CallChange.changed_at > since, CallChange.changed_at <= now)
        .order_by(CallChange.changed_at, CallChange.id)).all()
    lines = []
    for change, call in rows:
        if change.field in DEADLINE_FIELDS:
            kind, old, new = "deadline", deadline_text(change.old), deadline_text(change.new)
            if old == new:
                continue
        else:
            kind = "withdrawn" if change.new in ("withdrawn", "removed") else "status"
            old, new = change.old, change.new
        lines.append(ChangeLine(call.id, call.title, call.url, kind, old, new,  # type: ignore[arg-type]
                                as_utc(change.changed_at)))  # type: ignore[arg-type]
    return lines


def collect_applications(session: Session, applications: Sequence[Application], since: datetime,
                         now: datetime) -> list[ApplicationLine]:
    """Open applications with their call's next deadline, and every application whose status changed
    in the period; soonest deadline first."""
    events: dict[int, list[ApplicationEvent]] = {}
    for event in session.exec(select(ApplicationEvent).where(ApplicationEvent.at > since,
                                                             ApplicationEvent.at <= now)
                              .order_by(ApplicationEvent.at, ApplicationEvent.id)):
        if event.to_status and event.to_status != event.from_status:
            events.setdefault(event.application_id, []).append(event)
    lines = []
    for app in applications:
        is_open = app.status not in DONE_APPLICATION_STATUSES
        if not is_open and app.id not in events:
            continue
        call, idea = session.get(Call, app.call_id), session.get(Idea, app.idea_id)
        if call is None:
            continue
        upcoming = next_deadline(call, now) if is_open else None
        lines.append(ApplicationLine(
            application_id=app.id, idea_title=idea.title if idea else "", call_title=call.title,  # type: ignore[arg-type]
            url=call.url, status=app.status, deadline=upcoming,
            days_left=(upcoming - now).days if upcoming else None,
            events=[f"{e.from_status or 'new'} → {e.to_status}" + (f" (by {e.by})" if e.by else "")
                    for e in events.get(app.id, [])]))  # type: ignore[arg-type]
    lines.sort(key=lambda a: (a.deadline is None, a.deadline or now, a.application_id))
    return lines


def deadline_text(value: str | None) -> str | None:
    """A stored deadline value (ISO text, or the JSON list of ``{"at": …}``) as Brussels time."""
    if not value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        data = value
    items = data if isinstance(data, list) else [data]
    shown = []
    for item in items:
        raw = item.get("at") if isinstance(item, dict) else item
        try:
            shown.append(fmt_deadline(as_utc(datetime.fromisoformat(str(raw)))))  # type: ignore[arg-type]
        except ValueError:
            shown.append(str(raw))
    return ", ".join(shown) or None


# --- building the blocks (pure) ------------------------------------------------------------------

def fmt_deadline(value: datetime) -> str:
    return value.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M")


def fmt_money(value: float | None) -> str | None:
    if value is None:
        return None
    if value >= 1_000_000:
        return f"€{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"€{value / 1_000:.0f}k"
    return f"€{value:.0f}"


def fmt_pct(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.0f}%"


def days_text(days: int | None) -> str:
    if days is None:
        return ""
    return "today" if days == 0 else "1 day left" if days == 1 else f"{days} days left"


def call_section_text(call: TopCall) -> str:
    """The mrkdwn of one top call's section (at most 3,000 characters)."""
    title = f"*{link(call.url, truncate(clean(call.title), 250))}*" + ("  :new:" if call.new else "")
    where = " · ".join(escape(clean(p)) for p in (call.programme, call.topic_id) if p)
    if call.deadline:
        deadline = f"Deadline {fmt_deadline(call.deadline)} Brussels time" + \
            (" (time assumed)" if call.deadline_time_assumed else "") + f", {days_text(call.days_left)}"
    else:
        deadline = "Deadline not announced"
    money = [f"budget {fmt_money(call.budget)}" if call.budget else None,
             f"up to {fmt_money(call.max_contribution)} per project" if call.max_contribution else None]
    rates = [f"funding rate {fmt_pct(call.funding_rate)}" if call.funding_rate is not None else None,
             f"success rate {fmt_pct(call.success_rate)}" if call.success_rate is not None else None,
             f"score {call.score:.2f} ({escape(call.focus_area)})"]
    lines = [title, where, " · ".join(p for p in [deadline, *money] if p), " · ".join(p for p in rates if p)]
    if call.terms:
        lines.append("Why: " + ", ".join(escape(clean(t)) for t in call.terms))
    return truncate("\n".join(line for line in lines if line), MAX_SECTION_CHARS)


def change_line(change: ChangeLine) -> str:
    what = link(change.url, truncate(clean(change.title), 120))
    if change.kind == "deadline":
        return f"• {what}: deadline moved {escape(change.old) or '?'} → {escape(change.new) or '?'}"
    if change.kind == "withdrawn":
        return f"• {what}: *{escape(change.new)}* (was {escape(change.old) or '?'})"
    return f"• {what}: status {escape(change.old) or '?'} → {escape(change.new) or '?'}"


def application_line(app: ApplicationLine) -> str:
    head = f"• #{app.application_id} {escape(truncate(clean(app.idea_title), 80))} → " \
           f"{link(app.url, truncate(clean(app.call_title), 120))}: _{escape(app.status)}_"
    if app.deadline:
        head += f", deadline {fmt_deadline(app.deadline)} ({days_text(app.days_left)})"
    if app.events:
        head += "; " + ", ".join(escape(e) for e in app.events)
    return head


def pack_lines(lines: Sequence[str], *, limit: int = MAX_SECTION_CHARS, max_lines: int = MAX_LIST_LINES,
               more: str = "more") -> list[str]:
    """Lines joined into section texts of at most ``limit`` characters; after ``max_lines`` lines the
    rest is summarised as "… and N more"."""
    shown = list(lines[:max_lines])
    if len(lines) > max_lines:
        shown.append(f"… and {len(lines) - max_lines} {more}")
    texts: list[str] = []
    current = ""
    for line in shown:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, MAX_SECTION_CHARS))])


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=truncate(text, MAX_HEADER_CHARS), emoji=True))


def period_text(data: DigestData) -> str:
    tz = ZoneInfo(data.timezone)
    start, end = data.period_start.astimezone(tz), data.period_end.astimezone(tz)
    fmt = "%d %b %Y %H:%M" if data.period_end - data.period_start < timedelta(days=2) else "%d %b %Y"
    return f"{start.strftime(fmt)} – {end.strftime(fmt)} ({data.timezone})"


def build_digest(data: DigestData) -> list[SlackMessage]:
    """The digest as one or more messages (more than one only when it exceeds 50 blocks)."""
    title = f"Funding digest for {clean(data.organisation)}"
    counts = f"{data.matching} matching open call{'s' if data.matching != 1 else ''}, {data.new} new"
    if data.filtered_by_rules:
        counts += f", {data.filtered_by_rules} left out by the strategy rules"
    counts += f" · {len(data.changes)} change{'s' if len(data.changes) != 1 else ''} to calls we follow"
    blocks: list[Block] = [
        header(title),
        context(f"{escape(period_text(data))} · {counts} · deadlines in Brussels time (Europe/Brussels)"),
    ]
    if data.top:
        blocks.append(section("*Top call*" if len(data.top) == 1 else f"*Top {len(data.top)} calls*"))
        for call in data.top:  # Slack workbench: each call's section followed by its buttons
            blocks.extend(with_actions(section(call_section_text(call)), data.strategy, call.call_id))
    else:
        blocks.append(section("_No open call matches the strategy above the channel's minimum score._"))
    if data.changes:
        blocks.append(DividerBlock())
        blocks.append(section("*Changes to calls we follow*"))
        blocks.extend(section(text) for text in pack_lines([change_line(c) for c in data.changes],
                                                           more="more changes"))
    if data.applications:
        blocks.append(DividerBlock())
        blocks.append(section("*Our applications*"))
        blocks.extend(section(text) for text in pack_lines([application_line(a) for a in data.applications],
                                                           more="more applications"))
    fallback = f"{title}: {counts}."
    if data.top:
        fallback += " Top: " + "; ".join(clean(c.title) for c in data.top[:5])
    return split_messages(data.channel, blocks, escape(truncate(fallback, MAX_FALLBACK_CHARS)), title)


def split_messages(channel: str, blocks: Sequence[Block], text: str, title: str) -> list[SlackMessage]:
    """``blocks`` cut into messages of at most 50 blocks; each continuation starts with a context line
    naming the part."""
    chunks: list[list[Block]] = []
    current: list[Block] = []
    for block in blocks:
        if len(current) == MAX_BLOCKS:
            chunks.append(current)
            current = [context("")]  # placeholder, filled in below once the part count is known
        current.append(block)
    chunks.append(current)
    messages = []
    for number, chunk in enumerate(chunks, start=1):
        if number > 1:
            chunk[0] = context(f"{escape(clean(title))} (part {number} of {len(chunks)})")
        part_text = text if number == 1 else f"{escape(clean(title))} (part {number} of {len(chunks)})"
        messages.append(SlackMessage(channel, part_text, [b.to_dict() for b in chunk]))
    return messages


def render_terminal(messages: Sequence[SlackMessage]) -> str:
    """A readable plain rendering of messages for the terminal (dry run, no Slack configured)."""
    out: list[str] = []
    for message in messages:
        out.append(f"── {message.channel} " + "─" * max(0, 60 - len(message.channel)))
        for block in message.blocks:
            kind = block.get("type")
            if kind == "header":
                out.append(block["text"]["text"].upper())
            elif kind == "context":
                out.append("  ".join(_plain(e.get("text", "")) for e in block.get("elements", [])))
            elif kind == "section":
                out.extend([_plain(block["text"]["text"]), ""])
            elif kind == "divider":
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def _plain(mrkdwn: str) -> str:
    """mrkdwn shown as text: links as "label (url)", *bold* markers dropped, entities decoded."""
    mrkdwn = re.sub(r"\*([^*\n]+)\*", r"\1", mrkdwn)
    text = re.sub(r"<([^|>]+)\|([^>]*)>", lambda m: f"{m.group(2)} ({m.group(1)})", mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

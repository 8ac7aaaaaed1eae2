"""The digest for one Slack channel: what to say (read from the database) and how (Block Kit).

:func:`collect_digest` reads the rows (scores, verdicts, changes, applications) into a
:class:`DigestData`; :func:`build_digest` is pure and turns it into one or more :class:`SlackMessage`
(Block Kit blocks plus a plain-text fallback) from the vocabulary of :mod:`pipeline.notify.blocks`,
which keeps Slack's limits (a digest over 50 blocks continues in a second message; long lists are
packed into several sections and end with "N more"). Changes of followed calls are
:func:`pipeline.notify.followed.followed_changes`, the same the alerts read. Every piece of scraped
text goes through :mod:`pipeline.notify.escape`.

"Our applications" are the strategy's own with ``scope`` (a config folder: applications of its ideas
and of the shared ones, see :mod:`pipeline.tenancy`), every application without.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, DividerBlock
from sqlmodel import Session, select

from pipeline.core.clock import as_utc
from pipeline.core.config import DigestChannel, Strategy
from pipeline.core.deadlines import ACTIVE, effective_status, next_deadline
from pipeline.core.models import Application, ApplicationEvent, Call, Idea, Score, Verdict
from pipeline.notify.blocks import (
    MAX_FALLBACK_CHARS,
    MAX_SECTION_CHARS,
    SlackMessage,
    context,
    days_text,
    fmt_deadline,
    fmt_money,
    fmt_pct,
    header,
    pack_lines,
    section,
    split_messages,
)
from pipeline.notify.escape import clean, escape, link, truncate
from pipeline.notify.followed import DONE_APPLICATION_STATUSES, followed_changes
from pipeline.notify.programmes import ProgrammeCall, collect_programme_calls, programme_blocks
from pipeline.tenancy import visible


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
    # the strategy's programmes_of_interest, whatever their score (pipeline.notify.programmes)
    programmes: list[ProgrammeCall] = field(default_factory=list)


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
    return DigestData(
        channel=channel.channel, organisation=strategy.organisation, period_start=since, period_end=now,
        timezone=strategy.timezone, matching=len(eligible), new=new_count, filtered_by_rules=len(rejected),
        top=top, changes=collect_changes(session, followed, since, now),
        applications=collect_applications(session, applications, since, now),
        programmes=collect_programme_calls(session, strategy, now))


def collect_changes(session: Session, call_ids: set[int], since: datetime, now: datetime) -> list[ChangeLine]:
    """Deadline moves, status changes and withdrawals of ``call_ids`` in the period, oldest first."""
    return [ChangeLine(f.call.id, f.call.title, f.call.url, f.kind, f.old, f.new, f.at)  # type: ignore[arg-type]
            for f in followed_changes(session, call_ids, since, now)]


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


# --- building the blocks (pure) ------------------------------------------------------------------

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
        blocks.extend(section(call_section_text(call)) for call in data.top)
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
    blocks.extend(programme_blocks(data.programmes))
    fallback = f"{title}: {counts}."
    if data.top:
        fallback += " Top: " + "; ".join(clean(c.title) for c in data.top[:5])
    return split_messages(data.channel, blocks, escape(truncate(fallback, MAX_FALLBACK_CHARS)), title)

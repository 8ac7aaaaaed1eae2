"""The digest for one Slack channel: what to say (read from the database) and how (Block Kit).

:func:`collect_digest` reads the rows (scores, verdicts, changes, applications) into a
:class:`DigestData`; :func:`build_digest` is pure and turns it into one or more :class:`SlackMessage`
(Block Kit blocks plus a plain-text fallback) from the vocabulary of :mod:`pipeline.notify.blocks`, which
keeps Slack's limits (over 50 blocks continue in a second message; long lists end "N more"). Changes
of followed calls are :func:`pipeline.notify.followed.followed_changes`, the same the alerts read.
Every piece of scraped text goes through :mod:`pipeline.notify.escape`.

"Our applications" are the strategy's own with ``scope`` (a config folder: applications of its ideas
and of the shared ones, see :mod:`pipeline.tenancy`), every application without.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from slack_sdk.models.blocks import Block, DividerBlock
from sqlmodel import Session, select

from pipeline.applications import TRANSITIONS
from pipeline.core.clock import as_utc
from pipeline.core.config import DigestChannel, Strategy
from pipeline.core.deadlines import (
    ACTIVE,
    GONE,
    days_until,
    effective_status,
    last_deadline,
    next_deadline,
    time_assumed,
)
from pipeline.core.models import (
    Application,
    ApplicationEvent,
    Call,
    Idea,
    Mark,
    Score,
    SlackInteraction,
    Verdict,
)
from pipeline.core.ranking import score_order
from pipeline.follow import followed_calls, follows, muted_calls
from pipeline.notify.actions import STATUS_MARK, call_block_id, followed_line, marked_text, with_actions
from pipeline.notify.blocks import (
    MAX_FALLBACK_CHARS,
    MAX_HEADER_CHARS,
    MAX_SECTION_CHARS,
    SlackMessage,
    closing_text,
    command,
    context,
    days_text,
    fmt_day,
    fmt_deadline,
    fmt_money,
    header,
    heading,
    pack_lines,
    section,
    split_messages,
)
from pipeline.notify.escape import call_name, clean, escape, link, truncate
from pipeline.notify.followed import DONE_APPLICATION_STATUSES, followed_changes
from pipeline.notify.health import (
    SourceHealth,
    all_failed,
    health_line,
    none_ran,
    source_health,
    source_names,
)
from pipeline.notify.programmes import (
    ProgrammeCall,
    ProgrammeState,
    collect_programme_calls,
    collect_programme_states,
    programme_blocks,
)
from pipeline.notify.why import matched_phrases, terms_in_words
from pipeline.tenancy import visible
from pipeline.workflow import is_overdue


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
    why: list[str] = field(default_factory=list)  # the focus area's keywords or phrases found in the call
    opening_date: datetime | None = None  # shown for a call that has not opened yet
    status: str = "open"
    followed_by: str | None = None  # who followed it, when the strategy already follows the call
    followed: bool = False
    mark: tuple[str, str | None] | None = None  # the latest every-area mark: (label, by whom)


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
    call_status: str | None = None  # removed | withdrawn when the call is gone
    missed: datetime | None = None  # not submitted by this, the call's last deadline: overdue
    deadline_time_assumed: bool = False  # the source gave the deadline's day, not its hour


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
    strategy: str = ""  # whose buttons go under each top call; "" = no buttons
    sources: list[SourceHealth] = field(default_factory=list)
    switched_off: list[str] = field(default_factory=list)  # its sources when every one is enabled: false
    focus: str | None = None  # the channel's focus areas, when it has its own: its title names them
    # the strategy's programmes_of_interest, whatever their score (pipeline.notify.programmes)
    programmes: list[ProgrammeCall] = field(default_factory=list)
    programme_states: list[ProgrammeState] = field(default_factory=list)  # every one, in the strategy's order
    unscored: int = 0  # active calls of its sources with no verdict for the strategy: not scored yet
    # the matching calls by status (open, forthcoming, announced); empty: every one open
    statuses: dict[str, int] = field(default_factory=dict)
    command_strategy: str = ""  # named in the commands the digest suggests (blocks.command)


# --- reading the rows ----------------------------------------------------------------------------

def _stronger(score: Score, than: Score) -> bool:
    """Whether ``score`` is a call's better area than ``than``: higher, or equal with more evidence."""
    return score_order(score.score, score.evidence, None, 0) < score_order(than.score, than.evidence, None, 0)


def collect_digest(session: Session, strategy: Strategy, channel: DigestChannel, now: datetime,
                   since: datetime, *, scope: str | None = None) -> DigestData:
    """The channel's digest content for the period ``since``..``now``."""
    areas = list(channel.focus_areas or strategy.focus_areas)
    best: dict[int, Score] = {}
    for score in session.exec(select(Score).where(Score.strategy == strategy.name,
                                                  Score.focus_area.in_(areas),
                                                  Score.score >= channel.min_score)):
        if score.call_id not in best or _stronger(score, best[score.call_id]):
            best[score.call_id] = score
    # another source's copy of a call (pipeline.core.duplicates) is in the digest as that call
    calls = {c.id: c for c in session.exec(select(Call).where(Call.id.in_(best), Call.duplicate_of.is_(None)))
             if effective_status(c, now) in ACTIVE}
    for cid in muted_calls(session, strategy.name) & set(calls):  # a muted call leaves the digest
        del calls[cid]
    verdicts = {v.call_id: v for v in session.exec(select(Verdict).where(
        Verdict.strategy == strategy.name, Verdict.call_id.in_(calls)))}
    rejected = {cid for cid, v in verdicts.items() if not v.passed}
    eligible = [cid for cid in calls if cid not in rejected]

    def rank(cid: int) -> tuple[Any, ...]:  # the listing's order (pipeline.core.ranking)
        upcoming = next_deadline(calls[cid], now)
        score = best[cid]
        return score_order(score.score, score.evidence, upcoming.isoformat() if upcoming else None, cid)

    eligible.sort(key=rank)
    following = {f.call_id: f.by for f in follows(session, strategy.name)}
    # a follow by the button stores a mention; a digest is a new message, where a mention notifies
    # the follower every time, so the name Slack gave with the click is shown instead
    for click in session.exec(select(SlackInteraction).where(
            SlackInteraction.strategy == strategy.name, SlackInteraction.kind == "follow",
            SlackInteraction.call_id.in_(following)).order_by(SlackInteraction.id)):
        if following.get(click.call_id) == f"<@{click.user_id}>":
            following[click.call_id] = click.user_name or None
    # the team's latest mark of each call shown, so a call marked not for us does not read as unread
    marked: dict[int, tuple[str, str | None]] = {}
    for mark in session.exec(select(Mark).where(
            Mark.strategy == strategy.name, Mark.call_id.in_(eligible[: channel.top]),
            Mark.focus_area.is_(None)).order_by(Mark.marked_at, Mark.id)):
        marked[mark.call_id] = (mark.label, mark.marked_by)
    top = []
    for cid in eligible[: channel.top]:
        call, score, verdict = calls[cid], best[cid], verdicts.get(cid)
        upcoming = next_deadline(call, now)
        area = strategy.focus_areas.get(score.focus_area)
        top.append(TopCall(
            call_id=cid, title=call.title, url=call.url, programme=call.programme, topic_id=call.topic_id,
            deadline=upcoming, days_left=days_until(upcoming, now) if upcoming else None,
            deadline_time_assumed=call.deadline_time_assumed, budget=call.budget,
            max_contribution=call.max_contribution,
            funding_rate=verdict.funding_rate if verdict and verdict.funding_rate is not None
            else call.funding_rate,
            success_rate=verdict.success_rate if verdict else None, score=score.score,
            focus_area=area.label if area else score.focus_area,
            terms=terms_in_words(score.explanation, call),
            new=as_utc(call.first_seen) > since,
            why=matched_phrases(area, f"{call.title}\n{call.text}") if area else [],
            opening_date=call.opening_date, status=effective_status(call, now),
            followed=cid in following, followed_by=following.get(cid), mark=marked.get(cid)))
    new_count = sum(1 for cid in eligible if as_utc(calls[cid].first_seen) > since)
    statuses: dict[str, int] = {}
    for cid in eligible:
        status = effective_status(calls[cid], now)
        statuses[status] = statuses.get(status, 0) + 1

    query = select(Application)
    if scope is not None:
        query = visible(query.join(Idea, Idea.id == Application.idea_id), scope).order_by(Application.id)
    applications = session.exec(query).all()
    followed = {a.call_id for a in applications} | {t.call_id for t in top}
    followed |= followed_calls(session, strategy.name)  # and the calls followed explicitly
    names = source_names(session, strategy)
    sources = source_health(session, names, since)
    scored = select(Verdict.call_id).where(Verdict.strategy == strategy.name)
    unscored = session.exec(select(sa.func.count()).select_from(Call).where(
        Call.status.in_(ACTIVE), Call.source.in_(names), Call.id.not_in(scored))).one()
    programmes = collect_programme_calls(session, strategy, now)
    return DigestData(
        channel=channel.channel, organisation=strategy.organisation, period_start=since, period_end=now,
        timezone=strategy.timezone, matching=len(eligible), new=new_count, filtered_by_rules=len(rejected),
        top=top, changes=collect_changes(session, followed, since, now),
        applications=collect_applications(session, applications, since, now), strategy=strategy.name,
        sources=sources, switched_off=[] if any(s.enabled for s in strategy.sources.values())
        else list(strategy.sources),
        focus=", ".join(strategy.focus_areas[a].label if a in strategy.focus_areas else a
                        for a in channel.focus_areas) or None,
        programmes=programmes, unscored=unscored, statuses=statuses,
        programme_states=collect_programme_states(session, strategy, now, programmes, sources, since))


def collect_changes(session: Session, call_ids: set[int], since: datetime, now: datetime) -> list[ChangeLine]:
    """Deadline moves, status changes and withdrawals of ``call_ids`` in the period, oldest first."""
    return [ChangeLine(f.call.id, f.call.title, f.call.url, f.kind, f.old, f.new, f.at)
            for f in followed_changes(session, call_ids, since, now)]


def collect_applications(session: Session, applications: Sequence[Application], since: datetime,
                         now: datetime) -> list[ApplicationLine]:
    """Open applications with their call's next deadline (or, not submitted by the call's last
    deadline, the one they missed: overdue), and every application whose status changed in the period;
    soonest deadline first."""
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
        gone = call.status in GONE
        upcoming = next_deadline(call, now) if is_open and not gone else None
        last = last_deadline(call)
        missed = last if is_open and not gone and upcoming is None and last is not None \
            and is_overdue(app.status, last < now) else None
        lines.append(ApplicationLine(
            application_id=app.id, idea_title=idea.title if idea else "", call_title=call.title,
            url=call.url, status=app.status, deadline=upcoming,
            days_left=days_until(upcoming, now) if upcoming else None,
            events=[f"{e.from_status or 'new'} → {e.to_status}" + (f" (by {e.by})" if e.by else "")
                    for e in events.get(app.id, [])],
            call_status=call.status if gone else None, missed=missed,
            deadline_time_assumed=upcoming is not None and time_assumed(call, upcoming)))
    lines.sort(key=lambda a: ((a.deadline or a.missed) is None, a.deadline or a.missed or now,
                              a.application_id))
    return lines


# --- building the blocks (pure) ------------------------------------------------------------------

def call_section_text(call: TopCall, *, mark_new: bool = True) -> str:
    """One top call in three short lines for a phone: the linked title; programme, opening (when not
    open yet), closing date with days left, and money; why it matched (the focus area's words found in
    the call, else the matcher's terms). At most 3,000 characters."""
    title = f"*{link(call.url, call_name(call.title, call.call_id, 200))}*"
    if call.new and mark_new:
        title += "  :new:"
    facts = [escape(truncate(clean(call.programme), 80)) if call.programme else None]
    if call.opening_date and call.status in ("announced", "forthcoming"):
        facts.append(f"opens {fmt_day(call.opening_date)}")
    facts.append(closing_text(call.deadline, call.days_left, time_assumed=call.deadline_time_assumed)
                 if call.deadline and call.days_left is not None else "deadline not announced")
    if call.max_contribution:
        facts.append(f"up to {fmt_money(call.max_contribution)}")
    elif call.budget:
        facts.append(f"budget {fmt_money(call.budget)}")
    why = call.why or call.terms
    reason = f"{escape(call.focus_area)}: " + ", ".join(escape(clean(t)) for t in why) if why \
        else escape(call.focus_area)
    lines = [title, " · ".join(f for f in facts if f), f"Why: {reason}"]
    return truncate("\n".join(lines), MAX_SECTION_CHARS)


def change_line(change: ChangeLine) -> str:
    what = link(change.url, call_name(change.title, change.call_id, 120))
    if change.kind == "deadline":
        return f"• {what}: deadline moved {escape(change.old) or '?'} → {escape(change.new) or '?'}"
    if change.kind == "withdrawn":
        return f"• {what}: *{escape(change.new)}* (was {escape(change.old) or '?'})"
    if change.kind == "back":
        return f"• {what}: listed again, now *{escape(change.new)}* (was {escape(change.old)})"
    return f"• {what}: status {escape(change.old) or '?'} → {escape(change.new) or '?'}"


def application_line(app: ApplicationLine, strategy: str = "") -> str:
    head = f"• #{app.application_id} {escape(truncate(clean(app.idea_title), 80))} → " \
           f"{link(app.url, truncate(clean(app.call_title), 120))}: _{escape(app.status)}_"
    if app.call_status:
        head += f", :warning: *the call is {escape(app.call_status)}* " \
                f"({command(f'applications ack {app.application_id}', strategy)})"
    elif app.deadline:
        head += f", {closing_text(app.deadline, app.days_left, time_assumed=app.deadline_time_assumed)}"
    elif app.missed:  # not submitted, yet its call's last deadline passed: say so and how to record it
        moves = [to for to in ("submitted", "withdrawn") if to in TRANSITIONS.get(app.status, ())]
        head += f", :warning: *overdue*: the call closed {fmt_deadline(app.missed)}, not submitted" + (
            f" ({command(f'applications move {app.application_id} {moves[0]}', strategy)}"
            + "".join(f", or `{to}`" for to in moves[1:]) + ")" if moves else "")
    if app.events:
        head += "; " + ", ".join(escape(e) for e in app.events)
    return head


def period_text(data: DigestData) -> str:
    tz = ZoneInfo(data.timezone)
    start, end = data.period_start.astimezone(tz), data.period_end.astimezone(tz)
    fmt = "%-d %b %Y %H:%M" if data.period_end - data.period_start < timedelta(days=2) else "%-d %b %Y"
    return f"{start.strftime(fmt)} – {end.strftime(fmt)} ({data.timezone})"


def _names(names: Sequence[str], last: str, shown: int = 5) -> str:
    """``a, b and c`` (``last`` joins the final one), the names past ``shown`` counted."""
    if len(names) > shown:
        return f"{', '.join(names[:shown])}{last}{len(names) - shown} more"
    return last.join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def matching_text(data: DigestData) -> str:
    """"12 matching open calls", or, when some have not opened yet, "38 matching calls (12 open, 26
    forthcoming)": a forthcoming call is no open call, and the top list may hold only those."""
    calls = f"call{'s' if data.matching != 1 else ''}"
    kinds = [(n, status) for status in ("open", *sorted(set(data.statuses) - {"open"}))
             if (n := data.statuses.get(status, 0))]
    if len(kinds) > 1:
        return f"{data.matching} matching {calls} ({', '.join(f'{n} {status}' for n, status in kinds)})"
    return f"{data.matching} matching {kinds[0][1] if kinds else 'open'} {calls}"


NO_SOURCES = ("_No source is configured, so no call is watched: add one under `sources:` of the strategy "
              "(`config/sources/` has ready-made ones to copy)._")


def build_digest(data: DigestData) -> list[SlackMessage]:
    """The digest as one or more messages (more than one only when it exceeds 50 blocks)."""
    title = f"Funding digest for {clean(data.organisation)}"
    if data.focus:  # two digests in one channel (a webhook's) still tell apart
        title += f": {clean(data.focus)}"
    counts = f"{matching_text(data)}, {data.new} new"
    if data.filtered_by_rules:
        counts += f", {data.filtered_by_rules} left out by the strategy rules"
    counts += f" · {len(data.changes)} change{'s' if len(data.changes) != 1 else ''} to calls we follow"
    assumed = sum(1 for call in data.top if call.deadline and call.deadline_time_assumed)
    note = f" ({assumed} closing time{'s' if assumed != 1 else ''} assumed: the source gives only the day)" \
        if assumed else ""
    blocks: list[Block] = [
        header(title),
        context(f"{escape(period_text(data))} · {counts} · deadlines in Brussels time{note}"),
        context(health_line(data.sources, data.timezone, data.period_end)),
    ]
    sources_down = all_failed(data.sources)
    # the sources a replay left out (live only) are counted apart, as the Sources line counts them
    read = [h for h in data.sources if not h.skipped]
    failing = [clean(h.source) for h in read if h.failing]
    not_run = [clean(h.source) for h in read if h.last_outcome is None]
    if sources_down:  # the lists below are what we knew before: say so rather than "nothing matches"
        failed = sum(1 for h in read if h.runs_in_period)
        known = "nothing new is listed, and what is shown is from the last good runs" \
            if any(h.last_good for h in data.sources) \
            else "no source has been read well yet, so there is nothing to list"
        blocks.append(section(f":warning: *No source could be read since the last digest* ({failed} of "
                              f"{len(read)} failed): {known}."))
    if data.unscored and not sources_down:  # the lists below leave them out: never "nothing matches"
        unscored = "1 open call is" if data.unscored == 1 else f"{data.unscored} open calls are"
        blocks.append(section(f":warning: _{unscored} not scored yet (the scoring after the source runs "
                              "failed or has not finished; `fundradar score` scores them, and serve's log "
                              "says why it failed), so this digest cannot list what matches among them._"))
    if data.top:
        blocks.append(heading("*Top call*" if len(data.top) == 1 else f"*Top {len(data.top)} calls*"))
        all_new = all(call.new for call in data.top)  # then ":new:" on every line says nothing
        for n, call in enumerate(data.top):
            if n:
                blocks.append(DividerBlock())
            # each call one section, followed by its buttons when the digest is for a strategy
            # a call followed since (from the morning's alert, the CLI) offers Unfollow, and says so
            # and one marked since (the buttons, `calls mark`) its latest mark, by name
            text = call_section_text(call, mark_new=not all_new) + (
                followed_line(call.followed_by) if call.followed and data.strategy else "")
            if call.mark and data.strategy:
                text += (" · " if call.followed else f"\n{STATUS_MARK}") + marked_text(*call.mark)
            blocks.extend(with_actions(section(text, block_id=call_block_id(call.call_id)),
                                       data.strategy, call.call_id, followed=call.followed))
    elif none_ran(data.sources):  # an empty database: nothing was looked for yet
        blocks.append(section("_No source has run yet, so there is nothing to list: run `fundradar sync`, "
                              "or wait for the first runs of `fundradar serve`._"))
    elif data.unscored and not sources_down:
        pass  # the note above says why nothing is listed: no "no call matches" under it
    elif data.filtered_by_rules and not sources_down:  # calls matched: the rules are what left them out
        one = data.filtered_by_rules == 1
        calls = "the call" if one else f"the {data.filtered_by_rules} calls"
        named = data.command_strategy
        listed, why = command("calls list", named), command("calls why ID", named)
        blocks.append(section(f"_No open call passes the strategy rules: {calls} above the channel's "
                              f"minimum score {'fails' if one else 'each fail'} one ({listed} marks "
                              f"{'it' if one else 'them'} ✗, {why} says which rule)._"))
    elif (failing or not_run) and not sources_down:  # the sources read have nothing; say which were not
        unread = [f"{_names(names, ' and ')} {what}" for names, what in (
            (failing, "could not be read"), (not_run, "has not run yet" if len(not_run) == 1
                                             else "have not run yet")) if names]
        blocks.append(section("_No open call from the sources read matches the strategy above the channel's "
                              f"minimum score; {escape(' and '.join(unread))}, so their calls may be "
                              "missing._"))
    elif not data.sources:  # nothing is watched: "no call matches" would pass for a search made
        blocks.append(section(f"_Every source is switched off (`enabled: false`: "
                              f"{escape(', '.join(data.switched_off))}), so no call is watched._"
                              if data.switched_off else NO_SOURCES))
    elif not sources_down:
        blocks.append(section("_No open call matches the strategy above the channel's minimum score._"))
    if data.changes:
        blocks.append(DividerBlock())
        blocks.append(heading("*Changes to calls we follow*"))
        blocks.extend(section(text) for text in pack_lines([change_line(c) for c in data.changes],
                                                           more="more changes"))
    if data.applications:
        blocks.append(DividerBlock())
        blocks.append(heading("*Our applications*"))
        blocks.extend(section(text) for text in pack_lines([application_line(a, data.command_strategy)
                                                                for a in data.applications],
                                                           more="more applications"))
    blocks.extend(programme_blocks(data.programmes, data.programme_states, {c.call_id for c in data.top},
                                   strategy=data.command_strategy))
    title = truncate(title, MAX_HEADER_CHARS)  # as the header shows it: the counts follow it in a preview
    fallback = f"{title}: {counts}."
    if sources_down:
        fallback = f"{title}: no source could be read since the last digest."
    elif not data.sources and not (data.top or data.unscored or data.filtered_by_rules):
        off = "every source is switched off" if data.switched_off else "no source is configured"
        fallback = f"{title}: {off}, so no call is watched."
    elif none_ran(data.sources) and not data.top:
        fallback = f"{title}: no source has run yet."
    elif failing:  # what a phone's notification shows: the digest is short of these sources
        fallback += f" {len(failing)} of {len(read)} sources failing: {_names(failing, ', ')}."
    if data.unscored and not sources_down:
        fallback += f" {data.unscored} not scored yet."
    due = next((a for a in data.applications if a.deadline and a.days_left is not None), None)
    if due is not None and not data.new:  # a week with nothing new: its notification says what closes
        idea, call = truncate(clean(due.idea_title), 80), truncate(clean(due.call_title), 120)
        fallback += f" Next deadline: application #{due.application_id} ({idea}), {call}, " \
                    f"{days_text(due.days_left)}."
    if data.top:
        fallback += " Top: " + "; ".join(call_name(c.title, c.call_id, 300) for c in data.top[:5])
    return split_messages(data.channel, blocks, escape(truncate(fallback, MAX_FALLBACK_CHARS)), title)

"""The digest's "Programmes we follow" section: every open or forthcoming call of the strategy's
``programmes_of_interest``, with its deadline and the rules' verdict, whatever its relevance score.

Interreg and national calls are few, broad and short: a keyword score on a title is the wrong test for
them, so a strategy names the programmes it always wants to hear about. A call belongs to a programme of
interest when the name (case-insensitive) is part of the call's programme, or of its title when the
source stores no programme ("Innovationsfonden" follows every Innovationsfonden programme).

Every programme of interest is listed, also without an open call, with what we know of it
(:class:`ProgrammeState`): its last call closed on a day; none seen yet by the sources that watch it; no
data because those sources are failing, have not run, or were left out of a replay (live only); or no
source watches it at all (naming the ready-made configs in config/sources/ that would). A source watches
a programme when the programme it stores (``programme``, or one of ``programmes``) contains the name, or
when calls of it are stored.
:func:`collect_programme_calls` and :func:`collect_programme_states` read the rows,
:func:`programme_blocks` is pure. One line per programme or call, so the section reads on a phone.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock
from sqlmodel import Session, select

from pipeline.core.clock import BRUSSELS
from pipeline.core.config import Strategy
from pipeline.core.deadlines import (
    ACTIVE,
    days_until,
    effective_status,
    last_deadline,
    next_deadline,
    time_assumed,
)
from pipeline.core.errors import ConfigError
from pipeline.core.models import Call, Verdict
from pipeline.core.paths import CONFIG_DIR
from pipeline.core.yaml import read_yaml
from pipeline.follow import muted_calls
from pipeline.notify.blocks import closing_text, command, heading, pack_lines, section
from pipeline.notify.escape import call_name, clean, escape, link, truncate
from pipeline.notify.health import SourceHealth, source_health

# the section lists at most this many calls of one programme, soonest deadline first, then how many
# more: a broad programme (Horizon Europe has hundreds of open topics) leaves room for the next ones
MAX_CALLS_PER_PROGRAMME = 10
READY_MADE = CONFIG_DIR / "sources"  # ready-made source configs to copy into a strategy


@dataclass(frozen=True)
class ProgrammeCall:
    call_id: int
    programme: str  # the programme of interest it belongs to, as the strategy names it
    title: str
    url: str | None
    status: str
    deadline: datetime | None
    days_left: int | None
    passed: bool | None  # the rules' verdict; None when not scored yet
    failed: tuple[str, ...] = ()  # the reasons of the failed rules
    unknown: tuple[str, ...] = ()  # the rules that could not be checked (their figure is missing)
    score: float | None = None
    deadline_time_assumed: bool = False  # the source gave the deadline's day, not its hour


# what is known of a programme of interest without an open or forthcoming call
OPEN = "open"  # it has some: they are listed (ProgrammeCall)
CLOSED = "closed"  # its last call closed
NONE_SEEN = "none seen"  # its sources read fine, but no call of it yet
FAILING = "failing"  # no call stored, and its sources fail
NOT_RECORDED = "not recorded"  # no call stored, and the replay had no recording of its sources
NOT_RUN = "not run"  # no call stored, and its sources have not run yet
UNWATCHED = "unwatched"  # no source watches it
MUTED = "muted"  # its open or forthcoming calls are all muted


@dataclass(frozen=True)
class ProgrammeState:
    """One programme of interest and what is known of it (``kind``, one of the names above)."""

    programme: str
    kind: str
    sources: tuple[str, ...] = ()  # the sources watching it
    last_title: str | None = None  # CLOSED: the call that closed last, its page and final deadline
    last_url: str | None = None
    last_deadline: datetime | None = None
    ready_made: tuple[str, ...] = ()  # UNWATCHED: the files of config/sources/ with a source for it
    muted: tuple[int, ...] = ()  # MUTED: the ids of its muted open or forthcoming calls
    # FAILING, NOT_RUN: those of ``sources`` a replay left out (live only), named apart, since the
    # Sources line calls them live only, not failing or waiting for a run
    left_out: tuple[str, ...] = ()


def interest_of(call: Call, programmes: list[str]) -> str | None:
    """The first programme of interest ``call`` belongs to, or None (see the module docstring)."""
    where = (call.programme or call.title or "").casefold()
    return next((p for p in programmes if p.casefold() in where), None)


def collect_programme_calls(session: Session, strategy: Strategy, now: datetime) -> list[ProgrammeCall]:
    """The open and forthcoming calls of the strategy's programmes of interest, soonest deadline first."""
    wanted = list(strategy.programmes_of_interest)
    if not wanted:
        return []
    found: list[tuple[Call, str]] = []
    muted = muted_calls(session, strategy.name)  # muted: left out of the strategy's digests
    # another source's copy of a call (pipeline.core.duplicates) is listed as that call
    for call in session.exec(select(Call).where(Call.status.in_(ACTIVE), Call.duplicate_of.is_(None))):
        programme = interest_of(call, wanted)
        if programme is not None and call.id not in muted and effective_status(call, now) in ACTIVE:
            found.append((call, programme))
    ids = [c.id for c, _ in found]
    verdicts = {v.call_id: v for v in session.exec(select(Verdict).where(
        Verdict.strategy == strategy.name, Verdict.call_id.in_(ids)))}
    lines = []
    for call, programme in found:
        upcoming = next_deadline(call, now)
        verdict = verdicts.get(call.id)
        outcomes = verdict.outcomes if verdict else []
        failed = tuple(str(o.get("reason")) for o in outcomes if o.get("passed") is False)
        unknown = tuple(str(o.get("rule")) for o in outcomes if o.get("passed") is None)
        lines.append(ProgrammeCall(
            call_id=call.id, programme=programme, title=call.title, url=call.url,
            status=effective_status(call, now), deadline=upcoming,
            days_left=days_until(upcoming, now) if upcoming else None,
            passed=verdict.passed if verdict else None, failed=failed, unknown=unknown,
            score=verdict.best_score if verdict else None,
            deadline_time_assumed=upcoming is not None and time_assumed(call, upcoming)))
    lines.sort(key=lambda p: (wanted.index(p.programme), p.deadline is None, p.deadline or now, p.call_id))
    return lines


def source_programmes(source: Any) -> list[str]:
    """The programme names a source's config stores on its calls (``programme``, ``programmes``)."""
    names: list[str] = []
    single = getattr(source, "programme", None)
    if isinstance(single, str) and single:
        names.append(single)
    several = getattr(source, "programmes", None) or []
    names.extend(str(name) for name in several)  # a list, or a dict of label -> id
    return names


def watching_sources(strategy: Strategy, programme: str) -> list[str]:
    """The strategy's enabled sources whose programme names contain ``programme`` (case-insensitive)."""
    wanted = programme.casefold()
    return [name for name, source in strategy.sources.items()
            if source.enabled and any(wanted in p.casefold() for p in source_programmes(source))]


def ready_made_programmes(folder: Path = READY_MADE) -> dict[str, list[str]]:
    """File name -> the programme names its sources store, for the ready-made configs in ``folder``
    (a file that cannot be read is left out: the digest does not depend on it)."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            entries = list(((read_yaml(path) or {}).get("sources") or {}).values())
        except (ConfigError, AttributeError):
            continue
        found[path.name] = [str(e["programme"]) for e in entries
                            if isinstance(e, dict) and e.get("programme")]
    return found


def collect_programme_states(session: Session, strategy: Strategy, now: datetime,
                             calls: Sequence[ProgrammeCall], health: Sequence[SourceHealth],
                             since: datetime, *, ready_made: Path = READY_MADE) -> list[ProgrammeState]:
    """Every programme of interest, in the strategy's order, with what is known of it; ``calls`` are
    its open and forthcoming calls (:func:`collect_programme_calls`), ``health`` the digest's sources'
    (others watching a programme are read here, since ``since``)."""
    wanted = list(strategy.programmes_of_interest)
    if not wanted:
        return []
    with_calls = {c.programme for c in calls}
    stored: dict[str, set[str]] = {p: set() for p in wanted}  # programme -> sources with calls of it
    last: dict[str, Call] = {}
    muted_ids = muted_calls(session, strategy.name)
    muted: dict[str, list[int]] = {p: [] for p in wanted}
    rows = session.exec(select(Call).where(Call.status.in_((*ACTIVE, "closed"))).order_by(Call.id))
    for call in rows:
        programme = interest_of(call, wanted)
        if programme is None:
            continue
        stored[programme].add(call.source)
        status = effective_status(call, now)
        if status in ACTIVE and call.id in muted_ids:
            muted[programme].append(call.id)
        if status != "closed":
            continue
        final, best = last_deadline(call), last.get(programme)
        if final is not None and (best is None or final > (last_deadline(best) or final)):
            last[programme] = call
    by_name = {h.source: h for h in health}
    files: dict[str, list[str]] | None = None  # read only when a programme has no source
    states = []
    for programme in wanted:
        sources = sorted(set(watching_sources(strategy, programme)) | stored[programme])
        missing = [s for s in sources if s not in by_name]
        by_name.update({h.source: h for h in source_health(session, missing, since)} if missing else {})
        known = [by_name[s] for s in sources]
        if programme in with_calls:
            states.append(ProgrammeState(programme, OPEN, tuple(sources)))
        elif muted[programme]:
            states.append(ProgrammeState(programme, MUTED, tuple(sources), muted=tuple(muted[programme])))
        elif programme in last:
            call = last[programme]
            states.append(ProgrammeState(programme, CLOSED, tuple(sources), last_title=call.title,
                                         last_url=call.url, last_deadline=last_deadline(call)))
        elif not sources:
            files = ready_made_programmes(ready_made) if files is None else files
            offered = tuple(name for name, names in files.items()
                            if any(programme.casefold() in n.casefold() for n in names))
            states.append(ProgrammeState(programme, UNWATCHED, ready_made=offered))
        elif any(h.last_good is not None and not h.skipped for h in known):
            states.append(ProgrammeState(programme, NONE_SEEN, tuple(sources)))
        elif known and all(h.skipped for h in known):
            states.append(ProgrammeState(programme, NOT_RECORDED, tuple(sources)))
        else:
            left_out = tuple(h.source for h in known if h.skipped)
            failing = tuple(h.source for h in known if h.failing and not h.skipped)
            waiting = tuple(h.source for h in known if not h.skipped and h.source not in failing)
            states.append(ProgrammeState(programme, FAILING, failing, left_out=left_out) if failing
                          else ProgrammeState(programme, NOT_RUN, waiting, left_out=left_out))
    return states


def short_title(title: str, programme: str) -> str:
    """A call's title without the programme's name it starts with ("Interreg Baltic Sea Region -
    Project Platforms 2025" -> "Project Platforms 2025"), so the line stays short."""
    head = re.match(rf"\s*{re.escape(programme)}\s*[-–—:|,]\s*(\S.*)", title, re.IGNORECASE)
    return head.group(1) if head else title


def _names(sources: Sequence[str]) -> str:
    return ", ".join(escape(clean(s)) for s in sources)


def state_line(state: ProgrammeState, strategy: str = "") -> str:
    """One programme without an open or forthcoming call in mrkdwn: its name and what is known."""
    head = f"• _{escape(clean(state.programme))}_ — "
    plural = "s" if len(state.sources) != 1 else ""
    if state.kind == CLOSED:
        day = state.last_deadline.astimezone(BRUSSELS).strftime("%-d %b %Y") if state.last_deadline else "?"
        title = truncate(clean(short_title(state.last_title or "", state.programme)), 80)
        return f"{head}no open call; last call closed {day} ({link(state.last_url, title)})"
    if state.kind == MUTED:
        if len(state.muted) == 1:
            return f"{head}its open call is muted " \
                   f"({command(f'calls unmute {state.muted[0]}', strategy)})"
        return f"{head}its {len(state.muted)} open calls are muted " \
               f"({command('calls unmute ID', strategy)}: {', '.join(str(n) for n in state.muted)})"
    if state.kind == NONE_SEEN:
        return f"{head}no open call; none seen yet by {_names(state.sources)}"
    left_out = ""
    if state.left_out:
        left_out = f"; {_names(state.left_out)} {'is' if len(state.left_out) == 1 else 'are'} live only, " \
                   "not in the recording"
    if state.kind == FAILING:
        return f"{head}no data: source{plural} {_names(state.sources)} failing " \
               f"(see the Sources line){left_out}"
    if state.kind == NOT_RECORDED:
        return f"{head}no data: live-only source{plural}, not in the recording ({_names(state.sources)})"
    if state.kind == NOT_RUN:
        return f"{head}no data: source{plural} {_names(state.sources)} not run yet{left_out}"
    if state.ready_made:
        offered = " or ".join(f"config/sources/{name}" for name in state.ready_made)
        return f"{head}not watched by any source: add one from {offered}"
    return f"{head}not watched by any source: add one in config/sources/"


def programme_line(call: ProgrammeCall, *, in_top: bool = False) -> str:
    """One call of the section in mrkdwn: programme, title, deadline, verdict; ``in_top`` when the
    digest lists it among its top calls too (the same title twice would read as two calls)."""
    title = short_title(call.title, call.programme) if call.title else call.title  # the name is in front
    head = f"• _{escape(call.programme)}_: {link(call.url, call_name(title, call.call_id, 150))}"
    when = closing_text(call.deadline, call.days_left, time_assumed=call.deadline_time_assumed) \
        if call.deadline else "deadline not announced"
    if call.status == "forthcoming":
        when = "forthcoming, " + when
    if call.passed is None:
        verdict = "rules not checked yet"
    elif call.passed and call.unknown:  # calls list's "?": not a pass, nor a reason to leave it out
        verdict = "no rule fails; not known: " + ", ".join(rule.replace("_", " ") for rule in call.unknown)
    elif call.passed:
        verdict = "passes the rules"
    else:
        verdict = "left out by the rules: " + escape(truncate(clean("; ".join(call.failed)), 200))
    score = f" · score {call.score:.2f}" if call.score is not None else ""
    return f"{head} · {when} · {verdict}{score}" + (" · in the top calls above" if in_top else "")


def programme_blocks(calls: Sequence[ProgrammeCall], states: Sequence[ProgrammeState] = (),
                     top: Collection[int] = (), strategy: str = "") -> list[Block]:
    """The section's blocks: per programme of interest (``states``, in the strategy's order) its calls,
    or the line saying what is known of it. Without ``states`` the calls alone; nothing when both are
    empty."""
    if not states:
        states = [ProgrammeState(name, OPEN) for name in dict.fromkeys(c.programme for c in calls)]
    lines = []
    for state in states:
        if state.kind != OPEN:
            lines.append(state_line(state, strategy))
            continue
        own = [c for c in calls if c.programme == state.programme]
        lines.extend(programme_line(c, in_top=c.call_id in top) for c in own[:MAX_CALLS_PER_PROGRAMME])
        if len(own) > MAX_CALLS_PER_PROGRAMME:
            lines.append(f"• _{escape(clean(state.programme))}_: … and {len(own) - MAX_CALLS_PER_PROGRAMME} "
                         "more open or forthcoming calls")
    if not lines:
        return []
    return [DividerBlock(), heading("*Programmes we follow*"),
            *(section(text) for text in pack_lines(lines, more="more lines of these programmes"))]

"""The digest's "Programmes we follow" section: every open or forthcoming call of the strategy's
``programmes_of_interest``, with its deadline and the rules' verdict, whatever its relevance score.

Interreg and national calls are few, broad and short: a keyword score on a title is the wrong test for
them, so a strategy names the programmes it always wants to hear about. A call belongs to a programme of
interest when the name (case-insensitive) is part of the call's programme, or of its title when the
source stores no programme ("Innovationsfonden" follows every Innovationsfonden programme).
:func:`collect_programme_calls` reads the rows, :func:`programme_blocks` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock
from sqlmodel import Session, select

from pipeline.core.config import Strategy
from pipeline.core.deadlines import ACTIVE, effective_status, next_deadline
from pipeline.core.models import Call, Verdict
from pipeline.notify.blocks import days_text, fmt_deadline, pack_lines, section
from pipeline.notify.escape import clean, escape, link, truncate

MAX_PROGRAMME_CALLS = 30  # the section lists at most this many, soonest deadline first


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
    score: float | None = None


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
    for call in session.exec(select(Call).where(Call.status.in_(ACTIVE))):
        programme = interest_of(call, wanted)
        if programme is not None and effective_status(call, now) in ACTIVE:
            found.append((call, programme))
    ids = [c.id for c, _ in found]
    verdicts = {v.call_id: v for v in session.exec(select(Verdict).where(
        Verdict.strategy == strategy.name, Verdict.call_id.in_(ids)))}
    lines = []
    for call, programme in found:
        upcoming = next_deadline(call, now)
        verdict = verdicts.get(call.id)
        failed = tuple(str(o.get("reason")) for o in (verdict.outcomes if verdict else [])
                       if o.get("passed") is False)
        lines.append(ProgrammeCall(
            call_id=call.id, programme=programme, title=call.title, url=call.url,
            status=effective_status(call, now), deadline=upcoming,
            days_left=(upcoming - now).days if upcoming else None,
            passed=verdict.passed if verdict else None, failed=failed,
            score=verdict.best_score if verdict else None))
    lines.sort(key=lambda p: (wanted.index(p.programme), p.deadline is None, p.deadline or now, p.call_id))
    return lines[:MAX_PROGRAMME_CALLS]


def programme_line(call: ProgrammeCall) -> str:
    """One call of the section in mrkdwn: programme, title, deadline, verdict."""
    head = f"• _{escape(call.programme)}_: {link(call.url, truncate(clean(call.title), 150))}"
    when = (f"deadline {fmt_deadline(call.deadline)} ({days_text(call.days_left)})" if call.deadline
            else "deadline not announced")
    if call.status == "forthcoming":
        when = "forthcoming, " + when
    if call.passed is None:
        verdict = "rules not checked yet"
    elif call.passed:
        verdict = "passes the rules"
    else:
        verdict = "left out by the rules: " + escape(truncate(clean("; ".join(call.failed)), 200))
    score = f" · score {call.score:.2f}" if call.score is not None else ""
    return f"{head} · {when} · {verdict}{score}"


def programme_blocks(calls: list[ProgrammeCall]) -> list[Block]:
    """The section's blocks; none when no programme of interest has an open or forthcoming call."""
    if not calls:
        return []
    return [DividerBlock(), section("*Programmes we follow*"),
            *(section(text) for text in pack_lines([programme_line(c) for c in calls],
                                                   more="more calls of these programmes"))]

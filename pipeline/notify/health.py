"""How the sources behind a message are doing, read from their fetch runs (table ``fetch_run``).

A digest is only as true as its sources: every digest carries a source-health line, and one whose
sources all failed since the previous digest says so instead of "nothing matches". A run is *bad*
when it failed, when the plausibility guard marked it ``suspicious``, or when a source answering
with its whole list sent none of its active calls (:func:`answered_empty`); for the source-health alarm
(:mod:`pipeline.notify.alerts`) a finished run that read nothing (``seen == 0``) is bad too, since a
listing that silently went empty is how stale data goes unnoticed. Runs still in progress are
ignored, and so are the ``skipped`` runs a replay records for a source it has no recording of: such a
source is said to be live only, not in the recording, when its newest run is that skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from pipeline.core.clock import as_utc
from pipeline.core.config import Strategy
from pipeline.core.models import EMPTY_ANSWER, SKIPPED_RUN, FetchRun
from pipeline.notify.escape import clean, escape

BAD_OUTCOMES = ("failed", "suspicious")


def is_bad(run: FetchRun, *, empty_is_bad: bool = False) -> bool:
    """Whether ``run`` counts against its source (see the module doc)."""
    if run.outcome in BAD_OUTCOMES or answered_empty(run):
        return True
    return empty_is_bad and run.outcome == "ok" and run.seen == 0


def answered_empty(run: FetchRun) -> bool:
    """A source that answers with its whole list (not a feed) sent none of the calls it has active: a
    maintenance page or an emptied export, which the store took as partial. Fine for a digest, it read
    'Sources: 2 of 2 fine' and 'No open call matches' while no source had said anything for a week."""
    return run.outcome == "ok" and run.seen == 0 and EMPTY_ANSWER in (run.error or "")


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_good: datetime | None  # start of the newest good run
    bad_runs: int  # consecutive bad runs, newest first
    bad_since: datetime | None  # start of the oldest run of that streak
    last_outcome: str | None  # failed | suspicious | ok | None (never ran)
    runs_in_period: int
    good_in_period: int
    skipped: str | None = None  # why, when the newest run is a replay's skip (no recording of it)
    empty: bool = False  # the newest run answered none of the source's active calls (answered_empty)

    @property
    def failing(self) -> bool:
        return self.bad_runs > 0


def source_names(session: Session, strategy: Strategy) -> list[str]:
    """The strategy's enabled sources, or every source that has runs when it configures none."""
    names = [name for name, source in strategy.sources.items() if source.enabled]
    if names:
        return names
    return sorted(set(session.exec(select(FetchRun.source))))


def runs_by_source(session: Session, names: Sequence[str], limit: int = 50) -> dict[str, list[FetchRun]]:
    """Each source's newest finished runs that read something (skips left out), newest first."""
    found: dict[str, list[FetchRun]] = {}
    for name in names:
        found[name] = list(session.exec(select(FetchRun).where(
            FetchRun.source == name, FetchRun.outcome.not_in(("running", SKIPPED_RUN)))
            .order_by(FetchRun.id.desc()).limit(limit)))
    return found


def skip_reason(session: Session, name: str) -> str | None:
    """Why the source was left out, when its newest finished run is a replay's skip; else None."""
    newest = session.exec(select(FetchRun).where(FetchRun.source == name, FetchRun.outcome != "running")
                          .order_by(FetchRun.id.desc()).limit(1)).first()
    return (newest.error or "no recording") if newest is not None and newest.outcome == SKIPPED_RUN else None


def source_health(session: Session, names: Sequence[str], since: datetime) -> list[SourceHealth]:
    """Per source: its last good run, its current streak of bad runs, and its runs since ``since``."""
    result = []
    for name, runs in runs_by_source(session, names).items():
        streak = 0
        for run in runs:
            if not is_bad(run):
                break
            streak += 1
        good = next((r for r in runs if not is_bad(r)), None)
        in_period = [r for r in runs if as_utc(r.started_at) > since]
        result.append(SourceHealth(
            source=name, last_good=as_utc(good.started_at) if good else None, bad_runs=streak,
            bad_since=as_utc(runs[streak - 1].started_at) if streak else None,
            last_outcome=runs[0].outcome if runs else None, runs_in_period=len(in_period),
            good_in_period=sum(1 for r in in_period if not is_bad(r)), skipped=skip_reason(session, name),
            empty=bool(runs) and answered_empty(runs[0])))
    return result


def all_failed(health: Sequence[SourceHealth]) -> bool:
    """Every source that ran since the previous digest had only bad runs (and at least one ran)."""
    ran = [h for h in health if h.runs_in_period]
    return bool(ran) and all(h.good_in_period == 0 for h in ran)


def none_ran(health: Sequence[SourceHealth]) -> bool:
    """Sources are configured and not one has finished a run yet (a replay's skips left out)."""
    read = [h for h in health if not h.skipped]
    return bool(read) and all(h.last_outcome is None for h in read)


def _when(value: datetime | None, timezone: str, now: datetime | None) -> str:
    """A run's day and time in the strategy's zone; with the year when it is not ``now``'s (a source
    failing since 1 October read as a day to come in an August digest)."""
    if value is None:
        return "never"
    tz = ZoneInfo(timezone)
    moment = value.astimezone(tz)
    other_year = now is not None and moment.year != now.astimezone(tz).year
    return moment.strftime("%-d %b %Y %H:%M" if other_year else "%-d %b %H:%M")


def health_line(health: Sequence[SourceHealth], timezone: str, now: datetime | None = None) -> str:
    """One mrkdwn line: how many sources are fine, and for each failing one since when and its last
    good run (times in the strategy's time zone, with the year when not ``now``'s). The sources a
    replay left out are counted apart, as live only: not missing, just not recorded."""
    if not health:
        return "Sources: none configured"
    left_out = [h for h in health if h.skipped]
    health = [h for h in health if not h.skipped]
    if not health:
        return f"Sources: {_left_out(left_out)}"
    if all(h.last_outcome is None for h in health):
        return " · ".join([f"Sources: {len(health)} configured, none has run yet",
                           *([_left_out(left_out)] if left_out else [])])
    fine = [h for h in health if h.last_outcome is not None and not h.failing]
    parts = [f"Sources: {len(fine)} of {len(health)} fine"]
    if left_out:
        parts.append(_left_out(left_out))
    troubled = [h for h in health if h.last_outcome is None or h.failing]
    for h in troubled[:DETAILED]:
        name = escape(clean(h.source))
        if h.last_outcome is None:
            parts.append(f"{name} has not run yet")
        else:
            what = "suspicious" if h.last_outcome == "suspicious" else \
                "answering no calls" if h.empty else "failing"
            runs = f"{h.bad_runs} run{'s' if h.bad_runs != 1 else ''}"
            parts.append(f"{name} {what} since {_when(h.bad_since, timezone, now)} ({runs}; "
                         f"last good {_when(h.last_good, timezone, now)})")
    # the rest by name only: thirty failing sources in full would not fit Slack's context line
    rest = troubled[DETAILED:]
    for names, what in (([h.source for h in rest if h.last_outcome is not None], "failing"),
                        ([h.source for h in rest if h.last_outcome is None], "not run yet")):
        if names:
            shown = [escape(clean(name)) for name in names[:NAMED]]
            if len(names) > NAMED:
                shown.append(f"{len(names) - NAMED} others")
            listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if len(shown) > 1 else shown[0]
            parts.append(f"{len(names)} more {what}: {listed} (`fundradar sources status`)")
    return " · ".join(parts)


DETAILED = 5  # troubled sources the health line describes in full; the rest it names
NAMED = 30  # of those, named at most


def _left_out(health: Sequence[SourceHealth]) -> str:
    names = ", ".join(escape(clean(h.source)) for h in health)
    if len(health) == 1:
        return f"{names} is live only, not in the recording"
    return f"{len(health)} live-only sources not in the recording ({names})"

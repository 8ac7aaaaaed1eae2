"""How the sources behind a message are doing, read from their fetch runs (table ``fetch_run``).

A digest is only as true as its sources: every digest carries a source-health line, and one whose
sources all failed since the previous digest says so instead of "nothing matches". A run is *bad*
when it failed or when the plausibility guard marked it ``suspicious``; for the source-health alarm
(:mod:`pipeline.notify.alerts`) a finished run that read nothing (``seen == 0``) is bad too, since a
listing that silently went empty is how stale data goes unnoticed. Runs still in progress are
ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from pipeline.core.clock import as_utc
from pipeline.core.config import Strategy
from pipeline.core.models import FetchRun
from pipeline.notify.escape import clean, escape

BAD_OUTCOMES = ("failed", "suspicious")


def is_bad(run: FetchRun, *, empty_is_bad: bool = False) -> bool:
    """Whether ``run`` counts against its source (see the module doc)."""
    if run.outcome in BAD_OUTCOMES:
        return True
    return empty_is_bad and run.outcome == "ok" and run.seen == 0


@dataclass(frozen=True)
class SourceHealth:
    source: str
    last_good: datetime | None  # start of the newest good run
    bad_runs: int  # consecutive bad runs, newest first
    bad_since: datetime | None  # start of the oldest run of that streak
    last_outcome: str | None  # failed | suspicious | ok | None (never ran)
    runs_in_period: int
    good_in_period: int

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
    """Each source's newest finished runs, newest first."""
    found: dict[str, list[FetchRun]] = {}
    for name in names:
        found[name] = list(session.exec(select(FetchRun).where(
            FetchRun.source == name, FetchRun.outcome != "running")
            .order_by(FetchRun.id.desc()).limit(limit)))
    return found


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
            good_in_period=sum(1 for r in in_period if not is_bad(r))))
    return result


def all_failed(health: Sequence[SourceHealth]) -> bool:
    """Every source that ran since the previous digest had only bad runs (and at least one ran)."""
    ran = [h for h in health if h.runs_in_period]
    return bool(ran) and all(h.good_in_period == 0 for h in ran)


def _when(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%d %b %H:%M") if value else "never"


def health_line(health: Sequence[SourceHealth], timezone: str) -> str:
    """One mrkdwn line: how many sources are fine, and for each failing one since when and its last
    good run (times in the strategy's time zone)."""
    if not health:
        return "Sources: none configured"
    if all(h.last_outcome is None for h in health):
        return f"Sources: {len(health)} configured, none has run yet"
    fine = [h for h in health if h.last_outcome is not None and not h.failing]
    parts = [f"Sources: {len(fine)} of {len(health)} fine"]
    for h in health:
        name = escape(clean(h.source))
        if h.last_outcome is None:
            parts.append(f"{name} has not run yet")
        elif h.failing:
            what = "suspicious" if h.last_outcome == "suspicious" else "failing"
            runs = f"{h.bad_runs} run{'s' if h.bad_runs != 1 else ''}"
            parts.append(f"{name} {what} since {_when(h.bad_since, timezone)} ({runs}; "
                         f"last good {_when(h.last_good, timezone)})")
    return " · ".join(parts)

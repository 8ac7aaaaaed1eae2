"""The main job: fetch the enabled sources (or one), store what changed, let applications follow their
calls' deadlines, score new and changed calls. ``fundradar sync``, ``fundradar run`` and ``fundradar
serve`` all run these functions, so the steps cannot drift apart.

- :func:`plan_sources` builds the adapters and, for a replay, the recordings' handlers and moments;
- :func:`run_sources` runs each planned source (:func:`watcher.runner.run_source`); one failing source
  never stops the others, its failure is in its :class:`~watcher.store.RunResult`. A source a replay
  leaves out (no recording) gets a run with outcome ``skipped`` and the reason, so that what reads the
  runs (the digest's source-health line) can say "not in the recording" rather than "has not run";
- :func:`follow_and_score` lets applications follow their calls' deadlines
  (:func:`pipeline.applications.follow_call_deadlines`, which flags them and raises their iCalendar
  SEQUENCE) and scores every strategy with one shared corpus;
- :func:`sync` is the three in a row.

With a replay folder the sources are answered from recordings (:class:`watcher.replay.ReplayTransport`)
and each source runs as of its recording's own date (``search_YYYY-MM-DD`` folders; a ``_YYYY-MM`` or
``_YYYY-MM-DD`` in recorded file names) unless an ``as_of`` is given. Nothing here prints: progress goes
to an optional callback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from pipeline.core import clock
from pipeline.core.clock import BRUSSELS, UTC
from pipeline.core.config import LoadedConfig
from pipeline.core.errors import FundradarError, ValidationError
from watcher.store import RunResult

log = logging.getLogger(__name__)
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")


@dataclass(frozen=True)
class Progress:
    """One step of a source run, for a progress display: ``started`` (number and pages None), a page
    read (``label``, ``number`` of ``pages``), or ``finished`` (with its ``result``)."""

    source: str
    label: str = ""
    number: int | None = None
    pages: int | None = None
    result: RunResult | None = None


OnProgress = Callable[[Progress], None]
@dataclass(frozen=True)
class SkippedSource:
    """A source a replay leaves out, and why."""

    source: str
    type: str
    reason: str

    @property
    def line(self) -> str:
        return (f"{self.source}: {self.reason}; skipped ({self.type} source, live only: run it without "
                "--replay)")


class Unreplayable:
    """A source whose recording cannot be read: its run fails with the reason, the others go on."""

    def __init__(self, adapter: Any, problem: Exception, replay: Path) -> None:
        self.adapter, self.problem, self.replay = adapter, problem, replay
        self.name, self.type, self.url = adapter.name, adapter.type, getattr(adapter, "url", None)

    def fetch(self, client: httpx.Client, now: datetime) -> Any:
        from watcher.replay import RecordingError

        if isinstance(self.problem, FundradarError):
            raise self.problem
        reason = getattr(self.problem, "strerror", None) or " ".join(str(self.problem).split())[:120] \
            or type(self.problem).__name__
        raise RecordingError(f"the recording of {self.name} in {self.replay} cannot be read ({reason}); "
                             "record it again or replay another folder")


@dataclass
class SourcePlan:
    """The sources one main job runs: adapters, and for a replay their handlers and recording moments."""

    adapters: list[Any]
    timeout: float = 30.0
    replay: Path | None = None
    handlers: list[Any] = field(default_factory=list)
    moments: dict[str, datetime] = field(default_factory=dict)  # source -> when its recording was made
    skips: list[SkippedSource] = field(default_factory=list)  # the sources left out (no recording)

    @property
    def skipped(self) -> list[str]:
        """One line per source left out, for the terminal."""
        return [skip.line for skip in self.skips]

    @property
    def recorded(self) -> datetime | None:
        """The newest recording moment of a replay, None otherwise."""
        return max(self.moments.values()) if self.moments else None

    def client(self) -> httpx.Client:
        """The HTTP client of the run: the recordings' transport for a replay, the network otherwise."""
        from watcher.http import make_client
        from watcher.replay import ReplayTransport

        if self.replay is not None:
            return make_client(transport=ReplayTransport(self.handlers), retries=0)
        return make_client(timeout=self.timeout)


@dataclass
class FollowResult:
    """What following deadlines and scoring did: the deadline moves flagged and one scoring result
    per strategy (a strategy whose scoring failed under ``tolerant`` is missing, see ``errors``)."""

    moves: list[Any] = field(default_factory=list)  # pipeline.applications.DeadlineMove
    scoring: list[Any] = field(default_factory=list)  # classifiers.scoring.ScoringResult
    errors: dict[str, str] = field(default_factory=dict)  # strategy -> why its scoring failed


@dataclass
class SyncResult:
    """One main job: per-source results, the moment deadlines were followed and calls scored as of,
    the deadline moves, the scoring results and why a step after the sources failed (``errors``, as
    :class:`FollowResult`'s)."""

    runs: list[RunResult]
    moment: datetime
    recorded: datetime | None = None
    skipped: list[str] = field(default_factory=list)
    moves: list[Any] = field(default_factory=list)
    scoring: list[Any] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(r.outcome == "failed" for r in self.runs) or bool(self.errors)

    def error_lines(self) -> list[str]:
        """One line per step after the sources that failed, saying that the sources' runs are stored."""
        lines = []
        for strategy, error in self.errors.items():
            what = f"scoring strategy {strategy!r}" if strategy else "following the calls' deadlines"
            lines.append(f"{what} failed: {' '.join(error.split())} (the sources' runs are stored; "
                         "`fundradar score` finishes the scoring)")
        return lines


def _date_of_name(name: str) -> date | None:
    found = None
    for match in _DATE_IN_NAME.finditer(name):
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        try:
            value = date(year, month, day)
        except ValueError:
            continue
        found = value if found is None or value > found else found
    return found


def recording_moment(adapter: Any, replay_dir: Path) -> datetime | None:
    """The moment a source's recording was made, from folder or file names: noon Brussels time of
    that day (the first of the month when only the month is known, so nothing is wrongly closed)."""
    from watcher.replay import find_search_recording

    day: date | None = None
    if adapter.type == "eu_ft":
        folder = find_search_recording(replay_dir)
        day = _date_of_name(folder.name) if folder is not None else None
    else:
        for folder in (replay_dir / adapter.type, replay_dir / adapter.name, replay_dir):
            if folder.is_dir():
                dates = [d for d in (_date_of_name(p.name) for p in folder.iterdir() if p.is_file()) if d]
                if dates:
                    day = max(dates)
                    break
    if day is None:
        return None
    return datetime.combine(day, time(12), BRUSSELS).astimezone(UTC)


def plan_sources(engine: Engine, config: LoadedConfig, *, only: str | None = None,
                 replay: Path | None = None) -> SourcePlan:
    """The enabled sources of ``config`` (every strategy's: the union), or only the one named.

    Raises ValidationError when no source is left to run (none enabled, none with a recording) or the
    replay folder does not exist, NotFoundError for an unknown source name."""
    from watcher.sources import build_adapters

    adapters = build_adapters(config.strategy, only=only, engine=engine, sources=config.sources)
    if not adapters:
        what = f"source {only!r} has no adapter installed" if only else "no source is enabled"
        raise ValidationError(f"{what}; check the sources section of {config.config_path}")
    timeout = max(config.sources[a.name].timeout_seconds for a in adapters)
    if replay is None:
        return SourcePlan(adapters, timeout=timeout)
    if not replay.is_dir():
        raise ValidationError(f"--replay {replay}: no such folder; give a recording folder such as "
                              "samples/eu_ft/search_2026-08-22 or the samples root")
    plan = SourcePlan([], timeout=timeout, replay=replay)
    for adapter in adapters:
        try:
            handler = adapter.replay_handler(replay) if hasattr(adapter, "replay_handler") else None
        except (FundradarError, OSError, ValueError) as exc:
            # one source's unreadable recording (a garbled facets.json, a listing not in UTF-8) is that
            # source's failed run; raised here, it stopped the replay of every other source
            plan.adapters.append(Unreplayable(adapter, exc, replay))
            continue
        if handler is None:
            # a source without a recording is live only (README, "Sources"): the replay says so per source
            plan.skips.append(SkippedSource(adapter.name, adapter.type, f"no recording in {replay}"))
            continue
        plan.adapters.append(adapter)
        plan.handlers.append(handler)
        moment = recording_moment(adapter, replay)
        if moment is not None:
            plan.moments[adapter.name] = moment
    if not plan.adapters:
        raise ValidationError(f"--replay {replay}: no recording for "
                              f"{'source ' + repr(only) if only else 'any enabled source'}")
    return plan


def run_sources(engine: Engine, plan: SourcePlan, *, as_of: datetime | None = None,
                now: Callable[[], datetime] = clock.now, client: httpx.Client | None = None,
                on_progress: OnProgress | None = None) -> list[RunResult]:
    """Fetch and store each planned source, one after the other; returns their results.

    A source runs as of ``as_of``, else its recording's moment (replays), else ``now()``. ``client``
    is used as given (and left open); without one the plan's client is made and closed here. The
    sources the plan leaves out get their ``skipped`` run first (:func:`record_skips`)."""
    from watcher.runner import run_source

    if client is None:
        with plan.client() as own:
            return run_sources(engine, plan, as_of=as_of, now=now, client=own, on_progress=on_progress)
    record_skips(engine, plan.skips, as_of or plan.recorded or now())
    results = []
    for adapter in plan.adapters:
        if on_progress is not None:
            on_progress(Progress(adapter.name))
            if hasattr(adapter, "on_page"):
                def on_page(label: str, number: int, pages: int, name: str = adapter.name) -> None:
                    on_progress(Progress(name, label, number, pages))
                adapter.on_page = on_page
        result = run_source(engine, adapter, client, as_of or plan.moments.get(adapter.name) or now())
        log.info("source %s: %s, %d seen, %d new, %d changed, %d closed%s%s", result.source, result.outcome,
                 result.seen, result.new, result.changed, result.closed,
                 f", {result.missing} missing (removed if the next answer lacks them too)"
                 if result.missing else "", f" ({result.error})" if result.error else "")
        results.append(result)
        if on_progress is not None:
            on_progress(Progress(adapter.name, result=result))
    return results


def record_skips(engine: Engine, skips: Sequence[SkippedSource], moment: datetime) -> None:
    """A finished run with outcome ``skipped`` and the reason for each source left out. It reads and
    changes nothing, so it neither counts as a good run nor breaks a streak of failures."""
    from pipeline.core.db import session_scope
    from pipeline.core.models import SKIPPED_RUN, FetchRun

    if not skips:
        return
    with session_scope(engine) as session:
        for skip in skips:
            session.add(FetchRun(source=skip.source, started_at=moment, finished_at=moment,
                                 outcome=SKIPPED_RUN, complete=False, error=skip.reason))


def changed_anything(results: Sequence[RunResult]) -> bool:
    """A run wrote calls: something new, changed or closed (a suspicious run stores what it read)."""
    return any(r.outcome in ("ok", "suspicious") and (r.new or r.changed or r.closed) for r in results)


def follow_and_score(engine: Engine, config: LoadedConfig, now: datetime, *, only: str | None = None,
                     full: bool = False, tolerant: bool = False) -> FollowResult:
    """What every source run is followed by: applications follow their calls' deadlines (flagged,
    SEQUENCE raised), then new or changed calls are scored against each strategy (or only the one
    named), the texts read and the corpus model fitted once for all.

    Each step is its own short transaction, and both are idempotent, so a step killed mid-way is
    finished by the next call. ``tolerant`` (the unattended service): a failing step is recorded in
    ``errors`` instead of raised, and the other strategies are still scored."""
    from classifiers.corpus import Corpus
    from classifiers.scoring import score_pending
    from pipeline.applications import follow_call_deadlines
    from pipeline.core.db import session_scope

    out = FollowResult()
    try:
        with session_scope(engine) as session:
            out.moves = follow_call_deadlines(session, now)
    except Exception as exc:
        if not tolerant:
            raise
        out.errors[""] = str(exc)
    for move in out.moves:
        log.info("application #%s: call #%s deadline moved; flagged (sequence %d)", move.application_id,
                 move.call_id, move.sequence)
    corpus = Corpus()  # texts read and the corpus model loaded once for every strategy
    for strategy in config.each():
        name = strategy.strategy.name
        if only is not None and name != only:
            continue
        try:
            out.scoring.append(score_pending(engine, strategy, now, full=full, corpus=corpus))
        except Exception as exc:
            if not tolerant:
                raise
            out.errors[name] = str(exc)
    return out


def recheck_due(engine: Engine, config: LoadedConfig, now: datetime) -> FollowResult | None:
    """For a digest or alerts run by hand, what serve's jobs do first: when the clock has passed the
    ``recheck_at`` of a verdict of the config's strategies (its deadline came closer than the rules'
    weeks, or passed), :func:`follow_and_score` (tolerant), so the messages never list a call as
    passing rules it now fails. None when no verdict is due: then the scoring libraries stay unloaded."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from pipeline.core.models import Verdict

    names = [strategy.name for strategy in config.strategies]
    with Session(engine) as session:
        due = session.exec(sa.select(Verdict.id).where(Verdict.strategy.in_(names), Verdict.recheck_at <= now,
                                                       Verdict.computed_at <= now).limit(1)).first()
    return follow_and_score(engine, config, now, tolerant=True) if due is not None else None


def sync(engine: Engine, config: LoadedConfig, *, only: str | None = None, replay: Path | None = None,
         as_of: datetime | None = None, now: Callable[[], datetime] = clock.now,
         on_progress: OnProgress | None = None,
         on_plan: Callable[[SourcePlan], None] | None = None) -> SyncResult:
    """The main job once: plan, run every source, then follow deadlines and score as of ``as_of``,
    else the newest recording's moment (replays), else ``now()``.

    Following, scoring and the calendar files run always, not only when a source wrote something: a
    scoring killed mid-way is finished by the next job, and a call followed or an application added
    since the last job reaches the calendar of a cron job, which has no ``every`` (a file is written
    only when an event changed). A failing step after the sources is in ``errors``, not raised: what
    the sources stored is reported all the same. ``on_plan`` sees the plan before anything is fetched."""
    plan = plan_sources(engine, config, only=only, replay=replay)
    if on_plan is not None:
        on_plan(plan)
    runs = run_sources(engine, plan, as_of=as_of, now=now, on_progress=on_progress)
    moment = as_of or plan.recorded or now()
    after = follow_and_score(engine, config, moment, tolerant=True)
    refresh_calendar_files(engine, config, moment)
    return SyncResult(runs=runs, moment=moment, recorded=plan.recorded, skipped=plan.skipped,
                      moves=after.moves, scoring=after.scoring, errors=after.errors)


def refresh_calendar_files(engine: Engine, config: LoadedConfig, now: datetime,
                           only: str | None = None) -> dict[str, Path] | None:
    """Rewrite the strategies' calendar files whose events changed (the main job's last step, and
    serve's after a source run that changed something and on its calendar job); a failure is
    logged, as a full disk or a missing folder must not stop the job, and None returned."""
    from pipeline.calendar_file import refresh_calendars

    try:
        return refresh_calendars(engine, config, now, only=only or None)
    except Exception as exc:
        log.warning("writing the calendar files failed: %s", exc)
        return None


def run_row(result: RunResult) -> dict[str, Any]:
    """A source run as a summary row; outcome "partial" when it was ok but could not read everything,
    "suspicious" when the mass-closure guard held back its closures."""
    return {"source": result.source, "outcome": result.outcome if result.outcome != "ok" or result.complete
            else "partial", "complete": result.complete, "seen": result.seen, "new": result.new,
            "changed": result.changed, "unchanged": result.unchanged, "closed": result.closed,
            "missing": result.missing, "run_id": result.run_id, "error": result.error}


def split_removals(engine: Engine, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summary rows with ``removed`` (calls gone from their source before their deadline) apart from
    ``closed`` (deadline passed): the run counts both as closed; its status changes tell them apart."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from pipeline.core.models import CallChange

    ids = [row["run_id"] for row in rows if row.get("run_id") is not None]
    counts: dict[int, int] = {}
    if ids:
        with Session(engine) as session:
            counts = dict(session.execute(
                sa.select(CallChange.run_id, sa.func.count()).where(
                    CallChange.run_id.in_(ids), CallChange.field == "status",
                    CallChange.new == "removed").group_by(CallChange.run_id)).all())
    for row in rows:
        removed = counts.get(row.get("run_id"), 0)
        row.update(closed=row["closed"] - removed, removed=removed)
    return rows


# the recordings as eval --judged reads them: the layers let the main job's module, not pipeline's
# others, reach into watcher/


def recorded_references(folder: Path) -> set[str]:
    """The SEDIA result references a search recording holds."""
    from watcher.replay import SediaSearchRecording

    return {str(r.get("reference")) for r in SediaSearchRecording(folder).results}


def recorded_programmes(folder: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """A search recording's frameworkProgramme labels by id, and each result's programme ids by its
    reference."""
    from watcher.replay import SediaSearchRecording

    recording = SediaSearchRecording(folder)
    by_reference: dict[str, set[str]] = {}
    for result in recording.results:
        ids = (result.get("metadata") or {}).get("frameworkProgramme") or []
        by_reference.setdefault(str(result.get("reference")), set()).update(str(pid) for pid in ids)
    return recording.programme_names(), by_reference


def recording_day(folder: Path) -> date | None:
    """The day a ``search_YYYY-MM-DD`` recording was made; None for another folder name."""
    from watcher.replay import recording_date

    return recording_date(folder)

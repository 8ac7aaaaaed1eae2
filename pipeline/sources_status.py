"""How each source is doing, read from its fetch runs (``fundradar sources status``).

A run's outcome is ok, suspicious (complete, but the mass-closure guard held back its closures: the
last error then starts with "suspicious: "), failed or running. A run still in progress counts as the
last run but not as a finished one: its duration, counts and
outcome come from the newest finished run, and it neither breaks nor extends a streak of failures.
A ``skipped`` run (a replay had no recording of the source) is the same: shown as the last run, with
its reason as the last error while it is the newest, and otherwise left out. A run "running" while no
process holds the source's run lock was left by a process that stopped or was killed: it is shown as
the failed, interrupted run its next run records it as (until then the table showed it running, its
columns empty, for as long as a day).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.core.locks import held_elsewhere
from pipeline.core.models import INTERRUPTED, SKIPPED_RUN, CallChange, FetchRun

NOT_FINISHED = ("running", SKIPPED_RUN)  # runs that read nothing (yet)


def source_status(engine: Engine, names: list[str]) -> list[dict[str, Any]]:
    """Per source (configured ``names`` first, then any other with runs): the last run, its duration
    and counts (``closed``: deadline passed; ``removed``: gone from the source before it, which the
    run row counts as closed too, told apart by the run's status changes), the number of consecutive
    failed runs and the last error or warning."""
    with Session(engine) as session:
        runs = session.exec(select(FetchRun).order_by(FetchRun.source, FetchRun.id.desc())).all()
        removed = dict(session.execute(
            sa.select(CallChange.run_id, sa.func.count()).where(
                CallChange.field == "status", CallChange.new == "removed", CallChange.run_id.is_not(None))
            .group_by(CallChange.run_id)).all())
    by_source: dict[str, list[FetchRun]] = {}
    for run in runs:
        by_source.setdefault(run.source, []).append(run)
    rows = []
    for name in [*names, *sorted(set(by_source) - set(names))]:
        history = by_source.get(name, [])
        if any(r.outcome == "running" for r in history) and held_elsewhere(engine, f"run:{name}") is False:
            for run in history:  # no run of the source is alive: these were killed with their process
                if run.outcome == "running":
                    run.outcome, run.error = "failed", INTERRUPTED
        last = history[0] if history else None
        finished = next((r for r in history if r.outcome not in NOT_FINISHED), None)
        failures = 0
        for run in history:
            if run.outcome in NOT_FINISHED:
                continue
            if run.outcome != "failed":
                break
            failures += 1
        duration = None
        if finished is not None and finished.finished_at is not None:
            duration = round((finished.finished_at - finished.started_at).total_seconds(), 1)
        error = next((r.error for r in history if r.error and r.outcome != SKIPPED_RUN), None)
        if finished is not None and finished.outcome == "suspicious":
            # the guard held back this run's closures: said first, where a narrow table still shows it
            error = f"suspicious: {finished.error or 'closures held back'}"
        elif finished is not None and finished.error:
            error = finished.error
        if last is not None and last.outcome == SKIPPED_RUN:
            error = last.error  # why this source was left out of the replay
        rows.append({
            "source": name, "configured": name in names,
            "last_run": last.started_at if last else None,
            "outcome": last.outcome if last else None,
            "duration_seconds": duration,
            "complete": finished.complete if finished else None,
            "seen": finished.seen if finished else None, "new": finished.new if finished else None,
            "changed": finished.changed if finished else None,
            "closed": finished.closed - removed.get(finished.id, 0) if finished else None,
            "removed": removed.get(finished.id, 0) if finished else None,
            "consecutive_failures": failures,
            "last_error": error,
        })
    return rows

"""How each source is doing, read from its fetch runs (``fundradar sources status``).

A run's outcome is ok, suspicious (complete, but the mass-closure guard held back its closures: the
last error then starts with "suspicious: "), failed or running. A run still in progress counts as the
last run but not as a finished one: its duration, counts and
outcome come from the newest finished run, and it neither breaks nor extends a streak of failures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from pipeline.core.models import FetchRun


def source_status(engine: Engine, names: list[str]) -> list[dict[str, Any]]:
    """Per source (configured ``names`` first, then any other with runs): the last run, its duration
    and counts, the number of consecutive failed runs and the last error or warning."""
    with Session(engine) as session:
        runs = session.exec(select(FetchRun).order_by(FetchRun.source, FetchRun.id.desc())).all()
    by_source: dict[str, list[FetchRun]] = {}
    for run in runs:
        by_source.setdefault(run.source, []).append(run)
    rows = []
    for name in [*names, *sorted(set(by_source) - set(names))]:
        history = by_source.get(name, [])
        last = history[0] if history else None
        finished = next((r for r in history if r.outcome != "running"), None)
        failures = 0
        for run in history:
            if run.outcome == "running":
                continue
            if run.outcome != "failed":
                break
            failures += 1
        duration = None
        if finished is not None and finished.finished_at is not None:
            duration = round((finished.finished_at - finished.started_at).total_seconds(), 1)
        error = next((r.error for r in history if r.error), None)
        if finished is not None and finished.outcome == "suspicious":
            # the guard held back this run's closures: said first, where a narrow table still shows it
            error = f"suspicious: {finished.error or 'closures held back'}"
        rows.append({
            "source": name, "configured": name in names,
            "last_run": last.started_at if last else None,
            "outcome": last.outcome if last else None,
            "duration_seconds": duration,
            "complete": finished.complete if finished else None,
            "seen": finished.seen if finished else None, "new": finished.new if finished else None,
            "changed": finished.changed if finished else None,
            "closed": finished.closed if finished else None,
            "consecutive_failures": failures,
            "last_error": error if finished is not None and finished.outcome == "suspicious"
            else finished.error if finished and finished.error else error,
        })
    return rows

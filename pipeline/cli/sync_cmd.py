"""``fundradar sync``: fetch every enabled source (or one) now, store what changed, print a summary.

With ``--replay DIR`` the sources are answered from recordings instead of the network (the same
fetch code runs through :class:`watcher.replay.ReplayTransport`), and each source runs as of its
recording's own date (``search_YYYY-MM-DD`` folders; a ``_YYYY-MM`` or ``_YYYY-MM-DD`` in recorded
file names) unless ``--as-of`` was given.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import typer

from pipeline.cli.common import Column, print_rows, state, stderr
from pipeline.core.clock import BRUSSELS, UTC
from pipeline.core.errors import ValidationError

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")

COLUMNS = [
    Column("source", "Source", no_wrap=True),
    Column("seen", "Seen", justify="right"),
    Column("new", "New", justify="right"),
    Column("changed", "Changed", justify="right"),
    Column("closed", "Closed", justify="right"),
    Column("outcome", "Outcome", lambda v: v or "", no_wrap=True),
    Column("error", "Error", max_width=34),
]


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


def _row(result: Any) -> dict[str, Any]:
    return {"source": result.source, "outcome": result.outcome if result.outcome != "ok" or result.complete
            else "partial", "complete": result.complete, "seen": result.seen, "new": result.new,
            "changed": result.changed, "unchanged": result.unchanged, "closed": result.closed,
            "run_id": result.run_id, "error": result.error}


def sync_sources(source: str | None = None, replay: Path | None = None) -> tuple[list[Any], datetime | None]:
    """Run the enabled sources (or one) once and return their results, and the latest recording moment
    when replaying (None otherwise). Progress goes to stderr; one failing source never stops the others."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from watcher.http import make_client
    from watcher.replay import ReplayTransport
    from watcher.runner import run_source
    from watcher.sources import build_adapters

    st = state()
    config = st.scoped()  # several strategies share their sources: the union
    engine = st.engine()
    adapters = build_adapters(config.strategy, only=source, engine=engine,
                              sources=config.sources)
    if not adapters:
        what = f"source {source!r} has no adapter installed" if source else "no source is enabled"
        raise ValidationError(f"{what}; check the sources section of {config.config_path}")
    moments: dict[str, datetime] = {}
    if replay is not None:
        if not replay.is_dir():
            raise ValidationError(f"--replay {replay}: no such folder; give a recording folder such as "
                                  "samples/eu_ft/search_2026-08-22 or the samples root")
        handlers, kept = [], []
        for adapter in adapters:
            handler = adapter.replay_handler(replay) if hasattr(adapter, "replay_handler") else None
            if handler is None:
                stderr().print(f"{adapter.name}: no recording in {replay}; skipped")
                continue
            handlers.append(handler)
            kept.append(adapter)
            moment = recording_moment(adapter, replay)
            if moment is not None:
                moments[adapter.name] = moment
        if not kept:
            raise ValidationError(f"--replay {replay}: no recording for "
                                  f"{'source ' + repr(source) if source else 'any enabled source'}")
        adapters = kept
        client = make_client(transport=ReplayTransport(handlers), retries=0)
    else:
        timeout = max(config.sources[a.name].timeout_seconds for a in adapters)
        client = make_client(timeout=timeout)

    results = []
    console = stderr()
    with client, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=True,
                          disable=not console.is_terminal) as progress:
        for adapter in adapters:
            task = progress.add_task(f"{adapter.name}", total=None)
            if hasattr(adapter, "on_page"):
                def on_page(label: str, number: int, pages: int, task: Any = task, name: str = adapter.name,
                            ) -> None:
                    progress.update(task, description=f"{name}: {label}", completed=number, total=pages)
                adapter.on_page = on_page
            now = st.as_of or moments.get(adapter.name) or st.now()
            results.append(run_source(engine, adapter, client, now))
            progress.update(task, completed=1, total=1)
    return results, max(moments.values()) if moments else None


def after_sync(now: datetime) -> list[Any]:
    """What every sync is followed by: applications follow their calls' deadlines, and new or changed
    calls are scored against each strategy (incrementally). Returns the scoring results."""
    from classifiers.scoring import score_strategies
    from pipeline.applications import follow_call_deadlines
    from pipeline.core.db import session_scope

    st = state()
    with session_scope(st.engine()) as session:
        follow_call_deadlines(session, now)
    return score_strategies(st.engine(), list(st.scoped().each()), now)  # texts read once for all


def sync(
    source: str = typer.Option(None, "--source", metavar="NAME",
                               help="Only this source (see `sources list`)."),
    replay_dir: str = typer.Option(None, "--replay", metavar="DIR",
                                   help="Answer from recordings in DIR instead of the network."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Fetch the enabled sources (or one) and store new, changed and closed calls.

    Prints one line per source (seen, new, changed, closed, outcome, error); exits 1 if a source
    failed. Outcome "partial" means some pages could not be read, so nothing was closed. Then the
    applications follow their calls' deadlines and new or changed calls are scored.

    Example: fundradar sync --source eu_ft --replay ../shared/samples/eu_ft/search_2026-08-22
    """
    st = state()
    results, recorded = sync_sources(source, Path(replay_dir) if replay_dir else None)
    print_rows([_row(r) for r in results], COLUMNS, as_json=as_json, as_csv=as_csv)
    # always, not only when this run wrote something: a scoring killed mid-way is finished by the next sync
    after_sync(st.as_of or recorded or st.now())
    if any(r.outcome == "failed" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)

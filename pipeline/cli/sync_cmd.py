"""``fundradar sync``: the main job (:mod:`pipeline.sync`) for every enabled source (or one), and a
summary of what each source run stored.

With ``--replay DIR`` the sources are answered from recordings instead of the network, each as of its
recording's own date unless ``--as-of`` was given (see :mod:`pipeline.sync`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.common import Column, echo, print_rows, source_progress, state
from pipeline.sync import SourcePlan, run_row, split_removals
from pipeline.sync import sync as main_job

COLUMNS = [
    Column("source", "Source", no_wrap=True),
    Column("seen", "Seen", justify="right"),
    Column("new", "New", justify="right"),
    Column("changed", "Changed", justify="right"),
    Column("closed", "Closed", justify="right"),
    Column("removed", "Removed", justify="right"),
    Column("missing", "Missing", justify="right"),
    Column("outcome", "Outcome", lambda v: v or "", no_wrap=True),
    Column("error", "Error", max_width=34, whole_words=True),  # a URL or path in it is copied whole
]


def sync(
    source: str = typer.Option(None, "--source", metavar="NAME",
                               help="Only this source (see `sources list`)."),
    replay_dir: str = typer.Option(None, "--replay", metavar="DIR",
                                   help="Answer from recordings in DIR instead of the network."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Fetch the enabled sources (or one) and store new, changed, closed and removed calls.

    Prints one line per source (seen, new, changed, closed: deadline passed, removed: gone from the
    source before its deadline, missing: gone from this answer for the first time, removed if the next
    complete answer lacks them too, outcome, error); exits 1 if a source failed. Outcome "partial" means
    some pages could not be read, so nothing was closed or removed. Then the
    applications follow their calls' deadlines and new or changed calls are scored; a failure there is
    one line after the table, and exits 1.

    Example: fundradar sync --source eu_ft --replay ../shared/samples/eu_ft/search_2026-08-22
    """
    st = state()
    engine, config = st.engine(), st.scoped()  # several strategies share their sources: the union

    def skipped(plan: SourcePlan) -> None:
        for line in plan.skipped:  # one line each, whatever the width: a path or a source name is not cut
            echo(line, err=True)

    with source_progress() as on_progress:  # the main job: sources, deadlines, scoring, calendar files
        job = main_job(engine, config, only=source, replay=Path(replay_dir) if replay_dir else None,
                       as_of=st.as_of, now=st.now, on_progress=on_progress, on_plan=skipped)
    print_rows(split_removals(engine, [run_row(r) for r in job.runs]), COLUMNS, as_json=as_json,
               as_csv=as_csv)
    for line in job.error_lines():  # after the table: the sources' results are shown either way
        echo(f"Error: {line}", err=True)
    if job.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)

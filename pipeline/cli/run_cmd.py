"""``fundradar run``: the main job once — sync every source, follow deadlines, score, digest.

This is what ``make demo`` runs and what a cron line would run on a machine without ``serve``. The
per-source summary goes to stderr (it is a log of what happened); the digest is the data and goes to
stdout — to Slack instead when a token or webhook is configured.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.common import echo, print_json, report_outcomes, source_progress, state, stderr
from pipeline.core.errors import FundradarError
from pipeline.sync import SourcePlan, run_row, split_removals
from pipeline.sync import sync as main_job


def _summary(row: dict[str, object]) -> str:
    outcome = row["outcome"]
    text = (f"{row['source']}: {outcome}, {row['seen']} seen, {row['new']} new, {row['changed']} changed, "
            f"{row['closed']} closed, {row['removed']} removed"
            + (f", {row['missing']} missing (removed if the next answer lacks them too)"
               if row.get("missing") else ""))
    return f"{text} ({row['error']})" if row.get("error") else text


def _print_skipped(plan: SourcePlan) -> None:
    for line in plan.skipped:  # one line each, whatever the width: a path or a source name is not cut
        echo(line, err=True)


def run_cmd(
    replay_dir: str = typer.Option(None, "--replay", metavar="DIR",
                                   help="Answer the sources from recordings in DIR, e.g. ../shared/samples."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the digest; send nothing to Slack."),
    as_json: bool = typer.Option(False, "--json", help="Print sync, scoring and digest as one JSON object."),
) -> None:
    """Run the main job once: sync every enabled source, let applications follow their calls'
    deadlines, score new and changed calls, and send the digest (to the terminal without Slack).
    With several strategies every one is scored and sends its digests (or only --strategy's).

    With --replay the sources answer from recordings and the job runs as of the newest recording
    (unless --as-of is given), so the digest reads as it would have on that day. Exits 1 if a source
    or Slack failed; the other steps still run.

    Example: fundradar run --replay ../shared/samples
    """
    from pipeline.notify.jobs import send_digests

    st = state()
    with source_progress() as on_progress:
        job = main_job(st.engine(), st.scoped(), replay=Path(replay_dir) if replay_dir else None,
                       as_of=st.as_of, now=st.now, on_progress=on_progress,
                       on_plan=_print_skipped)
    rows = split_removals(st.engine(), [run_row(r) for r in job.runs])
    now, scoring = job.moment, job.scoring  # one scoring result per strategy
    try:
        outcomes, digest_error = send_digests(st.engine(), st.scoped(), now, dry_run=dry_run), None
    except FundradarError as exc:  # the sync ran and stored: its summary is shown before the error
        outcomes, digest_error = [], exc
    if as_json:
        print_json({"as_of": now.isoformat(), "sources": rows,
                    "scoring": scoring[0].as_dict() if len(scoring) == 1 else [r.as_dict() for r in scoring],
                    "digest": [o.as_dict() for o in outcomes]})
    else:
        console = stderr()
        for row in rows:
            console.print(_summary(row), highlight=False, markup=False, soft_wrap=True)
        for result in scoring:
            which = f" for {result.strategy}" if len(scoring) > 1 else ""
            console.print(f"Scored {result.scored_calls} of {result.total_calls} calls{which} "
                          f"({result.reason}); digest as of {now:%Y-%m-%d %H:%M} UTC.",
                          highlight=False, markup=False, soft_wrap=True)
        if digest_error is None:
            report_outcomes(outcomes, False, "digest")
    for line in job.error_lines():
        echo(f"Error: {line}", err=True)
    if digest_error is not None:
        raise digest_error  # one line, with its exit code, as the CLI says every error
    if job.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)

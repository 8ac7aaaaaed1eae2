"""``fundradar sources list|status``: the configured sources, and how each is doing."""

from __future__ import annotations

from typing import Any

import typer

from pipeline.cli.common import Column, fmt_datetime, new_app, print_rows, state
from pipeline.core import clock
from pipeline.sources_status import source_status

sources_app = new_app("The sources calls are fetched from.\n\nExample: fundradar sources status")


def _schedule(cfg) -> str:
    return f"cron {cfg.schedule.cron}" if cfg.schedule.cron else f"every {cfg.schedule.every}"


@sources_app.command("list")
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """List the sources of the strategy config with their type, schedule and URL (with several
    strategies: the sources they share, each fetched once).

    Example: fundradar sources list --json
    """
    rows = []
    for name, cfg in state().config().sources.items():
        url = getattr(cfg, "url", None) or ", ".join(getattr(cfg, "pages", []))
        rows.append({"name": name, "type": cfg.type, "enabled": cfg.enabled, "schedule": _schedule(cfg),
                     "url": url})
    # names and URLs are what a reader copies: never split (the table grows wider instead)
    print_rows(rows, [Column("name", "Source", no_wrap=True), Column("type", "Type"),
                      Column("enabled", "On", lambda v: "yes" if v else "no"),
                      Column("schedule", "Schedule", no_wrap=True),
                      Column("url", "URL", lambda v: "\n".join((v or "").split(", ")), no_wrap=True)],
               as_json=as_json, as_csv=as_csv, empty="No sources configured.")


def _count(value: Any) -> str:
    return "" if value is None else str(value)


STATUS_COLUMNS = [
    Column("source", "Source", no_wrap=True),
    Column("last_run", "Last run", fmt_datetime, no_wrap=True),
    Column("duration_seconds", "Secs", lambda v: "" if v is None else f"{v:.1f}", justify="right"),
    Column("seen", "Seen", _count, justify="right"),
    Column("new", "New", _count, justify="right"),
    Column("changed", "Chg", _count, justify="right"),
    Column("closed", "Clo", _count, justify="right"),
    Column("removed", "Rem", _count, justify="right"),
    Column("consecutive_failures", "Fails", _count, justify="right"),
    Column("last_error", "Last error", max_width=30, whole_words=True),  # its URL or path copied whole
]


@sources_app.command("status")
def status_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON (all fields)."),
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV."),
) -> None:
    """Show per source the last run, its duration, calls seen/new/changed/closed/removed, consecutive failures
    and the last error. A run whose closures the mass-closure guard held back shows "suspicious: "
    and why in front of its warning (the JSON has the outcome too).

    Example: fundradar sources status --json
    """
    st = state()
    rows = source_status(st.read_engine(), list(st.scoped().sources))  # every strategy's sources
    print_rows(rows, STATUS_COLUMNS, as_json=as_json, as_csv=as_csv, empty="No sources configured.",
               csv_zone=clock.BRUSSELS)  # as the table shows the runs (JSON keeps UTC)


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")

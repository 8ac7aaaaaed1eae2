"""``fundradar sources list`` (``sources status`` lives with the scheduler in serve_cmd)."""

from __future__ import annotations

import typer

from pipeline.cli.common import Column, new_app, print_rows, state

sources_app = new_app("The sources calls are fetched from.")


def _schedule(cfg) -> str:  # type: ignore[no-untyped-def]
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
    print_rows(rows, [Column("name", "Source"), Column("type", "Type"),
                      Column("enabled", "On", lambda v: "yes" if v else "no"),
                      Column("schedule", "Schedule"), Column("url", "URL", max_width=40)],
               as_json=as_json, as_csv=as_csv, empty="No sources configured.")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")

"""The ``fundradar`` command line: a thin layer over the library (typer + rich).

Exit codes: 0 success, 1 runtime error (a source, the database or Slack failed), 2 usage error (a
wrong argument, an invalid config, an unknown id, a transition the workflow forbids).
"""

from __future__ import annotations

import importlib
import logging
import sys
from importlib.metadata import PackageNotFoundError, version

import typer

from pipeline.cli.common import State, new_app, set_state
from pipeline.core import clock

app = new_app(
    "fundradar: find the EU and Interreg calls that fit your cluster's strategy, and track the "
    "applications.\n\nExample: fundradar sync && fundradar calls list --focus offshore_energy")

# Each module adds its commands to ``app`` in register(app); keep this list short and ordered as
# the help should show them.
COMMAND_MODULES = (
    "pipeline.cli.config_cmd",
    "pipeline.cli.db_cmd",
    "pipeline.cli.sources_cmd",
    "pipeline.cli.sync_cmd",
    "pipeline.cli.serve_cmd",
    "pipeline.cli.calls_cmd",
    "pipeline.cli.follow_cmd",  # calls follow|unfollow|mute|unmute (after calls_cmd: joins its group)
    "pipeline.cli.score_cmd",
    "pipeline.cli.eval_cmd",
    "pipeline.cli.ideas_cmd",
    "pipeline.cli.partners_cmd",
    "pipeline.cli.applications_cmd",
    "pipeline.cli.deadlines_cmd",
    "pipeline.cli.report_cmd",
    "pipeline.cli.export_cmd",
    "pipeline.cli.digest_cmd",
    "pipeline.cli.strategy_cmd",
    "pipeline.cli.run_cmd",
)


def _version_callback(value: bool) -> None:
    if value:
        try:
            typer.echo(f"fundradar {version('fundradar')}")
        except PackageNotFoundError:
            typer.echo("fundradar (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: str = typer.Option(None, "--config", "-c", envvar="FUNDRADAR_CONFIG", metavar="PATH",
                               help="Strategy config file, or a folder of them (one per cluster) "
                                    "(default: config/strategy.yaml, else the example)."),
    strategy: str = typer.Option(None, "--strategy", envvar="FUNDRADAR_STRATEGY", metavar="NAME",
                                 help="With several strategies: the one to use (default: the first by "
                                      "file name); score, digest, alerts, sync, run and serve then "
                                      "cover only it instead of all."),
    db: str = typer.Option(None, "--db", envvar="FUNDRADAR_DB", metavar="URL",
                           help="Database URL or SQLite path (default: data/fundradar.db)."),
    as_of: str = typer.Option(None, "--as-of", envvar="FUNDRADAR_NOW", metavar="DATETIME",
                              help="Behave as on this moment, e.g. 2026-08-22 or 2026-08-22T09:00+02:00."),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="Log more to stderr (-vv: debug)."),
    _version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                  help="Show the version and exit."),
) -> None:
    logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s",
                        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)])
    moment = None
    if as_of:
        try:
            moment = clock.parse_datetime(as_of, what="--as-of")
        except Exception as exc:
            raise typer.BadParameter(str(exc), param_hint="--as-of") from None
    ctx.obj = State(config_path=config, strategy_name=strategy, db_url=db, as_of=moment)
    set_state(ctx.obj)
    clock.set_now(moment)


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _name:
            raise
        continue
    _module.register(app)


def run() -> None:
    """Console-script entry point."""
    app(prog_name="fundradar")


if __name__ == "__main__":
    run()

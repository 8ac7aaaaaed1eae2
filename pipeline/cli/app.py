"""The typer app behind ``fundradar``: the global options, and the command groups loaded on demand.

Each command module adds its commands to a typer app in ``register(app)``. :data:`COMMANDS` names which
module provides which top-level command, in the order the help shows them; a command's module (and what
it imports: SQLModel, scikit-learn, slack_sdk) is imported only when that command runs, or when the help
lists every command.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import TYPE_CHECKING

import typer

from pipeline.cli.common import FundradarGroup, State, new_app, set_state
from pipeline.core import clock, redact

if TYPE_CHECKING:  # typer's own copy of click is the one it runs; importing click itself costs 12 ms
    from typer import _click as click

# top-level command -> the module whose register(app) adds it, in the help's order: the single commands,
# then the command groups (each list in the order the modules were written)
COMMANDS: dict[str, str] = {
    "sync": "pipeline.cli.sync_cmd",
    "serve": "pipeline.cli.serve_cmd",
    "score": "pipeline.cli.score_cmd",
    "eval": "pipeline.cli.eval_cmd",
    "deadlines": "pipeline.cli.deadlines_cmd",
    "digest": "pipeline.cli.digest_cmd",
    "alerts": "pipeline.cli.digest_cmd",
    "run": "pipeline.cli.run_cmd",
    "config": "pipeline.cli.config_cmd",
    "db": "pipeline.cli.db_cmd",
    "sources": "pipeline.cli.sources_cmd",
    "calls": "pipeline.cli.calls_cmd",
    "ideas": "pipeline.cli.ideas_cmd",
    "partners": "pipeline.cli.partners_cmd",
    "applications": "pipeline.cli.applications_cmd",
    "pipeline": "pipeline.cli.report_cmd",
    "export": "pipeline.cli.export_cmd",
    "strategy": "pipeline.cli.strategy_cmd",
}

_loaded: dict[str, dict[str, click.Command]] = {}  # module -> the click commands it registers


def module_commands(module_name: str) -> dict[str, click.Command]:
    """The click commands one command module registers, built once; {} when the module is absent."""
    if module_name not in _loaded:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            _loaded[module_name] = {}
            return _loaded[module_name]
        holder = new_app("")
        module.register(holder)
        group = typer.main.get_group(holder)
        _loaded[module_name] = dict(group.commands)
    return _loaded[module_name]


class LazyGroup(FundradarGroup):
    """The root group: lists :data:`COMMANDS` and imports a command's module when it is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in COMMANDS:
            found = module_commands(COMMANDS[cmd_name]).get(cmd_name)
        return found


app = new_app(
    "fundradar: find the EU and Interreg calls that fit your cluster's strategy, and track the "
    "applications.\n\nExample: fundradar sync && fundradar calls list --focus offshore_energy")
app.info.cls = LazyGroup


def _version_callback(value: bool) -> None:
    if value:
        from pipeline.cli.main import version_line

        typer.echo(version_line())
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
    if not verbose:
        # psycopg warns "error ignored terminating <psycopg.Pipeline …>" after a refused write that
        # fundradar reports itself, in one line: a second line, an object's repr, for the same fault
        logging.getLogger("psycopg").setLevel(logging.ERROR)
    redact.install()  # webhook URLs and tokens never reach stderr, at any verbosity
    for name in ("COLUMNS", "LINES"):  # rich takes "²" for digits (str.isdigit) and int() fails on it
        value = os.environ.get(name)
        if value is not None and not (value.isascii() and value.isdigit()):
            del os.environ[name]
    moment = None
    if as_of:
        try:
            moment = clock.parse_datetime(as_of, what="--as-of")
        except Exception as exc:
            # the message names --as-of already; BadParameter would prefix "Invalid value for --as-of:"
            from typer._click.exceptions import UsageError

            raise UsageError(str(exc), ctx=ctx) from None
    ctx.obj = State(config_path=config, strategy_name=strategy, db_url=db, as_of=moment)
    set_state(ctx.obj)
    clock.set_now(moment)



"""``fundradar config check``."""

from __future__ import annotations

import typer
from sqlalchemy import select
from sqlmodel import Session

from pipeline.cli.common import echo, new_app, state
from pipeline.config_check import check_config, stored_calls

config_app = new_app("Check the strategy config.\n\nExample: fundradar config check")


@config_app.command("check")
def check() -> None:
    """Validate the strategy config (every strategy of a folder) and the funding rules; print a summary.

    Beyond the schema it reports settings that would silently do nothing (an unknown focus area in a
    digest, a type-of-action code no call has, also as a funding_rates or consortium_by_action_type
    key of the funding rules, a misspelled euro-access programme) as errors (exit 2), and as warnings
    (exit 0): a programme of interest no known programme contains, a synonym that is not a keyword,
    several digests sharing one Slack webhook and, when the database exists, keywords and exclude
    terms that match no stored call (a Danish keyword without an English synonym named as such). It
    never creates a database. Every problem is printed as
    file:line: key: message.

    Example: fundradar --config config/strategy.yaml config check
    """
    from pipeline.core.config_files import display_path
    from pipeline.core.db import database_url
    from pipeline.core.models import Call

    st = state()
    loaded = st.config()
    engine = st.existing_engine()
    calls = None
    if engine is not None:
        with Session(engine) as session:
            calls = stored_calls(session.execute(select(Call.source, Call.programme, Call.title,
                                                        Call.text)).all())
    problems = check_config(loaded, calls)
    if engine is not None:
        from pipeline.config_rules import programmes_too_large, rules_no_call_passes
        from pipeline.strategy.workbench import active_calls

        with Session(engine) as session:
            active = active_calls(session, st.now())
            problems += rules_no_call_passes(loaded, active, st.now())
            problems += programmes_too_large(loaded, active)
    for problem in problems:
        echo(str(problem), err=True)
    note = None
    if engine is None:
        missing = database_url(st.db_url).removeprefix("sqlite:///")
        note = (f"Note: no database at {missing}: keywords and exclude terms not checked against stored "
                "calls; run fundradar sync, then check again")
    if any(p.level == "error" for p in problems):
        if note:
            echo(note, err=True)
        raise typer.Exit(2)
    from pipeline.notify.jobs import webhook_warnings

    for warning in webhook_warnings(loaded):
        echo(f"Warning: {warning}", err=True)
    if note:
        echo(note, err=True)
    for path, strategy in zip(loaded.strategy_paths, loaded.strategies, strict=True):
        echo(f"{display_path(path)}: OK")  # as its warnings name it
        echo(f"strategy {strategy.name} ({strategy.organisation}): "
             f"{_count(len(strategy.focus_areas), 'focus area')}, {_count(len(strategy.sources), 'source')}, "
             f"{_count(len(strategy.slack.digests), 'digest channel')}")
    if len(loaded.strategies) > 1:
        shared = sum(1 for name in loaded.sources
                     if sum(name in strategy.sources for strategy in loaded.strategies) > 1)
        echo(f"{len(loaded.strategies)} strategies, {_count(len(loaded.sources), 'source')} in all "
             f"({shared} shared)")
    echo(f"funding rules: {len(loaded.funding_rules.programmes)} programmes")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")

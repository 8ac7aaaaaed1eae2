"""``fundradar config check``."""

from __future__ import annotations

import typer

from pipeline.cli.common import echo, new_app, state

config_app = new_app("Check the strategy config.")


@config_app.command("check")
def check() -> None:
    """Validate the strategy config (every strategy of a folder) and the funding rules; print a summary.

    Example: fundradar --config config/strategy.yaml config check
    """
    loaded = state().config()
    for path, strategy in zip(loaded.strategy_paths, loaded.strategies, strict=True):
        echo(f"{path}: OK")
        echo(f"strategy {strategy.name} ({strategy.organisation}): {len(strategy.focus_areas)} focus "
                   f"areas, {len(strategy.sources)} sources, {len(strategy.slack.digests)} digest channels")
    if len(loaded.strategies) > 1:
        echo(f"{len(loaded.strategies)} strategies sharing {len(loaded.sources)} sources")
    echo(f"funding rules: {len(loaded.funding_rules.programmes)} programmes")

def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")

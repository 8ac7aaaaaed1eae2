"""Whose ideas and applications: tenancy of the strategies (clusters) of one installation.

Each idea belongs to the strategy selected when it was added (``Idea.strategy``; None for ideas from
before ideas had a strategy, shared by all), and an application belongs to the strategy of its idea.
With a config folder the per-strategy commands pass the selected strategy as ``scope`` and see only its
own and the shared ideas, and the applications of those; ``scope`` None (a single strategy file) sees
everything. Partners are one directory shared by every strategy and have no tenancy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.core.errors import NotFoundError

if TYPE_CHECKING:
    from pipeline.core.config import LoadedConfig
    from pipeline.core.models import Idea


def scope_of(config: LoadedConfig) -> str | None:
    """The strategy whose ideas and applications the per-strategy commands show: the selected one when
    the config is a folder of strategies; None (every idea) for a single strategy file."""
    return config.strategy.name if config.from_folder else None


def visible(query: Any, scope: str | None) -> Any:
    """``query`` (which selects or joins Idea) narrowed to the ideas ``scope`` sees: its own and the
    shared ones (no strategy). Unchanged when ``scope`` is None. Uses ix_idea_strategy."""
    if scope is None:
        return query
    from sqlmodel import col, or_

    from pipeline.core.models import Idea

    return query.where(or_(col(Idea.strategy).is_(None), col(Idea.strategy) == scope))


def visible_sql(scope: str | None, idea: str, params: dict[str, Any]) -> list[str]:
    """:func:`visible` for SQL text: the condition on the idea table aliased ``idea`` (none when
    ``scope`` is None), its parameter added to ``params``. Uses ix_idea_strategy."""
    if scope is None:
        return []
    params["scope"] = scope
    return [f"({idea}.strategy IS NULL OR {idea}.strategy = :scope)"]


def check_scope(idea: Idea, scope: str | None, what: str) -> None:
    """NotFoundError when ``idea`` (or ``what`` reached through it) belongs to another strategy."""
    if scope is None or idea.strategy is None or idea.strategy == scope:
        return
    raise NotFoundError(f"{what} belongs to strategy {idea.strategy!r}, not to the selected {scope!r}; "
                        f"select it with `fundradar --strategy {idea.strategy} ...` "
                        f"(or FUNDRADAR_STRATEGY={idea.strategy})")

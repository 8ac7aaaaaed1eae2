"""The strategy config the secretariat edits, and the funding rules, validated with clear errors.

``load_strategy(path)`` reads YAML with ruamel.yaml (which keeps line numbers), validates it with
pydantic models, and turns the first problem into a :class:`~pipeline.core.errors.ConfigError` that names
the file, the line and the key, and says what is expected.

The strategy file is chosen by ``--config PATH``, then ``FUNDRADAR_CONFIG``, then
``config/strategy.yaml`` if it exists, then ``config/strategy.example.yaml``.

The path may also name a folder of strategy files, one per cluster (every ``*.yaml`` / ``*.yml`` in it
except ``funding_rules.yaml``), loaded in file-name order. Each needs its own ``name``; their sources
are shared: the union by source name, and a source name declared in several files must be declared
the same in each. :class:`LoadedConfig` holds them all (``strategies``) and the selected one
(``strategy``: ``--strategy NAME``, else the first).

The models are in :mod:`pipeline.core.config_strategy` (the strategy file) and
:mod:`pipeline.core.config_funding` (the funding rules); every name is importable from here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.core import config_cache
from pipeline.core.config_files import (
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    FUNDING_RULES_NAME,
    display_path,
    resolve_funding_rules_path,
    strategy_files,
    strategy_path,
)
from pipeline.core.config_funding import (
    MAX_PATTERN_LENGTH,
    Consortium,
    CountryCode,
    CountryGroup,
    Figure,
    FundingRulesFile,
    ProgrammeMatch,
    ProgrammeRules,
)
from pipeline.core.config_strategy import (
    DEFAULT_SCHEDULE,
    MAX_EVERY_SECONDS,
    MAX_JITTER_SECONDS,
    Alerts,
    CalendarFile,
    DigestChannel,
    EuFtSource,
    EuroAccessSource,
    FeedSource,
    FocusArea,
    Fraction,
    HtmlListSource,
    IcalSource,
    NonEmptyStr,
    PageWatchSource,
    Rules,
    Schedule,
    Slack,
    SlackChannel,
    SourceConfig,
    Strategy,
)
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.core.yaml import _line_of, parse_yaml_text, read_config_text, read_yaml, validate_yaml

_display = display_path  # the name the config checks import

__all__ = [
    "DEFAULT_FUNDING_RULES", "DEFAULT_SCHEDULE", "DEFAULT_STRATEGY", "FUNDING_RULES_NAME",
    "MAX_EVERY_SECONDS", "MAX_JITTER_SECONDS", "MAX_PATTERN_LENGTH", "Alerts", "CalendarFile",
    "Consortium", "CountryCode", "CountryGroup", "DigestChannel", "EuFtSource", "EuroAccessSource",
    "FeedSource", "Figure", "FocusArea",
    "Fraction", "FundingRulesFile", "HtmlListSource", "IcalSource", "LoadedConfig", "NonEmptyStr",
    "PageWatchSource", "ProgrammeMatch", "ProgrammeRules", "Rules", "Schedule", "Slack", "SlackChannel",
    "SourceConfig", "Strategy", "load_config", "load_funding_rules", "load_strategy", "parse_yaml_text",
    "read_yaml", "resolve_funding_rules_path", "strategy_files", "strategy_path", "union_sources",
    "validate_yaml",
]



# --- loading with line numbers -------------------------------------------------------------------

def load_strategy(path: str | os.PathLike[str] | None = None) -> Strategy:
    return _load_strategy_tree(strategy_path(path))[0]


def _load_validated(path: Path, model: type[Any], use_cache: bool = True) -> tuple[Any, Any]:
    """The file validated as ``model``, and its YAML tree: None when the values came from the cache
    (:mod:`pipeline.core.config_cache`), which keeps no line numbers."""
    # a strategy's path was given (--config, FUNDRADAR_CONFIG): a missing default falls back to the example
    text = read_config_text(path, "check the path given with --config or FUNDRADAR_CONFIG, or copy "
                                  "config/strategy.example.yaml there to start from the example"
                            if model is Strategy else "check the path")
    if use_cache:
        found = config_cache.cached(text, model)
        if found is not None:
            return found, None
    tree = parse_yaml_text(text, str(path))
    validated = validate_yaml(tree, model, display_path(path))
    config_cache.store(text, model, tree)
    return validated, tree


def _load_strategy_tree(path: Path, use_cache: bool = True) -> tuple[Strategy, Any]:
    """The validated strategy and its YAML tree (for line numbers of cross-file problems; None when
    read from the cache)."""
    return _load_validated(path, Strategy, use_cache)


def load_funding_rules(path: str | os.PathLike[str] | None = None) -> FundingRulesFile:
    return _load_validated(resolve_funding_rules_path(path), FundingRulesFile)[0]


# --- several strategies --------------------------------------------------------------------------

def _first_difference(a: Any, b: Any, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
    return prefix


def union_sources(strategies: Sequence[Strategy], paths: Sequence[Path],
                  trees: Sequence[Any] | None = None) -> dict[str, Any]:
    """Every strategy's sources by name, in file order; a name declared differently in two files is a
    ConfigError naming both."""
    union: dict[str, Any] = {}
    where: dict[str, int] = {}
    for index, strategy in enumerate(strategies):
        for name, cfg in strategy.sources.items():
            if name not in union:
                union[name], where[name] = cfg, index
            elif union[name] != cfg:
                first = where[name]
                differs = _first_difference(union[name].model_dump(), cfg.model_dump())
                line = _line_of(trees[index], ("sources", name)) if trees is not None else None
                raise ConfigError(
                    f"source {name!r} is declared differently in {display_path(paths[first])}"
                    f"{f' ({differs} differs)' if differs else ''}; a source shared by several strategies "
                    "must be declared the same in each file (with what each needs), or, if one reads "
                    "something else, give it another name: under two names the calls both read are "
                    "stored and listed twice",
                    path=display_path(paths[index]), line=line, key=f"sources.{name}")
    return union


@dataclass(frozen=True)
class LoadedConfig:
    """The strategies and funding rules in force, with where they came from.

    ``strategy`` is the selected strategy (``--strategy``; the per-strategy commands use it),
    ``strategies`` all of them in file-name order, ``sources`` the union of their sources. A config
    made from a single strategy file holds just that one.
    """

    strategy: Strategy
    funding_rules: FundingRulesFile
    strategy_path: Path
    strategies: tuple[Strategy, ...] = ()
    strategy_paths: tuple[Path, ...] = ()
    sources: dict[str, Any] = field(default_factory=dict)
    config_path: Path | None = None  # what --config named: the strategy file, or the folder
    funding_rules_path: Path | None = None
    from_folder: bool = False  # several-strategy layout: job ids and Slack keys carry the strategy name
    narrowed: bool = False  # made by only(): reloading keeps just the selected strategy

    def __post_init__(self) -> None:
        if not self.strategies:
            object.__setattr__(self, "strategies", (self.strategy,))
            object.__setattr__(self, "strategy_paths", (self.strategy_path,))
        if not self.sources:
            object.__setattr__(self, "sources", union_sources(self.strategies, self.strategy_paths))
        if self.config_path is None:
            object.__setattr__(self, "config_path", self.strategy_path)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.strategies]

    def path_of(self, name: str) -> Path:
        """The file strategy ``name`` was read from."""
        return self.strategy_paths[self.names.index(name)]

    def select(self, name: str) -> LoadedConfig:
        """The same config with ``name`` as the selected strategy; NotFoundError listing the names."""
        if name not in self.names:
            where = display_path(self.config_path or self.strategy_path)
            raise NotFoundError(f"no strategy named {name!r} in {where}; the strategies are: "
                                f"{', '.join(self.names)} (--strategy or FUNDRADAR_STRATEGY)")
        index = self.names.index(name)
        return replace(self, strategy=self.strategies[index], strategy_path=self.strategy_paths[index])

    def only(self, name: str) -> LoadedConfig:
        """Narrowed to one strategy (and its own sources), e.g. for ``--strategy NAME``."""
        chosen = self.select(name)
        return replace(chosen, strategies=(chosen.strategy,), strategy_paths=(chosen.strategy_path,),
                       sources=dict(chosen.strategy.sources), narrowed=True)

    def unknown_area(self, area: str) -> str:
        """The one line for a focus area the selected strategy does not have: with several strategies
        one of which has it (a cluster's own area typed without --strategy), the strategy to select."""
        from pipeline.core.text import unknown_focus_area

        owners = [s.name for s in self.strategies if s.name != self.strategy.name and area in s.focus_areas]
        if owners:
            return (f"focus area {area!r} belongs to strategy {owners[0]!r}, not to the selected "
                    f"{self.strategy.name!r}; select it with fundradar --strategy {owners[0]} ...")
        return unknown_focus_area(area, self.strategy.focus_areas)

    def each(self) -> list[LoadedConfig]:
        """One config per strategy, each selecting it (for per-strategy work such as scoring)."""
        return [self.select(name) for name in self.names]

    def key_prefix(self, strategy: Strategy) -> str:
        """What Slack delivery keys and job ids of ``strategy`` start with: nothing for a single
        strategy file (one strategy needs no prefix), ``<name>:`` for a folder."""
        return f"{strategy.name}:" if self.from_folder else ""

    def reload(self) -> LoadedConfig:
        """The same files read and validated again, keeping the selection (a ConfigError, or a
        NotFoundError when the selected strategy is gone, if they are no longer valid)."""
        fresh = load_config(self.config_path, self.funding_rules_path)
        if self.narrowed:
            return fresh.only(self.strategy.name)
        return fresh.select(self.strategy.name) if self.strategy.name in fresh.names else fresh

    def files(self) -> list[Path]:
        """Every file this config was read from (strategies, then the funding rules)."""
        extra = [self.funding_rules_path] if self.funding_rules_path is not None else []
        return [*self.strategy_paths, *extra]


def load_config(path: str | os.PathLike[str] | None = None,
                funding_rules_path: str | os.PathLike[str] | None = None, *,
                strategy: str | None = None) -> LoadedConfig:
    """Read and validate the strategy file or folder and the funding rules; select ``strategy``
    (default: the only one, or with several the first in file-name order)."""
    try:
        return _load_config(path, funding_rules_path, strategy, use_cache=True)
    except ConfigError:
        # a problem between files names a line of a YAML tree, which a cached file does not keep: the
        # files are read again, parsed, for the message
        return _load_config(path, funding_rules_path, strategy, use_cache=False)


def _load_config(path: str | os.PathLike[str] | None, funding_rules_path: str | os.PathLike[str] | None,
                 strategy: str | None, *, use_cache: bool) -> LoadedConfig:
    resolved = strategy_path(path)
    folder = resolved if resolved.is_dir() else None
    files = strategy_files(resolved) if folder is not None else [resolved]
    loaded = [_load_strategy_tree(file, use_cache) for file in files]
    strategies = [item[0] for item in loaded]
    seen: dict[str, int] = {}
    for index, item in enumerate(strategies):
        if item.name in seen:
            other = display_path(files[seen[item.name]])
            raise ConfigError(f"strategy name {item.name!r} is also used by {other}; give each strategy "
                              "file its own name", path=display_path(files[index]),
                              line=_line_of(loaded[index][1], ("name",)), key="name")
        seen[item.name] = index
    sources = union_sources(strategies, files, [item[1] for item in loaded])
    rules_path = resolve_funding_rules_path(funding_rules_path, folder)
    rules = _load_validated(rules_path, FundingRulesFile, use_cache)[0]
    config = LoadedConfig(strategies[0], rules, files[0], tuple(strategies),
                          tuple(files), sources, resolved, rules_path, folder is not None)
    return config.select(strategy) if strategy else config

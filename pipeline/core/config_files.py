"""Which files a config is read from: the strategy file or folder, its strategy files, and the funding
rules (see :mod:`pipeline.core.config`, which validates them). Apart from the models, so that finding
the files imports no pydantic."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.errors import ConfigError
from pipeline.core.paths import CONFIG_DIR

DEFAULT_STRATEGY = CONFIG_DIR / "strategy.example.yaml"
FUNDING_RULES_NAME = "funding_rules.yaml"
DEFAULT_FUNDING_RULES = CONFIG_DIR / FUNDING_RULES_NAME


LOCAL_STRATEGY = CONFIG_DIR / "strategy.yaml"


def strategy_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("FUNDRADAR_CONFIG")
    if env:
        return Path(env)
    return LOCAL_STRATEGY if LOCAL_STRATEGY.exists() else DEFAULT_STRATEGY


def reads_the_example_in_place(explicit: str | os.PathLike[str] | None = None) -> bool:
    """Whether no strategy file was named and config/strategy.yaml is missing, so the example is read
    in its place: a file to copy, not to edit (an update of fundradar replaces it)."""
    return not explicit and not os.environ.get("FUNDRADAR_CONFIG") and not LOCAL_STRATEGY.exists()


def resolve_funding_rules_path(explicit: str | os.PathLike[str] | None = None,
                               folder: Path | None = None) -> Path:
    """``explicit``, else ``FUNDRADAR_FUNDING_RULES``, else the strategy folder's funding_rules.yaml if
    it has one, else config/funding_rules.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("FUNDRADAR_FUNDING_RULES")
    if env:
        return Path(env)
    if folder is not None and (folder / FUNDING_RULES_NAME).is_file():
        return folder / FUNDING_RULES_NAME
    return DEFAULT_FUNDING_RULES


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def strategy_files(folder: Path) -> list[Path]:
    """The strategy files of a folder in file-name order: ``*.yaml`` and ``*.yml`` except the funding
    rules."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise ConfigError(f"cannot read the folder ({exc})", path=display_path(folder)) from None
    files = sorted((p for p in entries if p.suffix in (".yaml", ".yml") and p.is_file()
                    and p.stem != FUNDING_RULES_NAME.removesuffix(".yaml")), key=lambda p: p.name)
    if not files:
        raise ConfigError("no strategy files (*.yaml or *.yml) in this folder; add one per cluster or "
                          "point --config at a single strategy file", path=display_path(folder))
    return files

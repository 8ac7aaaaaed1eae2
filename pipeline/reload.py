"""Noticing that the config files changed while ``fundradar serve`` runs, and validating them.

:class:`ConfigWatch` keeps the config in force and a fingerprint of the files it came from: the
content hash of every strategy file (for a folder: every strategy file in it now, so added and removed
files count) and of the funding rules. :meth:`ConfigWatch.check` reads the files again only when the
fingerprint changed; a valid change is returned (and becomes the config in force), an invalid one is
logged once as ``file:line: key: problem; keeping the last good config`` and reported again only
when the files change again into a different problem. Content hashes rather than mtimes: an editor
or ``git checkout`` may keep the mtime, and the files are small.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

from pipeline.core.config import LoadedConfig, strategy_files
from pipeline.core.errors import UserInputError
from pipeline.core.text import one_line

log = logging.getLogger("fundradar.serve")

Fingerprint = tuple[tuple[str, str | None], ...]


def watched_files(config: LoadedConfig) -> list[Path]:
    """The files whose change means a new config: the strategy file or the folder's strategy files
    as they are now, and the funding rules."""
    source = config.config_path or config.strategy_path
    files: list[Path] = []
    if source.is_dir():
        try:
            files = strategy_files(source)
        except UserInputError:
            files = []  # an emptied folder: the reload reports it
    else:
        files = [source]
    if config.funding_rules_path is not None:
        files.append(config.funding_rules_path)
    return files


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # missing or unreadable: the reload says which


def fingerprint(config: LoadedConfig) -> Fingerprint:
    return tuple((str(path), _digest(path)) for path in watched_files(config))


class ConfigWatch:
    """The config in force, and whether its files changed since (see the module doc)."""

    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        self.fingerprint = fingerprint(config)
        self.bad: Fingerprint | None = None  # files of the invalid edit already reported
        self.last_error: str | None = None
        self.lock = threading.Lock()

    def check(self) -> LoadedConfig | None:
        """A new valid config if the files changed into one, else None (see the module doc)."""
        current = fingerprint(self.config)
        if current == self.fingerprint:
            self.bad = None  # back to the good files: a later invalid edit is news again
            return None
        if current == self.bad:
            return None
        try:
            fresh = self.config.reload()
        except UserInputError as exc:
            error = one_line(str(exc))
            if error != self.last_error:  # a file read mid-save can fail the same way: said once
                log.error("%s; keeping the last good config", error)
            self.bad, self.last_error = current, error
            return None
        self.config, self.fingerprint, self.bad, self.last_error = fresh, current, None, None
        return fresh


def rescore_needed(old: LoadedConfig, new: LoadedConfig) -> list[str]:
    """The strategies of ``new`` whose scores or verdicts may differ from ``old``'s: new strategies,
    changed focus areas, rules or countries, or (for all) changed funding rules."""
    before = {s.name: s for s in old.strategies}
    names = []
    for strategy in new.strategies:
        previous = before.get(strategy.name)
        if previous is None or new.funding_rules != old.funding_rules or \
                _scoring_part(previous) != _scoring_part(strategy):
            names.append(strategy.name)
    return names


def _scoring_part(strategy: Any) -> dict[str, Any]:
    # what scores and verdicts depend on: everything but where calls come from and where news goes
    return strategy.model_dump(exclude={"sources", "slack"})

"""Noticing that the config files changed while ``fundradar serve`` runs, and validating them.

:class:`ConfigWatch` keeps the config in force and a fingerprint of the files it came from: the
content hash of every strategy file (for a folder: every strategy file in it now, so added and removed
files count) and of the funding rules. :meth:`ConfigWatch.check` reads the files again only when the
fingerprint changed; a valid change is returned (and becomes the config in force), an invalid one is
logged once as ``file:line: key: problem; keeping the last good config`` (with the ``config check``
command that lists them all when there are more) and reported again only when the files change again
into a different problem. Content hashes rather than mtimes: an editor
or ``git checkout`` may keep the mtime, and the files are small.

An invalid read is reported only once the files have stayed as read for ``settle_seconds``: an editor
saving in place (nano, vim without a backup copy) truncates the file and then writes it, and a check
between the two reads a file empty or cut short, which is not the secretariat's mistake. Until then
the check reads again; a valid edit is applied at once.
"""

from __future__ import annotations

import hashlib
import logging
import shlex
import threading
import time
from pathlib import Path
from typing import Any

from pipeline.core.config import LoadedConfig, strategy_files
from pipeline.core.config_files import display_path
from pipeline.core.errors import UserInputError
from pipeline.core.text import one_line

log = logging.getLogger("fundradar.serve")

Fingerprint = tuple[tuple[str, str | None], ...]
SETTLE_SECONDS = 2.0  # how long an invalid read must stay unchanged to be the edit, not a save under way


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

    def __init__(self, config: LoadedConfig, settle_seconds: float = SETTLE_SECONDS) -> None:
        self.config = config
        self.fingerprint = fingerprint(config)
        self.settle_seconds = settle_seconds
        self.bad: Fingerprint | None = None  # files of the invalid edit already reported
        self.last_error: str | None = None  # the problem of the files as last read
        self.reported: str | None = None  # the problem last logged
        self.unsettled: tuple[Fingerprint, float] | None = None  # invalid files, and since when
        self.lock = threading.Lock()

    def check(self) -> LoadedConfig | None:
        """A new valid config if the files changed into one, else None (see the module doc)."""
        current = fingerprint(self.config)
        if current == self.fingerprint:
            self.bad = self.unsettled = None  # back to the good files: a later invalid edit is news again
            return None
        if current == self.bad:
            return None
        try:
            fresh = self.config.reload()
        except UserInputError as exc:
            self.last_error = error = one_line(str(exc))
            now = time.monotonic()
            if self.unsettled is None or self.unsettled[0] != current:
                self.unsettled = (current, now)
            if now - self.unsettled[1] < self.settle_seconds:
                return None  # perhaps a save under way: read again at the next check
            if error != self.reported:  # a different edit failing the same way: said once
                log.error("%s; keeping the last good config%s", error, _all_problems(exc, self.config))
            self.bad, self.reported, self.unsettled = current, error, None
            return None
        self.config, self.fingerprint = fresh, current
        self.bad = self.last_error = self.reported = self.unsettled = None
        return fresh


def _all_problems(error: UserInputError, config: LoadedConfig) -> str:
    """How to see every problem when the one logged says "(and N more problems)": the log line names
    only the first."""
    if not getattr(error, "more", None):
        return ""
    where = shlex.quote(display_path(config.config_path or config.strategy_path))
    return f"; `fundradar --config {where} config check` lists them all"


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

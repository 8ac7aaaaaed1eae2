"""The calendar files ``serve`` keeps current: each strategy with ``calendar: {path: ...}`` in its
config gets its deadlines calendar (:mod:`pipeline.ical_export`) rewritten after every source run that
changed something and on its ``every`` schedule, so a web server or shared folder can publish it for
Outlook or Google Calendar to subscribe to. A moved deadline keeps its event's UID with a raised
SEQUENCE, a removed call's event is cancelled.

The file is written atomically, and only when an event changed: the DTSTAMP (the moment of writing)
alone is no change, so subscribers are not told of a new version every hour.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.core.config import LoadedConfig, Strategy
from pipeline.core.db import session_scope
from pipeline.tenancy import scope_of

log = logging.getLogger(__name__)
_STAMP = re.compile(rb"^DTSTAMP[;:].*\r?\n", re.MULTILINE)


def calendar_path(config: LoadedConfig, strategy: Strategy) -> Path | None:
    """Where the strategy's calendar goes (relative paths from its config file's folder), or None."""
    if strategy.calendar is None:
        return None
    path = Path(strategy.calendar.path).expanduser()
    return path if path.is_absolute() else config.path_of(strategy.name).parent / path


def refresh_calendars(engine: Engine, config: LoadedConfig, now: datetime, *,
                      only: str | None = None) -> dict[str, Path]:
    """Rewrite each configured calendar (or only strategy ``only``'s) whose events changed; returns the
    files written by strategy name. Deadlines are followed first, so a moved deadline is flagged and
    its SEQUENCE raised before the file is built."""
    from pipeline.applications import follow_call_deadlines
    from pipeline.ical_export import build_calendar, write_calendar  # icalendar only when writing

    written: dict[str, Path] = {}
    strategies = [s for s in config.strategies if s.calendar is not None and only in (None, s.name)]
    if not strategies:
        return written
    with session_scope(engine) as session:
        follow_call_deadlines(session, now)
    for strategy in strategies:
        path = calendar_path(config, strategy)
        assert path is not None
        with Session(engine) as session:
            cal = build_calendar(session, now, strategy=strategy.name,
                                 scope=scope_of(config.select(strategy.name)))
        if path.exists() and _STAMP.sub(b"", path.read_bytes()) == _STAMP.sub(b"", cal.to_ical()):
            continue
        count = write_calendar(cal, path)
        log.info("calendar of %s written: %d events in %s", strategy.name, count, path)
        written[strategy.name] = path
    return written

"""A call's deadlines and what the clock makes of them (pure; one meaning per name).

A call stores its deadlines as JSON (``Call.deadlines``: ``[{"at": iso, "time_assumed": bool}]``, several
for a two-stage call) and the first one in the indexed column ``Call.deadline``. Everything here reads
them through :func:`call_deadlines`, so the JSON is parsed in one place. The functions take any object
with those attributes (a :class:`~pipeline.core.models.Call`, or a row of just those columns):

* :func:`next_deadline`: the first deadline at or after ``now``; None once all have passed;
* :func:`current_deadline`: the deadline that matters now: the next one, else the last (passed) one;
* :func:`last_deadline`: the final deadline, whatever the clock says;
* :func:`effective_status`: the stored status corrected by the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from pipeline.core.clock import BRUSSELS, as_utc

ACTIVE = ("announced", "forthcoming", "open")
GONE = ("removed", "withdrawn")  # the source no longer lists the call, or withdrew it: no deadline holds


class HasDeadlines(Protocol):
    deadlines: Sequence[dict[str, Any]] | None
    deadline: datetime | None


def call_deadlines(call: HasDeadlines) -> list[datetime]:
    """The call's deadlines, aware UTC, earliest first. Entries without a moment are ignored; a call
    whose list is empty but whose ``deadline`` column is set has that one deadline."""
    values = sorted(_moment(d["at"]) for d in call.deadlines or [] if d.get("at"))
    if not values and call.deadline is not None:
        values = [as_utc(call.deadline)]
    return values


def time_assumed(call: HasDeadlines, moment: datetime) -> bool:
    """The source gave the day of the deadline at ``moment`` but not its hour (the hour shown is the
    one assumed)."""
    entries = [d for d in call.deadlines or [] if d.get("at")]
    if not entries:
        return bool(getattr(call, "deadline_time_assumed", False))
    return any(bool(d.get("time_assumed")) and _moment(d["at"]) == as_utc(moment) for d in entries)


@lru_cache(maxsize=1 << 16)
def _moment(at: str) -> datetime:
    # a scoring run reads every call's deadlines once per strategy, and many calls share a moment
    moment = as_utc(datetime.fromisoformat(at))
    assert moment is not None
    return moment


def next_deadline(call: HasDeadlines, now: datetime) -> datetime | None:
    """The first deadline at or after ``now`` (the next stage of a two-stage call); None when every
    deadline has passed or there is none."""
    return next((value for value in call_deadlines(call) if value >= now), None)


def last_deadline(call: HasDeadlines) -> datetime | None:
    """The call's final deadline; None without any."""
    values = call_deadlines(call)
    return values[-1] if values else None


def current_deadline(call: HasDeadlines, now: datetime) -> datetime | None:
    """The deadline that matters now: the next one, else the last one (already passed); None without
    any. Rules and applications look at this one, so a closed call still shows when it closed."""
    values = call_deadlines(call)
    return next((value for value in values if value >= now), values[-1] if values else None)


def effective_status(call: Any, now: datetime) -> str:
    """The stored status, corrected by the clock: an active call past its last deadline is closed, a
    forthcoming one past its opening date is open. ``call`` also needs ``status`` and ``opening_date``."""
    if call.status in ACTIVE:
        last = last_deadline(call)
        if last is not None and last < now:
            return "closed"
        if call.status == "forthcoming" and call.opening_date and as_utc(call.opening_date) <= now:
            return "open"
    return call.status


def days_until(deadline: datetime, now: datetime) -> int:
    """Days left until ``deadline``: from today to the deadline's day, both in Brussels, where the
    deadlines are set. Whole 24 hours cut short: on Monday at 17:05 a Wednesday 17:00 deadline is 2
    days away, not the 1 day 23 hours' 1 (read as Tuesday), and tomorrow's at 18:00 today is 1, not 0."""
    return (deadline.astimezone(BRUSSELS).date() - now.astimezone(BRUSSELS).date()).days

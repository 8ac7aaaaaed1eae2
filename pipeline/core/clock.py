"""The one place that says what time it is.

``--as-of`` on the command line or ``FUNDRADAR_NOW`` in the environment freezes "now", so recorded data
from August can be replayed as if it were August. Code that needs the time takes a ``now`` argument;
only the edges (CLI, scheduler) call :func:`now`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pipeline.core.errors import ValidationError

BRUSSELS = ZoneInfo("Europe/Brussels")
UTC = UTC

_override: datetime | None = None


def parse_datetime(text: str, *, what: str = "date") -> datetime:
    """Parse an ISO date or date-time; a naive value is taken as Brussels time. Returns aware UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{what} {text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[+01:00]") from None
    if not 1900 <= value.year <= 2999:  # further out, every "weeks ahead" or reminder leaves datetime's
        raise ValidationError(f"{what} {text!r} is outside the years 1900 to 2999; give a date in them")
    if value.tzinfo is None:
        _check_wall_time(value, text, what)
        value = value.replace(tzinfo=BRUSSELS)
    return value.astimezone(UTC)


def _check_wall_time(naive: datetime, text: str, what: str) -> None:
    """ValidationError for a Brussels wall time a daylight-saving night skips or has twice: read without
    an offset, it would silently be an hour off what was meant, or one of two moments."""
    first, second = naive.replace(tzinfo=BRUSSELS, fold=0), naive.replace(tzinfo=BRUSSELS, fold=1)
    before, after = first.utcoffset(), second.utcoffset()  # the offsets around the night's change
    if before is None or after is None or before == after:
        return
    # the change's instant, between the two readings of the wall time, to the second
    low, high = naive - max(before, after), naive - min(before, after)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.replace(tzinfo=UTC).astimezone(BRUSSELS).utcoffset() == before:
            low = middle
        else:
            high = middle
    was, became = (high + before).strftime("%H:%M"), (high + after).strftime("%H:%M")
    spec = "minutes" if not naive.second and not naive.microsecond else "auto"

    def offset(delta: timedelta) -> str:
        return naive.replace(tzinfo=timezone(delta)).isoformat(timespec=spec)

    if before < after:
        raise ValidationError(f"{what} {text.strip()!r} does not exist in Brussels time (the clocks go from "
                              f"{was} to {became} that night); give a time outside {was}-{became}, or its "
                              f"offset: {offset(before)}")
    raise ValidationError(f"{what} {text.strip()!r} is twice in Brussels time (the clocks go back from {was} "
                          f"to {became} that night); give its offset: {offset(before)} for the first, "
                          f"{offset(after)} for the second")


def set_now(value: datetime | None) -> None:
    """Freeze the clock at ``value`` (aware), or unfreeze it with ``None``."""
    global _override
    _override = value.astimezone(UTC) if value is not None else None


def now() -> datetime:
    """The current moment as aware UTC: the frozen value, ``FUNDRADAR_NOW``, or the real clock."""
    if _override is not None:
        return _override
    env = os.environ.get("FUNDRADAR_NOW")
    if env:
        return parse_datetime(env, what="FUNDRADAR_NOW")
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Aware UTC for any datetime; naive values (as SQLite returns them) are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)

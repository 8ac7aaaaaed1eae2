"""The one place that says what time it is.

``--as-of`` on the command line or ``FUNDRADAR_NOW`` in the environment freezes "now", so recorded data
from August can be replayed as if it were August. Code that needs the time takes a ``now`` argument;
only the edges (CLI, scheduler) call :func:`now`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
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
        value = value.replace(tzinfo=BRUSSELS)
    return value.astimezone(UTC)


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

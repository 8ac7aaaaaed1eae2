"""Cron expressions read the way crontab reads them, for APScheduler.

APScheduler 3 numbers weekdays from Monday (0 = Monday), crontab from Sunday (0 and 7 = Sunday), so
``0 8 * * 1`` would fire on Tuesdays. :func:`cron_trigger` turns the weekday field into day names
(``mon``, ``tue`` …) before APScheduler sees it, so every schedule in the config means what crontab
means by it, in the scheduler and in the digest's period alike.
"""

from __future__ import annotations

from typing import Any

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday_part(part: str) -> list[str]:
    """One comma-separated item of a crontab weekday field as day names (names are kept as given)."""
    base, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if base == "*":
        first, last = 0, 6
    elif "-" in base:
        start, _, end = base.partition("-")
        if not (start.isdigit() and end.isdigit()):
            return [part]
        first, last = int(start), int(end)
    elif base.isdigit():
        first = last = int(base)
        if step_text:
            last = 6
    else:
        return [part]
    if not (0 <= first <= 7 and 0 <= last <= 7 and step > 0):
        raise ValueError(f"weekday {part!r} is outside 0-7 (0 and 7 are Sunday)")
    return list(dict.fromkeys(DAY_NAMES[day % 7] for day in range(first, last + 1, step)))


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field in APScheduler's terms: ``1-5`` → ``mon,tue,wed,thu,fri``."""
    if field == "*":
        return field
    return ",".join(dict.fromkeys(name for part in field.split(",") for name in _weekday_part(part)))


def cron_trigger(cron: str, timezone: Any) -> Any:
    """The APScheduler ``CronTrigger`` of a five-field crontab expression, weekdays as crontab means
    them, a fixed hour once on the night the clocks go back (:mod:`pipeline.core.cron_once`)."""
    from pipeline.core.cron_once import CrontabTrigger  # the scheduler library only when a cron is read

    minute, hour, day, month, weekday = cron.split()
    return CrontabTrigger(minute=minute, hour=hour, day=day, month=month,
                          day_of_week=crontab_weekdays(weekday), timezone=timezone)

"""A crontab time falls once a day, also on the night the clocks go back.

On the last Sunday of October Europe/Copenhagen has 02:00-03:00 twice, and APScheduler's
``CronTrigger`` fires a ``30 2 * * *`` schedule in both passes: the digest went out twice that night and
its period (the latest fire time) started anew an hour after the first. Worse, its jitter is added by
the wall clock, which forgets the pass: the second pass's 02:30 plus a few minutes became an instant
of the first pass, an hour back, so the scheduler, catching up the run times up to now, was handed the
same past time over and over and never got out of its loop (every source and digest at 02:xx with the
default jitter).

crontab runs a job of a fixed hour once and one whose hour is a wildcard (``*``, ``*/2``) in both
passes, by the clock on the wall; :class:`CrontabTrigger` does the same, and adds its jitter in UTC
after the pass is judged. A time the spring night skips (02:30 on the last Sunday of March) fires
once, an hour later by the wall, as APScheduler already does.

The class is kept apart from :mod:`pipeline.core.schedules` so that APScheduler is imported only when
a cron schedule is read.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger


def _second_pass(moment: datetime) -> bool:
    """Whether ``moment`` is in the repeated hour of a night the clocks go back, the second time."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


class CrontabTrigger(CronTrigger):
    """``CronTrigger`` that skips the second pass of a repeated hour unless the hour is a wildcard,
    and jitters in UTC."""

    def _fixed_hour(self) -> bool:
        hour = next(field for field in self.fields if field.name == "hour")
        return not str(hour).startswith("*")

    def _apply_jitter(self, next_fire_time: Any, jitter: Any, now: Any) -> Any:
        return next_fire_time  # added below, once the pass of the unjittered time is judged

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> Any:
        fire = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and self._fixed_hour() and _second_pass(fire):
            fire = super().get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(microseconds=1))
        if fire is None or not self.jitter:
            return fire
        jittered = fire.astimezone(UTC) + timedelta(seconds=random.uniform(0, self.jitter))
        return jittered.astimezone(self.timezone)

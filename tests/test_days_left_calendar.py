"""Days left to a deadline count Brussels calendar days: at 18:00 a deadline tomorrow at 17:00 is one
day away, not "today" (23 hours were counted as 0 days), and the days across a daylight-saving night
(a 23-hour or 25-hour day) count as days."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from pipeline.core.clock import UTC
from pipeline.core.deadlines import days_until
from pipeline.notify.jobs import send_digests
from tests.slack_data import NOW, add_call, loaded


@pytest.mark.parametrize(("deadline", "now", "days"), [
    (datetime(2026, 8, 25, 15, 0, tzinfo=UTC), datetime(2026, 8, 24, 16, 0, tzinfo=UTC), 1),  # at 18:00
    (datetime(2026, 8, 24, 21, 59, tzinfo=UTC), datetime(2026, 8, 24, 6, 0, tzinfo=UTC), 0),  # 23:59 today
    (datetime(2026, 8, 24, 22, 0, tzinfo=UTC), datetime(2026, 8, 24, 21, 0, tzinfo=UTC), 1),  # midnight
    (datetime(2027, 3, 29, 15, 0, tzinfo=UTC), datetime(2027, 3, 27, 16, 0, tzinfo=UTC), 2),  # spring night
    (datetime(2026, 10, 26, 16, 0, tzinfo=UTC), datetime(2026, 10, 24, 15, 30, tzinfo=UTC), 2),  # autumn
])
def test_days_left_are_brussels_calendar_days(deadline: datetime, now: datetime, days: int) -> None:
    assert days_until(deadline, now) == days


def test_the_digest_says_one_day_left_at_18_00_for_tomorrow_17_00(engine) -> None:
    add_call(engine, 1, title="Offshore wind call", score=0.7, days=1)  # closes 25 Aug 17:00 Brussels
    at = NOW + timedelta(hours=10)  # 24 Aug 18:00 Brussels
    (outcome, *_) = send_digests(engine, loaded(), at, channel="#eu-fundraising", dry_run=True)
    text = json.dumps(outcome.message.blocks)
    assert "closes 25 Aug 2026 17:00 (1 day left)" in text, text

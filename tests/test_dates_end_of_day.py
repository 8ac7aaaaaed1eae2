"""A deadline written at 24:00 (the end of its day, as Nordic and EU funders write it, "kl. 24.00") is
midnight after that day in Brussels time, also across the daylight-saving nights; it was read as a
date without a time (17:00 assumed, seven hours early)."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.core.clock import UTC
from watcher.dates import call_dates, find_dates
from watcher.euro_access_parse import parse_cet, unreadable_date


@pytest.mark.parametrize(("text", "at"), [
    ("Deadline: 30 November 2026 24:00", datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
    ("Frist: 30.11.2026 kl. 24.00", datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
    ("Einsendeschluss: 30.11.2026, 24 Uhr", datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
    ("Deadline: 24 October 2026 at 24:00", datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),  # summer time
    ("Deadline: 25 October 2026 at 24:00", datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),  # winter time
    ("Deadline: 27 March 2027 at 24:00", datetime(2027, 3, 27, 23, 0, tzinfo=UTC)),
    ("Deadline: 31 December 2026 24:00", datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),  # into the next year
])
def test_a_deadline_at_2400_is_midnight_after_its_day(text: str, at: datetime) -> None:
    (found,) = find_dates(text)
    assert (found.at, found.kind, found.time_assumed) == (at, "deadline", False)
    assert "23:59" not in found.text
    assert call_dates(text).deadlines[0].at == at


def test_a_deadline_at_0000_stays_the_start_of_its_day() -> None:
    (found,) = find_dates("Deadline: 26 October 2026 00:00")
    assert (found.at, found.time_assumed) == (datetime(2026, 10, 25, 23, 0, tzinfo=UTC), False)


@pytest.mark.parametrize(("text", "at"), [
    ("30.11.2026 24:00", datetime(2026, 11, 30, 23, 0, tzinfo=UTC)),
    ("24.10.2026 24:00", datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),  # summer time to the end
    ("31.12.2026 24:00", datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
])
def test_a_euro_access_deadline_at_2400_is_read(text: str, at: datetime) -> None:
    assert parse_cet(text) == (at, False)
    assert not unreadable_date(text)  # it was: "deadline '30.11.2026 24:00' is not a date"


def test_a_euro_access_time_past_2400_is_still_no_date() -> None:
    assert parse_cet("30.11.2026 24:30") is None
    assert unreadable_date("30.11.2026 24:30")

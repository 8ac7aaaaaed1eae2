"""pipeline.core.deadlines: a two-stage call's deadlines before, between and after its stages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from pipeline.core.deadlines import (
    call_deadlines,
    current_deadline,
    effective_status,
    last_deadline,
    next_deadline,
)

FIRST = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
SECOND = datetime(2027, 2, 3, 16, 0, tzinfo=UTC)


def call(**fields):
    base = {"deadlines": [{"at": "2027-02-03T17:00:00+01:00", "time_assumed": False},
                          {"at": "2026-09-01T17:00:00+02:00", "time_assumed": True}],
            "deadline": FIRST, "status": "open", "opening_date": None}
    return SimpleNamespace(**{**base, **fields})


def test_call_deadlines_sorted_utc_with_the_column_as_fallback() -> None:
    assert call_deadlines(call()) == [FIRST, SECOND]
    assert call_deadlines(call(deadlines=[])) == [FIRST]
    assert call_deadlines(call(deadlines=[{"time_assumed": True}], deadline=None)) == []


def test_next_current_and_last_deadline() -> None:
    before, between = FIRST - timedelta(days=1), FIRST + timedelta(seconds=1)
    after = SECOND + timedelta(days=1)
    assert [next_deadline(call(), t) for t in (before, between, after)] == [FIRST, SECOND, None]
    assert [current_deadline(call(), t) for t in (before, between, after)] == [FIRST, SECOND, SECOND]
    assert next_deadline(call(), FIRST) == FIRST  # a deadline at this very moment is still ahead
    assert last_deadline(call()) == SECOND
    empty = call(deadlines=[], deadline=None)
    assert next_deadline(empty, before) is None and current_deadline(empty, before) is None
    assert last_deadline(empty) is None


def test_effective_status() -> None:
    assert effective_status(call(), SECOND + timedelta(days=1)) == "closed"
    assert effective_status(call(), FIRST + timedelta(days=1)) == "open"  # the second stage is ahead
    assert effective_status(call(status="forthcoming", opening_date=FIRST), FIRST) == "open"
    assert effective_status(call(status="forthcoming", opening_date=SECOND), FIRST) == "forthcoming"
    assert effective_status(call(status="withdrawn"), SECOND + timedelta(days=1)) == "withdrawn"

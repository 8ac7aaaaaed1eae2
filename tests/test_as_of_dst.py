"""``--as-of`` (and ``FUNDRADAR_NOW``) given without an offset on the Brussels daylight-saving nights:
a time the spring night skips, or one the autumn night has twice, is a usage error that says which
offset to add; it was taken silently (02:30 that does not exist as 03:30, a repeated 02:30 as the first
of the two)."""

from __future__ import annotations

from datetime import datetime

import pytest
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.core.clock import UTC, parse_datetime
from pipeline.core.errors import ValidationError


def _run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_time_the_spring_night_skips_is_refused(tmp_path) -> None:
    result = _run("--db", f"sqlite:///{tmp_path / 'x.db'}", "--as-of", "2027-03-28T02:30", "calls", "list")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: --as-of '2027-03-28T02:30' does not exist in Brussels time (the "
        "clocks go from 02:00 to 03:00 that night); give a time outside 02:00-03:00, or its offset: "
        "2027-03-28T02:30+01:00")


def test_a_time_the_autumn_night_has_twice_is_refused(tmp_path) -> None:
    result = _run("--db", f"sqlite:///{tmp_path / 'x.db'}", "--as-of", "2026-10-25 02:30", "calls", "list")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: --as-of '2026-10-25 02:30' is twice in Brussels time (the clocks "
        "go back from 03:00 to 02:00 that night); give its offset: 2026-10-25T02:30+02:00 for the first, "
        "2026-10-25T02:30+01:00 for the second")


def test_the_same_times_with_an_offset_and_the_hours_around_them_are_read() -> None:
    assert parse_datetime("2026-10-25T02:30+01:00") == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert parse_datetime("2026-10-25T03:00") == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert parse_datetime("2027-03-28T03:00") == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert parse_datetime("2027-03-28") == datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="^FUNDRADAR_NOW '2027-03-28T02:00' does not exist"):
        parse_datetime("2027-03-28T02:00", what="FUNDRADAR_NOW")

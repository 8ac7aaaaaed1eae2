"""`nan` for a decimal option was refused with "Input should be less than or equal to 520", as if it
were a large number; it is now named as not a number, with the range to give."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args, message", [
    (["deadlines", "--weeks", "nan"],
     "Invalid value for '--weeks': nan is not a number; give one from 0 to 520"),
    (["calls", "list", "--min-score", "NaN"],
     "Invalid value for '--min-score': NaN is not a number; give one from 0 to 1"),
])
def test_nan_is_not_a_number(cli, engine, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == f"Error: {message}", result.stderr


def test_a_number_out_of_range_keeps_its_message(cli, engine) -> None:
    result = cli("deadlines", "--weeks", "521")
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--weeks': Input should be less than or equal to 520")

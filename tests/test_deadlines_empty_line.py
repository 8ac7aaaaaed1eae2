"""`deadlines --weeks 1` with nothing due read "Nothing due within 1 weeks."."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("weeks, line", [("1", "Nothing due within 1 week.\n"),
                                         ("0.5", "Nothing due within 0.5 weeks.\n"),
                                         ("12", "Nothing due within 12 weeks.\n")])
def test_nothing_due_reads_right(cli, engine, weeks: str, line: str) -> None:
    result = cli("deadlines", "--weeks", weeks)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", line)

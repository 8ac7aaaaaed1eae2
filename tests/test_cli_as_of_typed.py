"""`--as-of` as people type a day: the error named the option twice ("Invalid value for --as-of: --as-of
'15/3/2027' is not a date; …"); it now names it once and says what to write."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("typed", ["15/3/2027", "next friday", "2027-02-30"])
def test_a_date_in_another_form_is_named_once(cli, engine, typed: str) -> None:
    result = cli("--as-of", typed, "deadlines")
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == (
        f"Error: --as-of {typed!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[+01:00]"), result.stderr


def test_the_iso_forms_work(cli, engine) -> None:
    for typed in ("2027-03-15", "2027-03-15T09:00+01:00", "2027-03-15 09:00"):
        result = cli("--as-of", typed, "deadlines")
        assert (result.exit_code, result.stderr) == (0, "Nothing due within 8 weeks.\n"), typed

"""`applications consortium 1` with neither --add nor --remove printed "Application #1: 0 partners
besides us", exit 0, as if a change had been made; like `edit` without an option it is now a usage
error saying what to give."""

from __future__ import annotations

from tests.test_applications import seed


def test_nothing_to_change_is_a_usage_error(cli, engine) -> None:
    ids = seed(engine)
    at = ("--as-of", "2026-08-22T09:00+02:00")
    assert cli(*at, "applications", "add", "1", str(ids["bsr"]), "--partner", "1").exit_code == 0
    result = cli(*at, "applications", "consortium", "1")
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Error: nothing to change in application #1's consortium; give --add ID[:ROLE] or --remove ID "
               "(e.g. --add 4:partner)\n")
    result = cli(*at, "applications", "consortium", "1", "--add", "2")
    assert (result.exit_code, result.stdout) == (0, "Application #1: 2 partners besides us\n")

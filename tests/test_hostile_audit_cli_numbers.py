"""Numbers typed on the command line beyond what fundradar can use: each is refused in one line
naming the option and what to give; before, each failed with an OverflowError or ValueError traceback
(a LIMIT or id too large for SQLite, a horizon or --as-of past year 9999, a superscript "²" taken for a
digit, a sleep longer than C allows)."""

from __future__ import annotations

import pytest

BIG = "99999999999999999999"


@pytest.mark.parametrize("args, message", [
    (["calls", "list", "--top", BIG],
     f"Invalid value for '--top': {BIG} is too large; give a number up to 2,147,483,647"),
    (["calls", "list", "--within", BIG],
     f"Invalid value for '--within': {BIG} is too large; give a number up to 2,147,483,647"),
    (["calls", "list", "--within", "99999999"], "Error: --within must be 0 to 36,500 days, got 99,999,999"),
    (["serve", "--jitter", BIG],
     f"Invalid value for '--jitter': {BIG} is too large; give a number up to 2,147,483,647"),
    (["serve", "--reload-every", "1e300"],
     "Invalid value for '--reload-every': Input should be less than or equal to 86400"),
    (["ideas", "show", BIG], f"Error: idea id '{BIG}' is larger than any id; give it as 12 or #12"),
    (["partners", "show", BIG], f"Error: partner id '{BIG}' is larger than any id; give it as 12 or #12"),
    (["applications", "show", BIG],
     f"Error: application id '{BIG}' is larger than any id; give it as 12 or #12"),
    (["ideas", "show", "²"], "Error: idea id '²' is not a number; give it as 12 or #12"),
    (["ideas", "show", "0"], "Error: idea id '0' is not an id (ids start at 1); give it as 12 or #12"),
    (["partners", "show", "#0"],
     "Error: partner id '#0' is not an id (ids start at 1); give it as 12 or #12"),
    (["calls", "show", "²"], "Error: no call with id '²'; see `fundradar calls list`"),
    (["--as-of", "9999-12-31T23:59+00:00", "deadlines"],
     "--as-of '9999-12-31T23:59+00:00' is outside the years 1900 to 2999; give a date in them"),
    (["--as-of", "0001-01-01", "calls", "list"],
     "--as-of '0001-01-01' is outside the years 1900 to 2999; give a date in them"),
])
def test_numbers_out_of_range_are_one_line(cli, engine, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_columns_variable_of_no_digits_is_ignored(cli, engine) -> None:
    result = cli("calls", "list", env={"COLUMNS": "²"})
    assert (result.exit_code, result.stderr) == (0, "No calls match.\n"), result.stderr


def test_a_retry_after_of_no_ascii_digits_is_not_a_crash(server) -> None:
    """"²" passed str.isdigit() and float() refused it, out of the retrying transport."""
    from pipeline.core.errors import FetchError
    from tests.localserver import Reply
    from watcher.http import fetch_text, make_client

    server.route("GET", "/feed", lambda request: Reply(429, b"slow down", {"Retry-After": "\xb2"}))
    with make_client(retries=1, backoff=0.01) as client, pytest.raises(FetchError, match="HTTP 429"):
        fetch_text(client, server.url("/feed"), source="news")

"""The CLI frame: version, help, exit codes, --as-of."""

from __future__ import annotations

from importlib.metadata import version


def test_version(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"fundradar {version('fundradar')}\n"


def test_unknown_command_is_usage_error(cli) -> None:
    result = cli("frobnicate")
    assert result.exit_code == 2


def test_bad_as_of_is_usage_error(cli) -> None:
    result = cli("--as-of", "yesterday-ish", "calls", "list")
    assert result.exit_code == 2
    assert "--as-of 'yesterday-ish' is not a date" in result.stderr


def test_calls_list_empty_and_unknown_call(cli, engine) -> None:
    result = cli("calls", "list")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No calls match.\n")
    result = cli("calls", "list", "--json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")
    result = cli("calls", "show", "42")
    assert result.exit_code == 2
    assert result.stderr == "Error: no call with id '42'; see `fundradar calls list`\n"


def test_unknown_focus_area(cli) -> None:
    result = cli("calls", "list", "--focus", "space")
    assert result.exit_code == 2
    assert result.stderr == ("Error: unknown focus area 'space'; the strategy has offshore_energy, "
                             "green_maritime, food_bio, digital_industry\n")

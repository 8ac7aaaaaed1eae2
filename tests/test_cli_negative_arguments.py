"""A negative number where a command takes an id or a name: click read `ideas show -1` as an unknown
option ("No such option: -1"), which says nothing of ids; and a partner really named "-1" could not be
added without knowing click's `--`. Each now says both in one line."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args", [("ideas", "show", "-1"), ("applications", "move", "-3", "writing"),
                                  ("partners", "add", "-1", "--country", "DK", "--type", "sme")])
def test_a_negative_number_is_explained(cli, engine, args: tuple[str, ...]) -> None:
    result = cli(*args)
    command = "fundradar " + " ".join(args[:2])
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == (
        f"Error: {args[2]} is not an option; ids start at 1 (12 or #12), and a text that starts with '-' "
        f"goes last, after --: {command} [OPTIONS] -- {args[2]}"), result.stderr


def test_after_the_double_dash_it_is_a_name(cli, engine) -> None:
    result = cli("partners", "add", "--country", "DK", "--type", "sme", "--", "-1")
    assert (result.exit_code, result.stdout) == (0, "Added partner #1: -1 (DK, sme)\n")


def test_an_unknown_option_is_still_click_s_message(cli, engine) -> None:
    result = cli("ideas", "list", "--stauts", "ready")
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == (
        "Error: No such option: --stauts (Possible options: --status)")

"""`ideas list` with a filter: a focus area the strategy does not have is refused in one line (before,
a typo listed nothing, exit 0), and a filter that matches no idea says so instead of "No ideas yet; add
one", which told a team with ideas that it had none."""

from __future__ import annotations


def _run(cli, *args: str) -> tuple[int, str, str]:
    result = cli("--as-of", "2026-08-22T09:00+02:00", *args, env={"NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_an_unknown_focus_area_is_an_error(cli, engine) -> None:
    assert _run(cli, "ideas", "add", "Hydrogen ferries", "--focus", "green_maritime")[0] == 0
    assert _run(cli, "ideas", "list", "--focus", "green_maritme") == (
        2, "", "Error: unknown focus area 'green_maritme' (did you mean 'green_maritime'?); the strategy has "
               "offshore_energy, green_maritime, food_bio, digital_industry\n")


def test_a_filter_matching_nothing_is_not_an_empty_pipeline(cli, engine) -> None:
    assert _run(cli, "ideas", "add", "Hydrogen ferries", "--focus", "green_maritime")[0] == 0
    for args in (["--status", "parked"], ["--focus", "food_bio"]):
        assert _run(cli, "ideas", "list", *args) == (
            0, "", "No ideas match; `fundradar ideas list` shows them all.\n"), args
    assert _run(cli, "ideas", "list", "--focus", "green_maritime")[1].splitlines()[1].startswith(
        " 1  Hydrogen ferries")

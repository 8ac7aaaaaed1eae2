"""`--strategy` and `--config` given to the commands that read only the database: with a single
strategy file, `--strategy foodbio-dk ideas list` (a strategy the file does not have) and `--config
config/clusterz ideas list` (a folder mistyped) listed every idea unscoped, exit 0, where `calls list`
and `deadlines` refuse both; they are now refused the same way."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("command", [("ideas", "list"), ("pipeline", "report"), ("applications", "list"),
                                     ("ideas", "show", "1")])
def test_an_unknown_strategy_is_refused(cli, engine, command: tuple[str, ...]) -> None:
    assert cli("ideas", "add", "Hydrogen ferries").exit_code == 0
    result = cli("--strategy", "foodbio-dk", *command)
    assert (result.exit_code, result.stdout, result.stderr) == (
        2, "", "Error: no strategy named 'foodbio-dk' in config/strategy.example.yaml; the strategies are: "
               "greentech-dk (--strategy or FUNDRADAR_STRATEGY)\n")


def test_a_config_path_that_is_not_there_is_refused(cli, engine, tmp_path) -> None:
    assert cli("ideas", "add", "Hydrogen ferries").exit_code == 0
    missing = tmp_path / "clusterz"
    result = cli("--config", str(missing), "ideas", "list")
    assert result.exit_code == 2 and result.stdout == "" and result.stderr.startswith(
        f"Error: {missing}: file not found; check the path given with --config"), result.stderr


def test_the_strategy_of_the_file_is_fine(cli, engine) -> None:
    assert cli("ideas", "add", "Hydrogen ferries").exit_code == 0
    result = cli("--strategy", "greentech-dk", "ideas", "list")
    assert result.exit_code == 0 and "Hydrogen ferries" in result.stdout

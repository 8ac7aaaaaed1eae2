"""A focus area named on the command line as a Danish secretariat thinks of it (with æ, ø and å, or in
another case) is a usage error that names the area it is closest to, for every command taking one."""

from __future__ import annotations

from pathlib import Path

import pytest

STRATEGY = """name: velfaerd-dk
organisation: Velfærdsklyngen
focus_areas:
  velfaerd_aeldre:
    label: Sund aldring og velfærdsteknologi
    keywords: [velfærdsteknologi]
    synonyms: {velfærdsteknologi: [welfare technology]}
  sundhed:
    label: Sundhed
    keywords: [sundhed]
    synonyms: {sundhed: [health]}
"""


@pytest.mark.parametrize("args", [
    ("calls", "list", "--focus", "velfærd_ældre"),
    ("ideas", "add", "Robot", "--focus", "velfærd_ældre"),
    ("strategy", "preview", "--focus", "velfærd_ældre"),
    ("strategy", "suggest", "--focus", "velfærd_ældre"),
    ("strategy", "keywords", "add", "velfærd_ældre", "demens", "--yes"),
])
def test_an_area_typed_with_danish_letters_names_the_one_meant(cli, engine, tmp_path: Path, args) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(STRATEGY, encoding="utf-8")
    result = cli("--config", str(path), *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("Error: unknown focus area 'velfærd_ældre' (did you mean 'velfaerd_aeldre'?); "
                             "the strategy has velfaerd_aeldre, sundhed\n")
    assert path.read_text(encoding="utf-8") == STRATEGY


def test_an_area_far_from_every_name_lists_them_without_a_guess(cli, engine, tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(STRATEGY, encoding="utf-8")
    result = cli("--config", str(path), "calls", "list", "--focus", "Sundhed")
    assert (result.exit_code, result.stderr) == (
        2, "Error: unknown focus area 'Sundhed' (did you mean 'sundhed'?); the strategy has velfaerd_aeldre, "
           "sundhed\n")
    result = cli("--config", str(path), "calls", "list", "--focus", "energy")
    assert (result.exit_code, result.stderr) == (
        2, "Error: unknown focus area 'energy'; the strategy has velfaerd_aeldre, sundhed\n")

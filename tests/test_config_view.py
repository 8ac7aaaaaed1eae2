"""The selected strategy as a listing reads it (pipeline.config_view): the values of the loaded config,
kept for the same files and code only, and a listing that finds them imports no pydantic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.config_view import strategy_view, view_of
from pipeline.core.config import DEFAULT_STRATEGY, load_config
from pipeline.core.errors import ConfigError
from pipeline.strategy.edit import edit_keywords

ROOT = Path(__file__).resolve().parent.parent


def never() -> Any:
    raise AssertionError("the config was loaded although its view was kept")


def test_the_kept_view_is_the_loaded_configs(tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(DEFAULT_STRATEGY.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = view_of(load_config(path))
    assert strategy_view(str(path), None, lambda: load_config(path)) == loaded
    assert strategy_view(str(path), None, never) == loaded
    assert loaded.name == load_config(path).strategy.name
    assert loaded.focus_areas == tuple(load_config(path).strategy.focus_areas)


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    text = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    before = strategy_view(str(path), None, lambda: load_config(path))
    path.write_text(edit_keywords(text, "offshore_energy", add=["biorefinery"]), encoding="utf-8")
    after = strategy_view(str(path), None, lambda: load_config(path))
    assert after == view_of(load_config(path))
    assert after.analysed != before.analysed and after.rules_hash == before.rules_hash


def test_a_file_with_a_problem_gives_its_error(tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(DEFAULT_STRATEGY.read_text(encoding="utf-8").replace("focus_areas:", "focus_area:", 1),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as expected:
        load_config(path)
    with pytest.raises(ConfigError) as got:
        strategy_view(str(path), None, lambda: load_config(path))
    assert str(got.value) == str(expected.value)


PROBE = """
import sys
sys.argv = ["fundradar", *sys.argv[1:]]
from pipeline.cli.main import run
try:
    run()
except SystemExit:
    pass
print("pydantic" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize("command", [["calls", "list", "--top", "3"], ["deadlines"]])
def test_a_listing_with_a_kept_view_imports_no_pydantic(engine: Any, db_url: str, command: list[str]) -> None:
    args = ["--db", db_url, "--config", str(DEFAULT_STRATEGY), *command]
    runs = [subprocess.run([sys.executable, "-c", PROBE, *args], cwd=ROOT, capture_output=True, text=True,
                           timeout=120) for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout
    assert runs[1].stderr.splitlines()[-1] == "False"


def test_a_file_changed_while_loading_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "strategy.yaml"
    text = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")

    def edited_meanwhile() -> Any:
        path.write_text(edit_keywords(text, "offshore_energy", add=["biorefinery"]), encoding="utf-8")
        return load_config(path)

    strategy_view(str(path), None, edited_meanwhile)
    path.write_text(text, encoding="utf-8")
    assert strategy_view(str(path), None, lambda: load_config(path)) == view_of(load_config(path))

"""Keyword edits keep every byte of the YAML outside the changed lines."""

from __future__ import annotations

import difflib

import pytest

from pipeline.core.config import DEFAULT_STRATEGY, Strategy, parse_yaml_text, validate_yaml
from pipeline.core.errors import ValidationError
from pipeline.strategy.edit import edit_keywords

EXAMPLE = DEFAULT_STRATEGY.read_text(encoding="utf-8")


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
    return removed, added


def test_add_keyword_to_flow_list_keeps_everything_else() -> None:
    new = edit_keywords(EXAMPLE, "offshore_energy", add=["energy islands hub"])
    removed, added = changed_lines(EXAMPLE, new)
    assert removed == ["               electricity grid, havvind, brint, sektorkobling]"]
    assert added == ["               electricity grid, havvind, brint, sektorkobling, energy islands hub]"]
    strategy = validate_yaml(parse_yaml_text(new, "x"), Strategy, "x")
    assert strategy.focus_areas["offshore_energy"].keywords[-1] == "energy islands hub"
    # every comment of the original survives byte for byte
    assert [line for line in EXAMPLE.splitlines() if "#" in line] == \
           [line for line in new.splitlines() if "#" in line]


def test_remove_keyword_and_wrap_long_lines() -> None:
    new = edit_keywords(EXAMPLE, "food_bio", remove=["fermentation"],
                        add=["precision fermentation for dairy proteins", "single-cell protein"])
    strategy = validate_yaml(parse_yaml_text(new, "x"), Strategy, "x")
    keywords = strategy.focus_areas["food_bio"].keywords
    assert "fermentation" not in keywords and keywords[-2:] == [
        "precision fermentation for dairy proteins", "single-cell protein"]
    assert all(len(line) <= 100 for line in changed_lines(EXAMPLE, new)[1])
    before, after = EXAMPLE.split("  food_bio:")[0], new.split("  food_bio:")[0]
    assert before == after


def test_block_list_and_quoting() -> None:
    text = ("name: x\norganisation: Y\nfocus_areas:\n  energy:\n    label: Energy\n    keywords:\n"
            "      - wind   # the core\n      - solar\n    exclude: [coal]\n")
    new = edit_keywords(text, "energy", add=["power-to-X: e-fuels"])
    assert new == text.replace("    exclude:", '      - "power-to-X: e-fuels"\n    exclude:')
    again = edit_keywords(new, "energy", remove=["solar"])
    assert "solar" not in again and "# the core" in again


def test_errors() -> None:
    with pytest.raises(ValidationError, match="unknown focus area 'space'"):
        edit_keywords(EXAMPLE, "space", add=["rockets"])
    with pytest.raises(ValidationError, match="'tidal' is not a keyword of 'offshore_energy'"):
        edit_keywords(EXAMPLE, "offshore_energy", remove=["tidal"])
    assert edit_keywords(EXAMPLE, "offshore_energy", add=["Hydrogen"]) == EXAMPLE  # already there

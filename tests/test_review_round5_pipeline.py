"""Second reading of the round-5 changes to pipeline/ and classifiers/: the holes their own tests left."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.config import load_strategy
from pipeline.core.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    return [str(err.value), *err.value.more]


def test_an_unrelated_unknown_key_does_not_hide_a_missing_one(tmp_path: Path) -> None:
    # 'colour' is no slip of 'label': the missing label is a problem of its own, told in the same run
    path = _write(
        tmp_path,
        "name: x\norganisation: Y\nfocus_areas:\n  energy:\n    keywords: [wind]\n    colour: blue\n",
    )
    problems = _problems(path)
    assert any("focus_areas.energy.colour: unknown key 'colour'" in p for p in problems)
    assert any("focus_areas.energy.label: required key is missing" in p for p in problems)


def test_a_misspelt_key_hides_only_the_key_it_misses(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\norganisation: Y\nfocus_areas:\n  energy:\n    keywrds: [wind]\n")
    problems = _problems(path)
    assert any("unknown key 'keywrds'; did you mean 'keywords'?" in p for p in problems)
    assert not any("keywords: required key is missing" in p for p in problems)
    assert any("focus_areas.energy.label: required key is missing" in p for p in problems)

"""The README's strategy of one focus area (section "The strategy config") is what a secretariat
copies first: it must pass `config check` as it stands there."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def readme_strategy() -> str:
    section = README[README.index("## The strategy config"):]
    found = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert found, "the section has a yaml block"
    return found.group(1)


def test_the_readme_strategy_passes_config_check(tmp_path: Path, cli) -> None:
    path = tmp_path / "strategy.yaml"
    path.write_text(readme_strategy(), encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{path}: OK\n"
        "strategy byg-dk (BygCluster Danmark): 1 focus area, 1 source, 1 digest channel\n"
        "funding rules: 20 programmes\n")
    # no warning: the one programme of interest without a source is reported by the digest, not here
    assert [line for line in result.stderr.splitlines() if not line.startswith("Note:")] == []

"""Another cluster's strategy end to end: a Danish water-technology cluster and a robotics cluster
(tests/fixtures/strategies/other_cluster/), written as their secretariats would, with the slips a
secretariat makes, through the commands a secretariat and a fundraiser run."""

from __future__ import annotations

from pathlib import Path

import pytest

OTHER = Path(__file__).resolve().parent / "fixtures" / "strategies" / "other_cluster"
VAND = (OTHER / "vand.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "strategy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("written, meant", [("100.000", "100000"), ("2.500", "2500")])
def test_a_budget_with_a_danish_thousands_point_is_refused(tmp_path: Path, cli, written: str,
                                                          meant: str) -> None:
    """YAML reads 100.000 as the number 100: the rule would let a EUR 150 grant through silently."""
    text = VAND.replace("  budget_min: 100000", f"  budget_min: {written}")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}:{_line(text, '  budget_min:')}: rules.budget_min: {written} is read as the number "
        f"{float(written):g} (a point in a number is its decimal point); write {meant} for "
        f"EUR {int(meant):,}, without thousands separators\n")


def test_a_budget_with_decimals_as_people_write_them_still_loads(tmp_path: Path, cli) -> None:
    path = _write(tmp_path, VAND.replace("  budget_min: 100000", "  budget_min: 99999.5"))
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0, result.stderr

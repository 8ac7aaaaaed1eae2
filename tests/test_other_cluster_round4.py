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


@pytest.mark.parametrize("written, message", [
    # max_pages is a key of a source, not a rule: the hint comes from the section the key is in
    ("  max_partners: 5", "rules.max_partners: unknown key 'max_partners'; remove it or check the "
                          "spelling: the rules are min_success_rate, min_funding_rate, "
                          "min_weeks_before_deadline, allowed_action_types, budget_min, budget_max, "
                          "require_eligible_country"),
    ("  min_succes_rate: 0.1", "rules.min_succes_rate: unknown key 'min_succes_rate'; did you mean "
                               "'min_success_rate'?"),
])
def test_an_unknown_rule_is_told_the_rules_there_are(tmp_path: Path, cli, written: str,
                                                     message: str) -> None:
    text = VAND.replace("  budget_min: 100000", f"  budget_min: 100000\n{written}")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {path}:{_line(text, written)}: {message}\n"


def test_an_unknown_key_of_a_source_is_matched_against_the_keys_of_sources(tmp_path: Path, cli) -> None:
    old = "    programmes: [Interreg North Sea,"
    text = VAND.replace(old, "    max_page: 3\n" + old)
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert result.stderr == (f"Error: {path}:{_line(text, 'max_page:')}: sources.euro_access.max_page: "
                             "unknown key 'max_page'; did you mean 'max_pages'?\n")


@pytest.mark.parametrize("key, old, written, meant", [
    ("focus_areas.klimatilpasning.alert_threshold", "    alert_threshold: 0.3", "0,3", "0.3"),
    ("rules.min_funding_rate", "  min_funding_rate: 1.0", "0,75", "0.75"),
])
def test_a_decimal_comma_is_told_to_be_a_point(tmp_path: Path, cli, key: str, old: str, written: str,
                                               meant: str) -> None:
    text = VAND.replace(old, old.split(":")[0] + ": " + written)
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}:{_line(text, ': ' + written)}: {key}: input should be a valid number, unable to "
        f"parse string as a number, got '{written}'; YAML writes decimals with a point: write {meant}\n")

"""Other clusters' strategies, round five: a maritime cluster writing Danish and Norwegian keywords
with punctuation ('CO₂ reduction', 'AI/ML', 'R&D', 'cyber-security') and a creative-industries cluster
of twelve small areas (tests/fixtures/strategies/other_cluster_round5/, their README says how they were
written), through the commands a secretariat and a fundraiser run."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.text import analyse

ROUND5 = Path(__file__).resolve().parent / "fixtures" / "strategies" / "other_cluster_round5"
BLAA = (ROUND5 / "blaa.yaml").read_text(encoding="utf-8")
KULTUR = (ROUND5 / "kultur.yaml").read_text(encoding="utf-8")
RECORDING = "eu_ft/search_2026-06-23"


def _variant(tmp_path: Path, text: str, old: str, new: str, name: str = "strategy.yaml") -> Path:
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


@pytest.fixture
def blaa_synced(cli, samples: Path) -> tuple[str, ...]:
    """The maritime strategy on the 2026-06-23 recording, synced and scored."""
    base = ("--config", str(ROUND5 / "blaa.yaml"), "--as-of", "2026-06-23")
    result = cli(*base, "sync", "--replay", str(samples / RECORDING))
    assert result.exit_code == 0, result.stderr
    return base


def test_co2_written_with_a_subscript_two_is_the_same_word_as_co2() -> None:
    """Two recorded calls write 'Hydrogen and CO₂ networks', three others 'CO2': a keyword in either
    spelling missed the calls of the other."""
    assert analyse("CO₂ networks") == analyse("CO2 networks")
    assert analyse("100 m³ of H₂") == analyse("100 m3 of H2")


@pytest.mark.slow
def test_a_keyword_with_co2_finds_the_calls_that_write_co_subscript_two(tmp_path: Path, cli,
                                                                       blaa_synced: tuple[str, ...]) -> None:
    path = _variant(tmp_path, BLAA, "CO₂ reduction, CO2 emissions", "CO2 networks")
    check = cli("--config", str(path), "--as-of", "2026-06-23", "config", "check")
    assert check.exit_code == 0, check.stderr
    assert "'CO2 networks'" not in check.stderr


@pytest.mark.slow
def test_a_hyphenated_keyword_meets_the_word_written_closed(tmp_path: Path, cli, samples: Path) -> None:
    """The secretariat writes 'eco-design'; eleven recorded calls write 'ecodesign' (none 'eco-design'):
    the keyword matched none of them and config check said it matches no stored call."""
    path = _variant(tmp_path, KULTUR, "keywords: [fashion, textiles, design]",
                    "keywords: [fashion, textiles, design, eco-design]")
    base = ("--config", str(path), "--as-of", "2026-06-23")
    assert cli(*base, "sync", "--replay", str(samples / RECORDING)).exit_code == 0
    check = cli(*base, "config", "check")
    assert check.exit_code == 0, check.stderr
    assert "'eco-design'" not in check.stderr
    why = cli(*base, "calls", "why", "50144359TOPICSen")  # Enhancing ecodesign and circularity of …
    assert why.exit_code == 0, why.stderr
    line = next(line for line in why.stdout.splitlines() if line.strip().startswith("design "))
    assert "ecodesign" in line


@pytest.mark.slow
def test_a_hyphenated_exclude_term_excludes_the_word_written_closed(tmp_path: Path, cli,
                                                                   blaa_synced: tuple[str, ...]) -> None:
    """Twenty recorded calls say 'bioeconomy', none 'bio-economy': the exclude excluded none."""
    path = _variant(tmp_path, BLAA, "exclude: [fisheries control, aquaculture]", "exclude: [bio-economy]")
    base = ("--config", str(path), "--as-of", "2026-06-23")
    check = cli(*base, "config", "check")
    assert check.exit_code == 0, check.stderr
    assert "'bio-economy'" not in check.stderr
    assert cli(*base, "score").exit_code == 0
    why = cli(*base, "calls", "why", "50145892TOPICSen")  # Bioeconomy policy support hub …
    assert why.exit_code == 0, why.stderr
    line = next(line for line in why.stdout.splitlines() if line.strip().startswith("havbrug "))
    assert line.split()[1:] == ["0.000", "excluded:", "contains", "'bioeconomy'"]


@pytest.mark.parametrize("written, meant", [("max_budget", "budget_max"), ("min_budget", "budget_min"),
                                            ("Max-Budget", "budget_max")])
def test_a_rule_key_written_in_the_other_word_order_is_told_its_name(tmp_path: Path, cli, written: str,
                                                                     meant: str) -> None:
    """'max_budget' was told 'did you mean budget_min?': the letters of budget_min are closer."""
    path = _variant(tmp_path, KULTUR, "  budget_max: 5000000", f"  {written}: 5000000")
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {path}:{_line(path, written)}: rules.{written}: unknown key "
                             f"'{written}'; did you mean '{meant}'?\n")


@pytest.mark.parametrize("line, written", [("min_funding_rate: 0.4", "none"),
                                           ("min_weeks_before_deadline: 0", "ingen"),
                                           ("budget_max: 5000000", "unlimited")])
def test_a_rule_written_none_is_told_to_be_left_out(tmp_path: Path, cli, line: str, written: str) -> None:
    """The secretariat writes 'none' for a rule it does not want: the error said only that 'none' is no
    number, not what to write for no rule."""
    key = line.split(":")[0]
    path = _variant(tmp_path, KULTUR, f"  {line}", f"  {key}: {written}")
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {path}:{_line(path, key)}: rules.{key}: input should be a valid "
                             f"number, unable to parse string as a number, got '{written}'; for no such "
                             "rule leave the line out (or write null)\n")
    left_out = _variant(tmp_path, KULTUR, f"  {line}\n", "", name="left_out.yaml")
    assert cli("--config", str(left_out), "config", "check").exit_code == 0


def test_require_eligible_country_none_is_still_told_true_or_false(tmp_path: Path, cli) -> None:
    path = _variant(tmp_path, KULTUR, "  budget_max: 5000000", "  budget_max: 5000000\n"
                    "  require_eligible_country: none")
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2 and result.stderr.endswith("; write true or false\n"), result.stderr


@pytest.mark.parametrize("command", [
    ("calls", "list", "--focus", "Bæredygtig turisme"),
    ("ideas", "add", "Festivalturisme på Fanø", "--focus", "Bæredygtig turisme"),
    ("strategy", "suggest", "--focus", "Bæredygtig turisme"),
    ("strategy", "keywords", "add", "Bæredygtig turisme", "ecotourism", "--yes"),
])
def test_an_areas_label_given_for_its_name_is_told_the_name(tmp_path: Path, cli,
                                                            command: tuple[str, ...]) -> None:
    """`strategy report` lists the areas by label; a project manager typed the label into --focus and
    was told only the twelve names, none of which it resembles."""
    path = tmp_path / "kultur.yaml"
    path.write_text(KULTUR, encoding="utf-8")
    assert cli("db", "upgrade").exit_code == 0
    result = cli("--config", str(path), *command)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Error: unknown focus area 'Bæredygtig turisme' (that is the label of "
                                    "focus area 'turisme': give its name); the strategy has turisme, "), \
        result.stderr
    assert path.read_text(encoding="utf-8") == KULTUR


@pytest.mark.parametrize("verb, before, after", [
    ("add", "keywords: [sport, events]", "keywords: [sport, events, e-sport]"),
    ("remove", "keywords: [sport, events]", "keywords: [sport]"),
])
def test_a_keyword_edit_keeps_a_windows_files_line_ends_and_bom(tmp_path: Path, cli, verb: str, before: str,
                                                                after: str) -> None:
    """The secretariat saves the strategy in Notepad (CRLF, a BOM): `strategy keywords add` rewrote
    every line of it with LF, so the file's history showed all 83 lines changed for one keyword."""
    crlf = "\ufeff" + KULTUR.replace("\n", "\r\n")
    path = tmp_path / "kultur.yaml"
    path.write_bytes(crlf.encode("utf-8"))
    assert cli("db", "upgrade").exit_code == 0
    term = "e-sport" if verb == "add" else "events"
    result = cli("--config", str(path), "strategy", "keywords", verb, "sport_event", term, "--yes")
    assert result.exit_code == 0, result.stderr
    assert path.read_bytes() == crlf.replace(before, after, 1).encode("utf-8")


def test_a_digests_focus_area_written_as_its_label_is_told_the_name(tmp_path: Path, cli) -> None:
    path = _variant(tmp_path, KULTUR, "      top: 12",
                    "      top: 12\n      focus_areas: [Bæredygtig turisme]")
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(
        f"Error: {path}:{_line(path, 'Bæredygtig turisme]')}: slack.digests[0].focus_areas[0]: unknown focus "
        "area 'Bæredygtig turisme'; that is the label of focus area 'turisme': write its name; the strategy "
        "has turisme, kulturarv, "), result.stderr


def test_config_check_names_every_mistake_of_the_file(tmp_path: Path, cli) -> None:
    """Three slips in one file: config check named the first and '(and 3 more problems)' (the
    misspelt keywords counted twice, as unknown and as missing), so the secretariat ran it three times
    to find them."""
    text = KULTUR.replace("  min_success_rate: 0.05", '  min_success_rate: "5 %"') \
        .replace("  min_funding_rate: 0.4", "  min_funding_rate: 0,4") \
        .replace("    keywords: [sport, events]", "    keyword: [sport, events]")
    path = tmp_path / "kultur.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    at = {needle: _line(path, needle) for needle in ("keyword:", "min_success", "min_funding")}
    assert result.stderr.splitlines() == [
        f"Error: {path}:{at['keyword:']}: focus_areas.sport_event.keyword: unknown key 'keyword'; did you "
        "mean 'keywords'? (and 2 more problems)",
        f"Error: {path}:{at['min_success']}: rules.min_success_rate: input should be a valid number, unable "
        "to parse string as a number, got '5 %'; rates are fractions: write 0.05 for 5 %",
        f"Error: {path}:{at['min_funding']}: rules.min_funding_rate: input should be a valid number, unable "
        "to parse string as a number, got '0,4'; YAML writes decimals with a point: write 0.4",
    ]

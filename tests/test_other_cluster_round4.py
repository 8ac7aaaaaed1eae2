"""Another cluster's strategy end to end: a Danish water-technology cluster and a robotics cluster
(tests/fixtures/strategies/other_cluster/), written as their secretariats would, with the slips a
secretariat makes, through the commands a secretariat and a fundraiser run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


# graded by reading the 2026-08-22 recording's calls against klimatilpasning's label and description
CLIMATE_GRADES = {"50136346TOPICSen": 2, "51106194TOPICSen": 2, "50129614TOPICSen": 1, "50135778TOPICSen": 2,
                  "50136273TOPICSen": 2, "50139229TOPICSen": 2, "50129079TOPICSen": 2, "50136248TOPICSen": 2,
                  "50135827TOPICSen": 2, "50135855TOPICSen": 2, "50136371TOPICSen": 1, "50139206TOPICSen": 1,
                  "50135802TOPICSen": 1, "50217503TOPICSen": 0, "50130771TOPICSen": 0}


def _judged(tmp_path: Path, grades: dict[str, Any]) -> Path:
    from ruamel.yaml import YAML

    areas = YAML(typ="safe").load(VAND)["focus_areas"]
    data = {"recording": "samples/eu_ft/search_2026-08-22", "as_of": "2026-08-22T12:00:00+00:00",
            "focus_areas": {a: areas[a] for a in ("klimatilpasning", "industrivand")}, "grades": grades}
    path = tmp_path / "judged_vand.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_an_area_given_no_grades_is_not_measured_as_if_it_ranked_nothing(
        tmp_path: Path, cli, samples: Path) -> None:
    """A secretariat starting its judged file writes 'industrivand: {}' for the area it has not graded
    yet: that area is not measured (as an area left out of grades is), not averaged in with P@10 0."""
    env = {"FUNDRADAR_SAMPLES": str(samples)}
    empty = cli("eval", "--judged", str(_judged(tmp_path, {"klimatilpasning": CLIMATE_GRADES,
                                                           "industrivand": {}})),
                "--json", "--feedback", "0", env=env)
    (tmp_path / "left_out").mkdir()
    left_out = cli("eval", "--judged", str(_judged(tmp_path / "left_out",
                                                   {"klimatilpasning": CLIMATE_GRADES})),
                   "--json", "--feedback", "0", env=env)
    assert (empty.exit_code, left_out.exit_code) == (0, 0)
    got, expected = json.loads(empty.stdout), json.loads(left_out.stdout)
    assert got["not_graded"] == expected["not_graded"] == ["industrivand"]
    assert got["means"] == expected["means"]
    assert list(got["per_area"]["matcher"]) == ["klimatilpasning"]


def test_a_judged_file_whose_every_area_has_no_grades_is_refused(tmp_path: Path, cli, samples: Path) -> None:
    path = _judged(tmp_path, {"klimatilpasning": {}, "industrivand": {}})
    result = cli("eval", "--judged", str(path), env={"FUNDRADAR_SAMPLES": str(samples)})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {path}:1: grades: no grades: nothing to measure; grade the calls of at "
                             "least one focus area\n")


@pytest.fixture
def installation(tmp_path: Path, cli) -> Path:
    """Both clusters in one config folder: robot.yaml is first by file name, so it is the default."""
    folder = tmp_path / "clusters"
    folder.mkdir()
    for name in ("vand.yaml", "robot.yaml"):
        (folder / name).write_text((OTHER / name).read_text(encoding="utf-8"), encoding="utf-8")
    assert cli("db", "upgrade").exit_code == 0
    return folder


OTHER_AREA = ("focus area 'vandforsyning' belongs to strategy 'vand-dk', not to the selected 'robot-dk'; "
              "select it with fundradar --strategy vand-dk ...")


@pytest.mark.parametrize("command", [
    ("calls", "list", "--focus", "vandforsyning"),
    ("calls", "mark", "1", "relevant", "--focus", "vandforsyning"),
    ("ideas", "add", "Lækagesporing med AI", "--focus", "vandforsyning"),
    ("ideas", "list", "--focus", "vandforsyning"),
    ("strategy", "preview", "--focus", "vandforsyning"),
    ("strategy", "suggest", "--focus", "vandforsyning"),
    ("strategy", "keywords", "add", "vandforsyning", "drikkevandsrør", "--yes"),
])
def test_a_focus_area_of_the_other_cluster_says_to_select_that_strategy(installation: Path, cli,
                                                                        command: tuple[str, ...]) -> None:
    """A fundraiser of the water cluster in a shared installation types its own area without
    --strategy: the first strategy by file name is selected, and the error says which one has it."""
    before = (installation / "vand.yaml").read_text(encoding="utf-8")
    result = cli("--config", str(installation), *command)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {OTHER_AREA}\n"
    assert (installation / "vand.yaml").read_text(encoding="utf-8") == before
    ok = cli("--config", str(installation), "--strategy", "vand-dk", "calls", "list", "--focus",
             "vandforsyning")
    assert ok.exit_code == 0, ok.stderr


def test_an_area_no_strategy_has_still_lists_the_selected_strategys(installation: Path, cli) -> None:
    result = cli("--config", str(installation), "calls", "list", "--focus", "robotik")
    assert result.exit_code == 2
    assert result.stderr == "Error: unknown focus area 'robotik'; the strategy has robotik_automation, exo\n"


@pytest.fixture
def robot_synced(cli, samples: Path) -> tuple[str, ...]:
    """The robotics strategy on the 2026-08-22 recording, synced and scored."""
    base = ("--config", str(OTHER / "robot.yaml"), "--as-of", "2026-08-22")
    result = cli(*base, "sync", "--replay", str(samples))
    assert result.exit_code == 0, result.stderr
    return base


@pytest.mark.slow
def test_an_area_no_call_comes_near_says_so_under_calls_list(cli, robot_synced: tuple[str, ...]) -> None:
    """exo's one keyword ('exoskeletons') is in no recorded call: its listing said only 'No calls
    match.', as if a filter had left nothing, where strategy preview says why."""
    result = cli(*robot_synced, "calls", "list", "--focus", "exo")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        "note: focus area exo: no stored call scores 0.05 or more (its keywords, label and description are "
        "far from every call; `fundradar config check` names the keywords no call has)\nNo calls match.\n")
    listed = cli(*robot_synced, "calls", "list", "--focus", "robotik_automation", "--top", "3")
    assert listed.exit_code == 0 and listed.stderr == ""
    filtered = cli(*robot_synced, "calls", "list", "--focus", "robotik_automation", "--programme", "LIFE")
    # the area has scores: a filter left nothing, which is no news
    assert filtered.stderr == "No calls match.\n"


def test_a_synonym_that_lists_itself_is_named(tmp_path: Path, cli) -> None:
    """'lækage: [lækage]' translates nothing: the keyword is as untranslated as without the line."""
    text = VAND.replace("      lækage: [leakage, water losses]", "      lækage: [lækage]")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    keyword_line = _line(text, "    keywords: [vandforsyning")
    assert warnings == [
        f"Warning: {path}:{_line(text, 'lækage: [lækage]')}: focus_areas.vandforsyning.synonyms.lækage: "
        "synonym 'lækage' lists itself ('lækage: [lækage]'), which translates nothing; list its English "
        "terms instead",
        f"Warning: {path}:{keyword_line}: focus_areas.vandforsyning.keywords[2]: keyword 'lækage' has no "
        "English synonym, so English calls cannot match it; add a synonym under synonyms:"]


def test_a_synonym_that_lists_itself_beside_english_terms_passes(tmp_path: Path, cli) -> None:
    """'lækage: [lækage, leakage]' translates to leakage: repeating the word itself is harmless, and
    'lists itself …, which translates nothing' was untrue of it."""
    text = VAND.replace("      lækage: [leakage, water losses]", "      lækage: [lækage, leakage]")
    result = cli("--config", str(_write(tmp_path, text)), "config", "check")
    assert result.exit_code == 0
    assert [line for line in result.stderr.splitlines() if line.startswith("Warning:")] == []


def test_a_key_left_out_of_its_area_is_an_indentation_slip_not_a_colon(tmp_path: Path, cli) -> None:
    """'label:' indented as the areas are makes 'keywords:' below it a key under a value: ruamel says
    'mapping values are not allowed here', which was read as a colon inside a value to quote."""
    text = VAND.replace("  industrivand:\n    label: Vand i industrien",
                        "  industrivand:\n  label: Vand i industrien")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    label = _line(text, "  label: Vand i industrien")
    assert result.stderr == (
        f"Error: {path}:{label + 1}: this line is indented deeper than line {label} above it "
        "('label: Vand i industrien'), which has a value and so cannot hold keys; indent both as the "
        "other keys of their section\n")


def test_a_colon_inside_a_value_still_says_to_quote_it(tmp_path: Path, cli) -> None:
    text = VAND.replace("    label: Vand i industrien", "    label: Vand: i industrien")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert result.stderr == (f"Error: {path}:{_line(text, 'Vand: i')}: a colon and a space inside a value; "
                             "put the whole value in double quotes\n")


@pytest.mark.slow
def test_strategy_report_shows_each_label_whole(cli, robot_synced: tuple[str, ...]) -> None:
    """Danish labels run long: cut at 23 characters, 'Robotteknologi og automatisering' and a
    'Robotteknologi og autonome systemer' beside it would both read 'Robotteknologi og auto…'."""
    result = cli(*robot_synced, "strategy", "report")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Focus area                        Calls   Budget  Exp. value  Pipeline"
    assert lines[1].startswith("Robotteknologi og automatisering  ")
    assert lines[2].split() == ["Exoskeletter", "0", "€0", "€0", "0"]
    assert {len(line) for line in lines} == {len(lines[0])}


@pytest.mark.parametrize("written, code", [("national grant", "NATIONAL"),
                                           ("Research and Innovation Action", "RIA")])
def test_a_type_of_action_written_in_words_is_told_its_code(tmp_path: Path, cli, written: str,
                                                          code: str) -> None:
    """config/sources/ stores 'type_of_action: national grant'; a secretariat copies the words into
    the rules, which take the code."""
    text = VAND.replace("INTERREG, OTHER]", f"INTERREG, OTHER, {written}]")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines()[0] == (
        f"Error: {path}:{_line(text, written)}: rules.allowed_action_types[8]: unknown type of action "
        f"{written!r}; its code is {code!r}; use codes from COFUND, PCP, ERC, MSCA, EIC, CSA, IA, RIA, "
        "INTERREG, IE, NATIONAL, OTHER")


def test_strategy_preview_of_a_proposed_file_compares_it_with_its_own_strategy(
        installation: Path, tmp_path: Path, cli) -> None:
    """The water cluster's secretariat previews its edited file in the shared installation: it was
    compared with the first strategy by file name (robot-dk), every robotics area 'not in the proposed
    file' and every water area new."""
    proposed = _write(tmp_path, VAND.replace("flood risk,", "flood risk, heatwaves,"), "vand.new.yaml")
    result = cli("--config", str(installation), "strategy", "preview", "--config", str(proposed))
    assert result.exit_code == 0, result.stderr
    assert "robotik_automation" not in result.stdout and "not in the proposed file" not in result.stdout
    assert [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(" ")] == [
        "vandforsyning", "spildevand", "klimatilpasning", "industrivand"]


@pytest.mark.slow
def test_rules_no_stored_call_can_pass_are_named_by_config_check(cli, robot_synced: tuple[str, ...],
                                                                tmp_path: Path) -> None:
    """A funding rate of 100 % with only innovation actions allowed (70 % in Horizon Europe): every
    call fails, and the digests would say so each week; config check says it first."""
    robot = (OTHER / "robot.yaml").read_text(encoding="utf-8")
    text = robot.replace("  min_funding_rate: 0.5\n  allowed_action_types: [RIA, IA]",
                         "  min_funding_rate: 1.0\n  allowed_action_types: [IA]")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "--as-of", "2026-08-22", "config", "check")
    assert result.exit_code == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if ": rules: " in line]
    assert warning.startswith(f"Warning: {path}:{_line(text, 'rules:')}: rules: no open or forthcoming "
                              "stored call passes these rules (")
    assert "action_type fails" in warning and "funding_rate fails" in warning
    assert warning.endswith("with a rule not known reach the digests); loosen the rule failing most calls "
                            "(`fundradar calls why ID` shows each call's rules)")
    fine = cli(*robot_synced, "config", "check")
    assert ": rules: " not in fine.stderr


def test_an_empty_entry_in_a_list_says_which_comma(tmp_path: Path, cli) -> None:
    text = VAND.replace("keywords: [vandforsyning, drikkevand,", "keywords: [vandforsyning, , drikkevand,")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {path}:{_line(text, 'vandforsyning, ,')}: an empty entry in a list (a "
                             "comma with nothing before it); remove the extra comma\n")


def test_yes_or_no_in_danish_is_told_to_write_true_or_false(tmp_path: Path, cli) -> None:
    text = VAND.replace("  budget_min: 100000", "  budget_min: 100000\n  require_eligible_country: ja")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}:{_line(text, 'require_eligible_country')}: rules.require_eligible_country: input "
        "should be a valid boolean, unable to interpret input, got 'ja'; write true or false\n")


@pytest.mark.slow
def test_an_area_added_since_the_last_scoring_is_not_called_far_from_every_call(
        cli, robot_synced: tuple[str, ...], tmp_path: Path) -> None:
    """An area the secretariat just added has no stored score because nothing scored it yet, not because
    every call is far from it: the listing said both that the scores are stale and that no call comes
    near its keywords, which many calls have."""
    text = (OTHER / "robot.yaml").read_text(encoding="utf-8").replace("focus_areas:\n", (
        "focus_areas:\n  ai_production:\n    label: AI in production\n"
        "    keywords: [artificial intelligence, robotics]\n"), 1)
    edited = _write(tmp_path, text, "robot.yaml")
    result = cli("--config", str(edited), "--as-of", "2026-08-22", "calls", "list", "--focus",
                 "ai_production")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        f"note: the stored scores of robot-dk ({edited}) were computed from other focus areas, rules or "
        "marks than the config has now; `fundradar score` stores new ones, `fundradar strategy preview "
        "--config FILE` compares a file without storing\nNo calls match.\n")


@pytest.mark.slow
def test_ideas_calls_of_an_area_no_call_comes_near_says_why(cli, robot_synced: tuple[str, ...]) -> None:
    assert cli(*robot_synced, "ideas", "add", "Exoskeleton pilot", "--focus", "exo").exit_code == 0
    result = cli(*robot_synced, "ideas", "calls", "1")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (
        "note: focus area exo: no stored call scores 0.05 or more (its keywords, label and description are "
        "far from every call; `fundradar config check` names the keywords no call has)\n"
        "No open call matches this idea.\n")


def test_an_alert_threshold_in_words_is_told_it_is_a_score(tmp_path: Path, cli) -> None:
    text = VAND.replace("    alert_threshold: 0.3", "    alert_threshold: høj")
    path = _write(tmp_path, text)
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: {path}:{_line(text, 'høj')}: focus_areas.klimatilpasning.alert_threshold: input should be a "
        "valid number, unable to parse string as a number, got 'høj'; a score from 0 to 1: write 0.3 to "
        "alert about calls scoring 0.3 or more (the default is 0.4)\n")

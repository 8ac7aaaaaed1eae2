"""What would break later is refused when the config is read (so by ``config check``, ``serve`` and
its hot reload alike): schedules APScheduler would refuse, YAML aliases, unbounded regexes, channel
names Slack refuses; messages stay one short line whatever the value."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.core.config import load_config
from pipeline.core.errors import ConfigError
from pipeline.reload import ConfigWatch

BASE = """name: t
organisation: T
focus_areas:
  a: {label: A, keywords: [x]}
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "strategy.yaml"
    path.write_text(BASE + body, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value).replace(str(path), "S")


@pytest.mark.parametrize(("schedule", "message"), [
    ("{cron: '0 25 * * *'}", "S:6: sources.s.schedule.cron: invalid cron hour field '25' (the last "
     "value (25) is higher than the maximum value (23)); e.g. '0 6 * * 1-5', got '0 25 * * *'"),
    ("{cron: '99 99 * * *'}", "S:6: sources.s.schedule.cron: invalid cron minute field '99' (the last "
     "value (99) is higher than the maximum value (59)); e.g. '0 6 * * 1-5', got '99 99 * * *'"),
    ("{cron: 'a b c d e'}", "S:6: sources.s.schedule.cron: invalid cron minute field 'a' "
     "(Unrecognized expression \"a\" for field \"minute\"); e.g. '0 6 * * 1-5', got 'a b c d e'"),
    ("{every: 99999999d}", "S:6: sources.s.schedule.every: every must be more than zero and at most "
     "a year ('366d'), got '99999999d'"),
    ("{every: 1h, jitter_seconds: 99999999999999999999}", "S:6: sources.s.schedule.jitter_seconds: "
     "input should be less than or equal to 86400, got 99999999999999999999"),
])
def test_schedules_apscheduler_refuses_are_config_errors(tmp_path: Path, schedule: str, message: str) -> None:
    path = write(tmp_path, f"sources:\n  s: {{type: feed, url: 'http://x', schedule: {schedule}}}\n")
    assert error_of(path) == message


def test_hot_reload_keeps_the_last_good_config_on_an_invalid_cron(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  s: {type: feed, url: 'http://x', schedule: {cron: '0 6 * * *'}}\n")
    watch = ConfigWatch(load_config(path))
    write(tmp_path, "sources:\n  s: {type: feed, url: 'http://x', schedule: {cron: '0 25 * * *'}}\n")
    assert watch.check() is None
    assert watch.config.strategy.sources["s"].schedule.cron == "0 6 * * *"
    assert watch.last_error is not None and "invalid cron hour field '25'" in watch.last_error


def test_channel_with_a_space_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "slack:\n  digests:\n    - channel: '#eu funding'\n")
    assert error_of(path) == (
        "S:7: slack.digests[0].channel: '#eu funding' is not a Slack channel; write a name such as "
        "'#eu-funding' (lowercase, no spaces) or a channel id such as 'C0123ABCD'")  # quoted once


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path = tmp_path / "strategy.yaml"
    path.write_text(BASE + "x:\n" + "".join(f"  {line}\n" for line in lines), encoding="utf-8")
    started = time.monotonic()
    assert error_of(path) == ("S:7: YAML alias *a is not supported; write the value out instead of "
                              "referring to an anchor")
    assert time.monotonic() - started < 2


def test_a_huge_value_is_quoted_short(tmp_path: Path) -> None:
    path = write(tmp_path, "home_country: [" + ", ".join(["DK"] * 100_000) + "]\n")
    assert error_of(path) == "S:5: home_country: input should be a valid string, got ['DK', 'DK', 'DK', " \
                             "'DK', ...]"


@pytest.mark.parametrize(("pattern", "risk"), [
    ("(a+)+$", "a repeated group that itself repeats, such as (a+)+"),
    ("^(HORIZON|HORIZON-CL5)*-", "a repeated alternation, such as (a|ab)*"),
    ("(x)\\\\1", "a back-reference"),
])
def test_funding_rule_regexes_are_bounded(tmp_path: Path, pattern: str, risk: str) -> None:
    rules = tmp_path / "funding_rules.yaml"
    rules.write_text(f'programmes:\n  p:\n    label: P\n    match: {{topic_id: "{pattern}"}}\n',
                     encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, ""), rules)
    assert str(caught.value).replace(str(rules), "R") == (
        f"R:4: programmes.p.match.topic_id: the pattern contains {risk}, which can make matching take "
        f"hours; use a plain prefix or character classes such as '^HORIZON-CL[0-9]-', "
        f"got {pattern.replace(chr(92) * 2, chr(92))!r}")


def test_funding_rule_regex_length_is_bounded(tmp_path: Path) -> None:
    rules = tmp_path / "funding_rules.yaml"
    rules.write_text('programmes:\n  p:\n    label: P\n    match: {topic_id: "' + "a" * 201 + '"}\n',
                     encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, ""), rules)
    assert "the pattern is 201 characters long, more than 200" in str(caught.value)


# --- config check: settings that load but silently do nothing -----------------------------------

EXAMPLE = (Path(__file__).resolve().parents[1] / "config" / "strategy.example.yaml").read_text(
    encoding="utf-8")


def check(cli, tmp_path: Path, *changes: tuple[str, str]):
    text = EXAMPLE
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    return result.exit_code, result.stdout, result.stderr.replace(str(path), "S")


@pytest.mark.parametrize(("change", "line"), [
    (("focus_areas: [offshore_energy, green_maritime]", "focus_areas: [offshore_energy, maritime]"),
     "Error: S:{line}: slack.digests[1].focus_areas[1]: unknown focus area 'maritime'; did you mean "
     "'green_maritime'?; the strategy has offshore_energy, green_maritime, food_bio, digital_industry"),
    (("allowed_action_types: [RIA,", "allowed_action_types: [RAI,"),
     "Error: S:{line}: rules.allowed_action_types[0]: unknown type of action 'RAI'; did you mean 'RIA'?; use "
     "codes from COFUND, PCP, ERC, MSCA, EIC, CSA, IA, RIA, INTERREG, IE, NATIONAL, OTHER"),
    # an empty list allowed nothing: every call with a type of action failed, and the check said OK
    (("allowed_action_types: [RIA, IA, CSA, INTERREG, IE, NATIONAL]", "allowed_action_types: []"),
     "Error: S:{line}: rules.allowed_action_types: an empty list allows no type of action, so every call "
     "with one fails; list the codes to allow, e.g. [RIA, IA, CSA], or remove the key to allow all"),
    (("programmes: [Interreg Baltic Sea Region", "programmes: [Interreg Baltik Sea Region"),
     "Error: S:{line}: sources.euro_access.programmes[0]: unknown programme 'Interreg Baltik Sea Region'; "
     "did you mean 'Interreg Baltic Sea Region'? (names must match euro-access.eu exactly)"),
])
def test_config_check_errors(cli, tmp_path: Path, change: tuple[str, str], line: str) -> None:
    changed = EXAMPLE.replace(*change, 1)
    # the error names the line of the changed text's last line (the example's line numbers move on edits)
    number = changed[:changed.index(change[1]) + len(change[1].rstrip("\n"))].count("\n") + 1
    note = (f"Note: no database at {tmp_path / 'fundradar.db'}: keywords and exclude terms not checked "
            "against stored calls; run fundradar sync, then check again\n")
    assert check(cli, tmp_path, change) == (2, "", line.replace("{line}", str(number)) + "\n" + note)


def test_config_check_warns_about_terms_no_stored_call_has(cli, engine, tmp_path: Path) -> None:
    from tests.test_applications import bsr_call, sync

    sync(engine, "euro_access", [bsr_call()])
    code, out, err = check(cli, tmp_path)
    assert code == 0 and out.splitlines()[0] == "S: OK".replace("S", str(tmp_path / "strategy.yaml"))
    warnings = err.splitlines()
    assert ("Warning: S:22: focus_areas.offshore_energy.keywords[0]: 'offshore wind' does not match the one "
            "stored call") in warnings
    assert all(w.startswith("Warning: S:") for w in warnings)
    assert not any("'hydrogen'" in w for w in warnings)  # in the stored call's text


RULES = (Path(__file__).resolve().parents[1] / "config" / "funding_rules.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "key"), [
    ("      IA: {min_partners: 3", "      RAI: {min_partners: 3", "consortium_by_action_type.RAI"),
    ("      EIC: {value: 0.7", "      EICC: {value: 0.7", "funding_rates.EICC"),
])
def test_config_check_refuses_a_funding_rules_code_no_call_has(cli, tmp_path: Path, old: str, new: str,
                                                               key: str) -> None:
    (tmp_path / "strategy.yaml").write_text(EXAMPLE, encoding="utf-8")
    assert old in RULES
    rules = RULES.replace(old, new, 1)
    (tmp_path / "funding_rules.yaml").write_text(rules, encoding="utf-8")
    number = rules[:rules.index(new)].count("\n") + 1
    code = key.rpartition(".")[2]
    result = cli("--config", str(tmp_path), "config", "check")
    allowed = "COFUND, PCP, ERC, MSCA, EIC, CSA, IA, RIA, INTERREG, IE, NATIONAL, OTHER"
    if key.startswith("funding_rates"):
        allowed += ", default"
    hint = "; did you mean 'EIC'?" if code == "EICC" else "; did you mean 'RIA'?"
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", (
        f"Error: {tmp_path / 'funding_rules.yaml'}:{number}: programmes.horizon_europe.{key}: unknown type "
        f"of action {code!r}{hint}; use codes from {allowed}\n"
        f"Note: no database at {tmp_path / 'fundradar.db'}: keywords and exclude terms not checked against "
        "stored calls; run fundradar sync, then check again\n"))

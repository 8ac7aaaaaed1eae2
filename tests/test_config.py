"""The strategy config: the example is valid; each kind of mistake gives one clear line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.config import DEFAULT_STRATEGY, load_config, load_strategy
from pipeline.core.errors import ConfigError

EXAMPLE = DEFAULT_STRATEGY.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid() -> None:
    loaded = load_config(DEFAULT_STRATEGY)
    assert loaded.strategy.name == "greentech-dk"
    assert "offshore_energy" in loaded.strategy.focus_areas
    assert loaded.strategy.focus_areas["offshore_energy"].synonyms["havvind"] == ["offshore wind"]
    hz = loaded.funding_rules.programmes["horizon_europe"]
    assert hz.success_rate is not None and hz.success_rate.value == 0.164
    assert hz.funding_rates["IA"].value == 0.7
    assert loaded.funding_rules.programmes["interreg_bsr"].funding_rates["default"].value == 0.8
    assert loaded.funding_rules.programmes["interreg_de_dk"].funding_rates["default"].value == 0.65
    for programme in loaded.funding_rules.programmes.values():  # every figure names its source
        for figure in programme.funding_rates.values():
            assert figure.source


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\norganisation: y\nfocus_areas:\n  a:\n    keywords: [one, two\n")
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    assert err.value.line is not None and err.value.line >= 5
    assert str(err.value).startswith(f"{path}:")
    assert "invalid YAML" in str(err.value)


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace("    keywords: [offshore wind", "    keywrds: [offshore wind", 1))
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "keywrds" in text)
    assert err.value.line == line
    assert "unknown key 'keywrds'; did you mean 'keywords'?" in str(err.value)


def test_wrong_type_says_what_is_expected(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace("min_funding_rate: 0.50", "min_funding_rate: half", 1))
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "min_funding_rate" in text)
    assert str(err.value) == (f"{path}:{line}: rules.min_funding_rate: input should be a valid number, "
                              "unable to parse string as a number, got 'half'")


def test_empty_focus_area(tmp_path: Path) -> None:
    text = "name: x\norganisation: Y\nfocus_areas:\n  energy:\n    label: Energy\n    keywords: []\n"
    with pytest.raises(ConfigError) as err:
        load_strategy(write(tmp_path, text))
    assert str(err.value).endswith(":6: focus_areas.energy.keywords: focus area needs at least one keyword")


def test_focus_area_with_nothing_under_it(tmp_path: Path) -> None:
    text = "name: x\norganisation: Y\nfocus_areas:\n  energy:\n"
    with pytest.raises(ConfigError) as err:
        load_strategy(write(tmp_path, text))
    assert ":4: focus_areas.energy: " in str(err.value)
    assert "got nothing (the value is empty)" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_strategy(tmp_path / "nope.yaml")
    assert str(err.value) == (f"{tmp_path / 'nope.yaml'}: file not found; check the path given with --config "
                              "or FUNDRADAR_CONFIG, or copy config/strategy.example.yaml there to start "
                              "from the example")


def test_a_proposed_file_that_is_not_there(cli, tmp_path: Path) -> None:
    """`strategy preview --config config/strategy.new.yaml` (the README's example) before the file was
    made said "pass --config PATH", which the user had just done."""
    result = cli("strategy", "preview", "--config", str(tmp_path / "strategy.new.yaml"))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {tmp_path / 'strategy.new.yaml'}: file not found; check the path "
                             "given with --config or FUNDRADAR_CONFIG, or copy config/strategy.example.yaml "
                             "there to start from the example\n")


def test_bad_schedule_and_source_type(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace('schedule: {every: 6h}', 'schedule: {every: often}', 1))
    with pytest.raises(ConfigError, match="every must be a number and a unit"):
        load_strategy(path)
    path = write(tmp_path, EXAMPLE.replace("type: feed", "type: rss", 1))
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    assert str(err.value) == (f"{path}:103: sources.interreg_bsr_news.type: unknown source type 'rss'; "
                              "did you mean 'feed'? expected one of eu_ft, euro_access, feed, html_list, "
                              "ical, page_watch")


def test_a_source_key_is_named_as_the_file_spells_it(tmp_path: Path) -> None:
    # pydantic's path runs through the source's type (sources.NAME.feed.KEY); the file has no such level
    path = write(tmp_path, EXAMPLE.replace("    type: feed\n", "    type: feed\n    bogus: 6h\n", 1))
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    assert str(err.value) == (f"{path}:104: sources.interreg_bsr_news.bogus: unknown key 'bogus'; remove it "
                              "or check the spelling")


def test_a_known_key_at_the_wrong_level_is_not_suggested_as_itself(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace("    type: feed\n", "    type: feed\n    every: 6h\n", 1))
    with pytest.raises(ConfigError) as err:
        load_strategy(path)
    assert str(err.value) == (f"{path}:104: sources.interreg_bsr_news.every: unknown key 'every'; it belongs "
                              "to another section or source type: check the indentation, or remove it here")


@pytest.mark.parametrize("change, message", [
    (("min_funding_rate: 0.50", "min_funding_rate: half"), "rules.min_funding_rate"),
    (("    keywords: [offshore wind", "    keywrds: [offshore wind"), "unknown key 'keywrds'"),
    (("name: greentech-dk", "name: [oops"), "invalid YAML"),
])
def test_config_check_cli_exit_2(tmp_path: Path, cli, change, message) -> None:
    path = write(tmp_path, EXAMPLE.replace(*change, 1))
    result = cli("--config", str(path), "config", "check")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}:") and message in lines[0]


def test_config_check_cli_ok(cli) -> None:
    result = cli("--config", str(DEFAULT_STRATEGY), "config", "check")
    assert result.exit_code == 0
    from pipeline.core.config_files import display_path

    assert result.stdout.splitlines()[0] == f"{display_path(DEFAULT_STRATEGY)}: OK"  # as its warnings name it


def test_a_digest_without_a_schedule_runs_mondays_at_eight() -> None:
    """The default is built without the cron check (APScheduler stays unimported): it is what a
    checked schedule of the same cron is."""
    from pipeline.core.config_strategy import DEFAULT_DIGEST_CRON, DigestChannel, Schedule

    default = DigestChannel(channel="#funding").schedule
    checked = Schedule(cron=DEFAULT_DIGEST_CRON)
    assert default == checked and default.model_dump() == checked.model_dump()
    assert default.model_fields_set == checked.model_fields_set == {"cron"}

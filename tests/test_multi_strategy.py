"""Several strategies in one installation (a config folder): shared sources, per-strategy scores,
--strategy selection, each strategy's digests and alerts in its own channels."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pipeline.core.config import DEFAULT_FUNDING_RULES, DEFAULT_STRATEGY, load_config
from pipeline.core.db import session_scope
from pipeline.core.errors import ConfigError, NotFoundError
from pipeline.core.models import Score, ScoringModel, SlackDelivery, Verdict
from tests.slack_data import NOW, TOKEN, add_call
from tests.slack_server import SlackServer

FOLDER = Path(__file__).resolve().parent / "fixtures" / "strategies"
CHANNELS = {"greentech-funding": "C0GREEN001", "foodbio-funding": "C0FOODB002"}


def copy_folder(tmp_path: Path) -> Path:
    target = tmp_path / "strategies"
    shutil.copytree(FOLDER, target)
    return target


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# --- loading -------------------------------------------------------------------------------------

def test_folder_holds_every_strategy_in_file_name_order_and_the_union_of_sources() -> None:
    loaded = load_config(FOLDER)
    assert loaded.names == ["foodbio-dk", "greentech-dk"]
    assert loaded.strategy.name == "foodbio-dk"  # default: the first by file name
    assert loaded.strategy_path == FOLDER / "foodbio.yaml"
    assert loaded.from_folder and loaded.config_path == FOLDER
    assert list(loaded.sources) == ["eu_ft", "interreg_bsr_news"]  # eu_ft declared in both, once here
    assert loaded.sources["eu_ft"] == loaded.strategies[1].sources["eu_ft"]
    green = loaded.select("greentech-dk")
    assert (green.strategy.name, green.strategy_path.name, green.names) == \
        ("greentech-dk", "greentech.yaml", loaded.names)
    only = loaded.only("greentech-dk")
    assert only.names == ["greentech-dk"] and list(only.sources) == ["eu_ft"]
    assert [c.strategy.name for c in loaded.each()] == loaded.names
    assert load_config(FOLDER, strategy="greentech-dk").strategy.name == "greentech-dk"


def test_a_single_file_is_one_strategy_as_before() -> None:
    loaded = load_config(DEFAULT_STRATEGY)
    assert loaded.strategies == (loaded.strategy,)
    assert loaded.sources == loaded.strategy.sources
    assert not loaded.from_folder and loaded.key_prefix(loaded.strategy) == ""
    assert loaded.config_path == loaded.strategy_path == DEFAULT_STRATEGY


def test_funding_rules_in_the_folder_are_the_rules_not_a_strategy(tmp_path: Path) -> None:
    folder = copy_folder(tmp_path)
    shutil.copy(DEFAULT_FUNDING_RULES, folder / "funding_rules.yaml")
    loaded = load_config(folder)
    assert loaded.names == ["foodbio-dk", "greentech-dk"]
    assert loaded.funding_rules_path == folder / "funding_rules.yaml"
    names = ("foodbio.yaml", "greentech.yaml", "funding_rules.yaml")
    assert loaded.files() == [folder / name for name in names]


def test_a_shared_source_declared_differently_names_both_files(tmp_path: Path) -> None:
    folder = copy_folder(tmp_path)
    green = folder / "greentech.yaml"
    green.write_text(green.read_text().replace('{cron: "0 5 * * *"}', '{cron: "0 6 * * *"}'))
    with pytest.raises(ConfigError) as err:
        load_config(folder)
    assert str(err.value) == (
        f"{green}:{line_of(green, '  eu_ft:')}: sources.eu_ft: source 'eu_ft' is declared differently in "
        f"{folder / 'foodbio.yaml'} (schedule.cron differs); a source shared by several strategies must be "
        "declared the same in each file (with what each needs), or, if one reads something else, give it "
        "another name: under two names the calls both read are stored and listed twice")


def test_two_files_with_one_name_is_an_error_naming_both(tmp_path: Path) -> None:
    folder = copy_folder(tmp_path)
    shutil.copy(folder / "greentech.yaml", folder / "greentech_copy.yml")
    with pytest.raises(ConfigError) as err:
        load_config(folder)
    copy = folder / "greentech_copy.yml"
    assert str(err.value) == (f"{copy}:{line_of(copy, 'name:')}: name: strategy name 'greentech-dk' is also "
                              f"used by {folder / 'greentech.yaml'}; give each strategy file its own name")


def test_an_empty_folder_and_an_unknown_strategy(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no strategy files"):
        load_config(tmp_path)
    with pytest.raises(NotFoundError) as err:
        load_config(FOLDER).select("nope")
    assert str(err.value).endswith("the strategies are: foodbio-dk, greentech-dk (--strategy or "
                                   "FUNDRADAR_STRATEGY)")


def test_config_check_and_sources_list_cover_every_strategy(cli) -> None:
    from pipeline.core.config_files import display_path

    result = cli("--config", str(FOLDER), "config", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{display_path(FOLDER / 'foodbio.yaml')}: OK\n"
        "strategy foodbio-dk (Food & Bio Cluster Denmark): 2 focus areas, 2 sources, 1 digest channel\n"
        f"{display_path(FOLDER / 'greentech.yaml')}: OK\n"
        "strategy greentech-dk (GreenTech Cluster Denmark): 2 focus areas, 1 source, 1 digest channel\n"
        "2 strategies, 2 sources in all (1 shared)\n"
        "funding rules: 20 programmes\n")
    result = cli("--config", str(FOLDER), "sources", "list", "--json")
    assert [(s["name"], s["type"]) for s in json.loads(result.stdout)] == [("eu_ft", "eu_ft"),
                                                                           ("interreg_bsr_news", "feed")]


def test_cli_unknown_strategy_is_a_one_line_usage_error(cli) -> None:
    result = cli("--config", str(FOLDER), "--strategy", "nope", "calls", "list")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: no strategy named 'nope' in ")
    assert result.stderr.endswith("the strategies are: foodbio-dk, greentech-dk (--strategy or "
                                  "FUNDRADAR_STRATEGY)\n")


# --- sync and scoring ----------------------------------------------------------------------------

RECORDED = "2026-08-22T10:00:00+00:00"  # the day of the recording synced below


@pytest.fixture
def synced(cli, samples: Path, engine):
    """The 2026-08-22 recording synced once for both strategies (the shared eu_ft source)."""
    result = cli("--config", str(FOLDER), "--as-of", RECORDED, "sync", "--replay",
                 str(samples / "eu_ft" / "search_2026-08-22"), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sync_fetches_shared_sources_once_and_scores_every_strategy(cli, synced, engine) -> None:
    assert [(row["source"], row["new"]) for row in synced] == [("eu_ft", 540)]
    with Session(engine) as session:
        areas = {(s.strategy, s.focus_area) for s in session.exec(select(Score))}
        models = sorted(m.strategy for m in session.exec(select(ScoringModel)))
        verdicts = session.exec(select(Verdict)).all()
    assert areas == {("foodbio-dk", "food_bio"), ("foodbio-dk", "soil_water"),
                     ("greentech-dk", "offshore_energy"), ("greentech-dk", "green_maritime")}
    assert models == ["foodbio-dk", "greentech-dk"]
    assert {v.strategy for v in verdicts} == {"foodbio-dk", "greentech-dk"} and len(verdicts) == 2 * 540
    # each strategy's own rules: foodbio allows RIA/IA/CSA only, greentech any action type
    assert any(not v.passed and any(o["rule"] == "action_type" and o["passed"] is False for o in v.outcomes)
               for v in verdicts if v.strategy == "foodbio-dk")
    assert not any(o["rule"] == "action_type" and o["passed"] is False
                   for v in verdicts if v.strategy == "greentech-dk" for o in v.outcomes)

    result = cli("--config", str(FOLDER), "score", "--all", "--json")
    assert result.exit_code == 0, result.output
    assert [(r["strategy"], r["scored_calls"], r["refitted"]) for r in json.loads(result.stdout)] == [
        ("foodbio-dk", 540, True), ("greentech-dk", 540, True)]
    result = cli("--config", str(FOLDER), "--strategy", "greentech-dk", "score")
    assert result.stdout == ("Scored 0 of 540 calls against 2 focus areas of greentech-dk (up to date); "
                             "rules checked for 0 calls (the other verdicts still hold).\n")


def test_strategy_option_selects_the_strategy_of_calls_list(cli, synced) -> None:
    base = ("--config", str(FOLDER), "--as-of", RECORDED)  # the recording's calls are open on its day
    green = cli(*base, "--strategy", "greentech-dk", "calls", "list", "--focus", "offshore_energy",
                "--top", "3", "--json")
    assert green.exit_code == 0, green.output
    rows = json.loads(green.stdout)
    assert len(rows) == 3 and rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"] > 0
    # without --strategy the first (foodbio-dk) is used, which has no such focus area: the one that has
    default = cli(*base, "calls", "list", "--focus", "offshore_energy")
    assert (default.exit_code, default.stderr) == (
        2, "Error: focus area 'offshore_energy' belongs to strategy 'greentech-dk', not to the selected "
           "'foodbio-dk'; select it with fundradar --strategy greentech-dk ...\n")
    food = cli(*base, "calls", "list", "--focus", "food_bio", "--top", "3", "--json",
               env={"FUNDRADAR_STRATEGY": "foodbio-dk"})
    assert food.exit_code == 0 and {r["id"] for r in json.loads(food.stdout)}.isdisjoint(
        {r["id"] for r in rows})


# --- Slack: each strategy's channels -------------------------------------------------------------

@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN, channels=dict(CHANNELS)) as server:
        yield server


def add_scored_call(engine, n: int, strategy: str, area: str, title: str, score: float = 0.6, **kw):
    """A call scored for greentech-dk by tests.slack_data.add_call, then re-labelled or extended."""
    call_id = add_call(engine, n, title=title, score=score, area="offshore_energy", **kw)
    with session_scope(engine) as session:
        for row in session.exec(select(Score).where(Score.call_id == call_id)):
            row.strategy, row.focus_area = strategy, area
            session.add(row)
        for row in session.exec(select(Verdict).where(Verdict.call_id == call_id)):
            row.strategy = strategy
            session.add(row)
    return call_id


def also_score(engine, call_id: int, strategy: str, area: str, score: float) -> None:
    with session_scope(engine) as session:
        session.add(Score(call_id=call_id, strategy=strategy, focus_area=area, score=score,
                          explanation=[{"term": "food", "weight": 0.3}], computed_at=NOW))
        session.add(Verdict(call_id=call_id, strategy=strategy, passed=True, outcomes=[], computed_at=NOW))


def test_each_strategy_digests_to_its_own_channels_with_its_own_bot(cli, engine, slack) -> None:
    add_scored_call(engine, 1, "greentech-dk", "offshore_energy", "Floating offshore wind farms")
    add_scored_call(engine, 2, "foodbio-dk", "food_bio", "Precision fermentation for food")
    args = ("--config", str(FOLDER), "--as-of", NOW.isoformat())
    env = {"SLACK_BOT_TOKEN": TOKEN, "FOODBIO_SLACK_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    result = cli(*args, "digest", "--json", env=env)
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)
    assert [(o["key"], o["status"]) for o in outcomes] == [  # foodbio's period began Tuesday 18th 09:00
        ("foodbio-dk:digest:#foodbio-funding:20260818T0700:1/1", "sent"),
        ("greentech-dk:digest:#greentech-funding:20260824T0600:1/1", "sent")]
    (food,) = slack.posted_to("#foodbio-funding")
    (green,) = slack.posted_to("#greentech-funding")
    assert "Food &amp; Bio Cluster Denmark" in food.text
    assert "Precision fermentation" in json.dumps(food.blocks)
    assert "Floating offshore wind" not in json.dumps(food.blocks)
    assert "GreenTech Cluster Denmark" in green.text and "Floating offshore wind" in json.dumps(green.blocks)
    assert "Precision fermentation" not in json.dumps(green.blocks)
    # again: each channel's digest was sent, nothing twice
    assert cli(*args, "digest", env=env).exit_code == 0
    assert len(slack.messages) == 2

    # --strategy narrows it; without foodbio's own token its digest stays in the terminal
    later = ("--config", str(FOLDER), "--as-of", (NOW + timedelta(days=1)).isoformat())
    result = cli(*later, "digest", "--json", env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url})
    assert [(o["channel"], o["status"]) for o in json.loads(result.stdout)] == [  # the same weekly period
        ("#foodbio-funding", "terminal"), ("#greentech-funding", "already sent")]
    result = cli(*later, "--strategy", "foodbio-dk", "digest", "--channel", "#greentech-funding", env=env)
    assert (result.exit_code, result.stderr) == (
        2, "Error: no digest is configured for channel '#greentech-funding'; the strategy has "
           "#foodbio-funding (slack.digests)\n")
    with Session(engine) as session:
        keys = sorted(row.key for row in session.exec(select(SlackDelivery)) if row.kind == "digest")
    assert keys == ["foodbio-dk:digest:#foodbio-funding:20260818T0700:1/1",
                    "greentech-dk:digest:#greentech-funding:20260824T0600:1/1"]


def test_a_call_both_strategies_want_is_alerted_in_both_channels_once(cli, engine, slack) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "FOODBIO_SLACK_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    first = cli("--config", str(FOLDER), "--as-of", NOW.isoformat(), "alerts", env=env)
    assert first.exit_code == 0 and slack.messages == []  # the first run records the baseline
    later = NOW + timedelta(hours=1)
    call_id = add_scored_call(engine, 5, "greentech-dk", "offshore_energy", "Offshore aquaculture and food",
                              score=0.5, first_seen=later)
    also_score(engine, call_id, "foodbio-dk", "food_bio", 0.55)
    args = ("--config", str(FOLDER), "--as-of", (later + timedelta(minutes=5)).isoformat())
    result = cli(*args, "alerts", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert [(o["items"], o["channel"], o["status"]) for o in json.loads(result.stdout)] == [
        ([f"foodbio-dk:alert:new:{call_id}"], "#foodbio-funding", "sent"),
        ([f"greentech-dk:alert:new:{call_id}"], "#greentech-funding", "sent")]
    assert "Food, agriculture and bio-based solutions" in slack.posted_to("#foodbio-funding")[0].text
    assert "Offshore wind and energy systems" in slack.posted_to("#greentech-funding")[0].text
    assert json.loads(cli(*args, "alerts", "--json", env=env).stdout) == []
    assert len(slack.messages) == 2


def test_run_covers_every_strategy(cli, samples: Path) -> None:
    no_slack = {"SLACK_BOT_TOKEN": "", "SLACK_WEBHOOK_URL": "", "FOODBIO_SLACK_TOKEN": ""}
    result = cli("--config", str(FOLDER), "run", "--replay", str(samples / "eu_ft" / "search_2026-08-22"),
                 "--json", env=no_slack)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(s["strategy"], s["scored_calls"]) for s in data["scoring"]] == [("foodbio-dk", 540),
                                                                            ("greentech-dk", 540)]
    assert [(o["channel"], o["status"]) for o in data["digest"]] == [("#foodbio-funding", "terminal"),
                                                                     ("#greentech-funding", "terminal")]
    text = cli("--config", str(FOLDER), "--strategy", "greentech-dk", "run", "--replay",
               str(samples / "eu_ft" / "search_2026-08-22"), env=no_slack)
    assert text.exit_code == 0, text.output
    assert "Scored 0 of 540 calls (up to date); digest as of 2026-08-22 10:00 UTC." in text.stderr
    assert text.stdout.startswith("── #greentech-funding ") and "#foodbio-funding" not in text.stdout


def test_moving_a_strategy_into_a_folder_does_not_repeat_its_alerts(cli, engine, slack) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "FOODBIO_SLACK_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    single = ("--config", str(FOLDER / "greentech.yaml"))
    assert cli(*single, "--as-of", NOW.isoformat(), "alerts", env=env).exit_code == 0  # baseline
    later = NOW + timedelta(hours=1)
    call_id = add_scored_call(engine, 6, "greentech-dk", "offshore_energy", "Offshore wind for food parks",
                              score=0.5, first_seen=later)
    also_score(engine, call_id, "foodbio-dk", "food_bio", 0.55)
    sent = cli(*single, "--as-of", (later + timedelta(minutes=5)).isoformat(), "alerts", "--json", env=env)
    assert [o["items"] for o in json.loads(sent.stdout)] == [[f"alert:new:{call_id}"]]  # one strategy
    result = cli("--config", str(FOLDER), "--as-of", (later + timedelta(minutes=10)).isoformat(), "alerts",
                 "--json", env=env)
    assert [(o["items"], o["status"]) for o in json.loads(result.stdout)] == [
        ([f"foodbio-dk:alert:new:{call_id}"], "sent")]
    assert [len(slack.posted_to(c)) for c in ("#greentech-funding", "#foodbio-funding")] == [1, 1]


def test_two_names_for_what_one_source_reads_are_named(cli, tmp_path: Path) -> None:
    """A second cluster's file with its own name for the EU portal source (as the error about a source
    declared differently suggested) stored every call of the programmes both read twice, and each
    strategy listed those calls twice; config check said nothing."""
    folder = copy_folder(tmp_path)
    food = folder / "foodbio.yaml"
    food.write_text(food.read_text().replace("  eu_ft:\n", "  eu_ft_food:\n", 1))
    result = cli("--config", str(folder), "config", "check")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-2:] == ["2 strategies, 3 sources in all (0 shared)",
                                               "funding rules: 20 programmes"]
    green = folder / "greentech.yaml"
    assert [line for line in result.stderr.splitlines() if line.startswith("Warning")] == [
        f"Warning: {green}:{line_of(green, '  eu_ft:')}: sources.eu_ft: reads what source 'eu_ft_food' "
        f"({food}) reads too (Horizon Europe, LIFE): the calls both read are stored and listed twice; "
        "declare one source under one name, the same in both files"]

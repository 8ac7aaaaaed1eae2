"""Second reading of the round-5 changes to pipeline/ and classifiers/: the holes their own tests left."""

from __future__ import annotations

import json
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


def test_a_sync_that_stores_nothing_new_still_brings_the_calendar_file_up_to_date(
    engine, server, tmp_path
) -> None:
    """A call followed (or an application added) between two cron runs of `sync` whose sources changed
    nothing reached the subscribed calendar only with serve's `every`: the cron job never wrote it."""
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session, select

    from pipeline.core.db import session_scope
    from pipeline.core.models import Call
    from pipeline.follow import set_state
    from pipeline.sync import sync
    from tests.test_symptoms_round5 import _calendar_config

    now = datetime(2025, 11, 1, 10, 0, tzinfo=UTC)  # both calls of the feed ahead
    config = _calendar_config(tmp_path, server)
    first = sync(engine, config, now=lambda: now)
    assert first.runs[0].new
    calendar = tmp_path / "public" / "deadlines.ics"
    assert "call-" not in calendar.read_text(encoding="utf-8")  # nothing followed yet
    with Session(engine) as session:
        call = next(c for c in session.exec(select(Call)) if c.deadlines)
    with session_scope(engine) as session:
        set_state(session, config.strategy.name, call.id, "follow", now)
    again = sync(engine, config, now=lambda: now + timedelta(hours=1))
    assert [(r.outcome, r.new, r.changed, r.closed) for r in again.runs] == [("ok", 0, 0, 0)]
    assert f"call-{call.id}-deadline-1@fundradar" in calendar.read_text(encoding="utf-8")


def test_a_call_closing_today_at_an_assumed_hour_does_not_state_the_hour_as_given(engine) -> None:
    """A source that gives only the day is stored at 17:00 Brussels and flagged assumed; "closes today at
    17:00" told a fundraiser of an hour nobody published (the call may close at noon)."""
    from pipeline.notify.delivery import Pacer
    from pipeline.notify.jobs import send_digests
    from tests.slack_data import NOW, TOKEN, add_call, loaded
    from tests.slack_server import SlackServer
    from tests.test_slack_round5 import call_lines

    given = add_call(engine, 1, score=0.7, days=0)
    assumed = add_call(engine, 2, score=0.6, days=0, deadline_time_assumed=True)
    with SlackServer(token=TOKEN) as slack:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
        outcomes = send_digests(
            engine, loaded(), NOW, channel="#eu-fundraising", environ=env, pacer=Pacer(sleep=lambda s: None)
        )
        assert [o.status for o in outcomes] == ["sent"]
        (posted,) = slack.posted_to("#eu-fundraising")
    lines = call_lines(posted)
    assert lines[f"fr_call:{given}"] == "Horizon Europe · closes today at 17:00 · up to €3.0M"
    assert lines[f"fr_call:{assumed}"] == "Horizon Europe · closes today (17:00 assumed) · up to €3.0M"


def test_the_command_an_alert_storm_names_for_the_changes_lists_their_calls(engine, cli) -> None:
    """The changes of an alert storm are those of the calls our applications are for (and of the calls
    followed): the count past the first 20 named `calls list --followed`, which lists only the calls
    followed with `calls follow` and answered "No followed call matches" for every one of them."""
    import re
    from datetime import timedelta

    from tests.slack_data import CONFIG, NOW, TOKEN, add_application, add_call, move_deadline, run_alerts
    from tests.slack_server import SlackServer

    calls = [add_call(engine, n, score=0.2) for n in range(1, 23)]
    for call in calls:
        add_application(engine, call)
    with SlackServer(token=TOKEN) as slack:
        assert run_alerts(engine, slack, NOW) == []  # the baseline
        at = NOW + timedelta(hours=3)
        for call in calls:
            move_deadline(engine, call, NOW + timedelta(days=20, hours=9), at)
        run_alerts(engine, slack, at + timedelta(minutes=1))
        sections = [b["text"]["text"] for m in slack.messages for b in m.blocks if b["type"] == "section"]
    (more,) = [text for text in sections if text.startswith("_… and 2 more changes")]
    commands = re.findall(r"`fundradar ([^`]+)`", more)
    assert commands
    listed: set[int] = set()
    for command in commands:
        result = cli("--config", str(CONFIG), "--as-of", at.isoformat(), *command.split(), "--json")
        assert result.exit_code == 0, result.stderr
        rows = json.loads(result.stdout)
        listed |= {row["call_id"] if "call_id" in row else row["id"] for row in rows}
    assert set(calls) <= listed


def test_an_alert_storm_of_new_matches_shows_the_best_twenty(engine) -> None:
    """A source's first run brought 30 new calls above the threshold: the alert showed the 20 stored
    first (the lowest ids) and counted the rest, so the best-scoring calls were the ones left out."""
    from datetime import timedelta

    from tests.slack_data import NOW, TOKEN, add_call, run_alerts
    from tests.slack_server import SlackServer

    add_call(engine, 1, score=0.2)
    with SlackServer(token=TOKEN) as slack:
        assert run_alerts(engine, slack, NOW) == []  # the baseline
        at = NOW + timedelta(hours=3)
        scores = {
            add_call(engine, n, score=0.5 + n / 100, first_seen=at): 0.5 + n / 100 for n in range(2, 32)
        }
        run_alerts(engine, slack, at + timedelta(minutes=1))
        ids = [b.get("block_id") or "" for m in slack.messages for b in m.blocks]
    shown = [int(i.removeprefix("fr_call:")) for i in ids if i.startswith("fr_call:")]
    assert len(shown) == 20
    assert set(shown) == set(sorted(scores, key=scores.__getitem__, reverse=True)[:20])


def test_strategy_suggest_does_not_call_a_hyphenated_exclude_idle_that_excludes_calls_written_closed(
    engine,
) -> None:
    """Exclude 'bio-economy' excludes the calls that write 'bioeconomy' (scoring and config check read
    it closed too), yet `strategy suggest` listed it among the exclude terms that exclude no open call,
    so a secretariat following the advice removed the exclude that kept those calls out."""
    from sqlmodel import Session

    from pipeline.strategy.workbench import suggest
    from tests.slack_data import NOW, add_call, loaded

    add_call(engine, 1, title="Bioeconomy policy support hub", text="A hub for the bioeconomy of regions.")
    add_call(engine, 2, title="Offshore wind farms", text="Floating offshore wind.")
    strategy = loaded().strategy
    area = strategy.focus_areas["offshore_energy"].model_copy(update={"exclude": ["bio-economy", "fusion"]})
    strategy = strategy.model_copy(update={"focus_areas": {"offshore_energy": area}})
    with Session(engine) as session:
        (found,) = suggest(session, strategy, NOW, focus="offshore_energy")
    assert found.idle_excludes == ["fusion"]


def test_the_why_of_a_digest_or_alert_names_the_keywords_the_matcher_now_meets() -> None:
    """The matcher meets 'CO2 networks' in a call writing 'CO₂ networks' and 'eco-design' in one writing
    'ecodesign', but the digest's and the alert's Why, the area's keywords found in the call, named
    neither: only 'hydrogen', as though the call matched for it alone."""
    from pipeline.core.config import FocusArea
    from pipeline.notify.digest import matched_phrases

    area = FocusArea(label="Green ports", keywords=["hydrogen", "CO2 networks", "eco-design", "CO₂ storage"])
    text = "Hydrogen and CO₂ networks in ports\nEcodesign of terminals and CO2 storage sites."
    assert matched_phrases(area, text) == ["hydrogen", "CO2 networks", "eco-design", "CO₂ storage"]


def test_a_digest_of_a_strategy_whose_sources_are_all_switched_off_does_not_say_none_is_configured(
    engine, tmp_path
) -> None:
    """Every source paused with `enabled: false` (and none run yet): the digest told the secretariat that
    no source is configured and to add one under `sources:`, where theirs are, only switched off."""
    from pipeline.core.config import load_config
    from pipeline.notify.jobs import send_digests
    from tests.slack_data import CONFIG, NOW

    path = tmp_path / "strategy.yaml"
    path.write_text(
        CONFIG.read_text(encoding="utf-8") + "sources:\n  bsr_news:\n    type: feed\n"
        "    url: https://interreg-baltic.eu/feed/\n    enabled: false\n",
        encoding="utf-8",
    )
    (outcome,) = send_digests(engine, load_config(path), NOW, channel="#eu-fundraising", environ={})
    sections = [b["text"]["text"] for b in outcome.message.blocks if b["type"] == "section"]
    assert not any("No source is configured" in text for text in sections)
    assert any("bsr_news" in text and "enabled: false" in text for text in sections)
    assert "no source is configured" not in outcome.message.text


def test_the_digest_of_a_strategy_without_sources_names_no_command_that_shows_nothing(engine, cli) -> None:
    """The digest said ready-made sources are in config/sources/ and "`fundradar sources list` shows
    them", but that command lists the strategy's own sources: for this strategy "No sources configured."."""
    import re

    from pipeline.notify.jobs import send_digests
    from tests.slack_data import CONFIG, NOW, loaded

    (outcome,) = send_digests(engine, loaded(), NOW, channel="#eu-fundraising", environ={})
    (text,) = [b["text"]["text"] for b in outcome.message.blocks if b["type"] == "section"]
    assert "config/sources/" in text
    for command in re.findall(r"`fundradar ([^`]+)`", text):
        result = cli("--config", str(CONFIG), *command.split())
        assert result.exit_code == 0, result.stderr
        assert "No sources configured" not in result.stdout + result.stderr


@pytest.mark.parametrize("written", ["none", "ingen"])
def test_a_list_rule_written_none_is_told_to_be_left_out_not_put_in_brackets(tmp_path: Path, written) -> None:
    """'allowed_action_types: none' was told "write it in brackets: [none]", which allows only a type
    of action called 'none', so every call with one fails; a number rule written so is told to leave
    the line out, and so is this one now."""
    from pipeline.core.config import DEFAULT_STRATEGY

    text = DEFAULT_STRATEGY.read_text(encoding="utf-8")
    start = text.index("  allowed_action_types: ")
    end = text.index("\n", start)
    path = _write(tmp_path, text[:start] + f"  allowed_action_types: {written}" + text[end:])
    (problem,) = _problems(path)
    assert "rules.allowed_action_types:" in problem
    assert "[" not in problem.split("got", 1)[1]
    assert "for no such rule leave the line out (or write null)" in problem

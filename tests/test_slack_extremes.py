"""Slack on a phone with extreme input: many calls, very long or empty titles and URLs, through the local
Slack server and the real slack_sdk client; every posted block must pass slack_sdk's own model checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from pipeline.notify.actions import payload_problems
from tests.slack_data import NOW, STRATEGY, TOKEN, add_call, run_alerts
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _valid(blocks: list[dict[str, Any]]) -> None:
    """Each block as slack_sdk parses it, its length checks run (they raise on an over-long field)."""
    assert payload_problems(blocks) == []
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.to_dict()


def test_a_long_alert_batch_keeps_each_call_with_its_buttons(engine, slack) -> None:
    assert run_alerts(engine, slack, NOW) == []  # the first run marks what exists as seen
    later = NOW + timedelta(hours=1)
    calls = [add_call(engine, n, score=0.8, first_seen=later) for n in range(1, 41)]
    outcomes = run_alerts(engine, slack, later + timedelta(minutes=5))
    assert [o.status for o in outcomes] == ["sent"] * len(slack.messages)
    assert len(slack.messages) > 1
    shown: list[int] = []
    for posted in slack.messages:
        _valid(posted.blocks)
        ids = [b.get("block_id") or "" for b in posted.blocks]
        for call in calls:
            # the buttons sit in the same message as the call's line (a click redraws that line)
            if f"fr_actions:{STRATEGY}:{call}" in ids:
                assert f"fr_call:{call}" in ids
            if f"fr_call:{call}" in ids:
                assert f"fr_actions:{STRATEGY}:{call}" in ids
                assert ids.index(f"fr_actions:{STRATEGY}:{call}") > ids.index(f"fr_call:{call}")
                shown.append(call)
        # a continuation opens with its part line, then a call's own line, never its buttons
        assert posted.blocks[0]["type"] in ("header", "context")
        assert posted.blocks[1]["type"] != "actions"
    assert shown == calls[:20]  # the first 20 of a kind, the rest counted
    more = "_… and 20 more new matches; `fundradar calls list --passing` lists them._"
    assert any(b.get("text", {}).get("text") == more for posted in slack.messages for b in posted.blocks)


def _update(engine, call_id: int, **values: Any) -> None:
    from pipeline.core.db import session_scope
    from pipeline.core.models import Call

    with session_scope(engine) as session:
        call = session.get(Call, call_id)
        assert call is not None
        for name, value in values.items():
            setattr(call, name, value)
        session.add(call)


def _digest(engine, slack: SlackServer, channel: str = "#eu-fundraising") -> list[dict[str, Any]]:
    """The sections of one digest run's calls, as posted to the local Slack."""
    from pipeline.notify.delivery import Pacer
    from pipeline.notify.jobs import send_digests
    from tests.slack_data import loaded

    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    outcomes = send_digests(engine, loaded(), NOW, channel=channel, environ=env,
                            pacer=Pacer(sleep=lambda s: None))
    assert {o.status for o in outcomes} == {"sent"}
    for posted in slack.messages:
        _valid(posted.blocks)
    return [b for posted in slack.messages for b in posted.blocks
            if str(b.get("block_id", "")).startswith("fr_call:")]


def test_a_call_with_a_huge_url_keeps_its_title_deadline_and_why(engine, slack) -> None:
    # a tracking-laden link as some portals give them: 3,500 characters
    url = "https://ec.europa.eu/topic/1?" + "&".join(f"utm_{n}={'x' * 40}" for n in range(80))
    add_call(engine, 1, title="Floating offshore wind farms", url=url)
    (section,) = _digest(engine, slack)
    text = section["text"]["text"]
    assert text.startswith("*Floating offshore wind farms*\nHorizon Europe · closes 23 Oct 2026 17:00 "
                           "(60 days left)")
    assert text.endswith("Why: Offshore wind and energy systems: offshore wind")


@pytest.mark.parametrize("title", ["  \n\t ", "\u202e\u0007"])
def test_a_call_without_a_title_or_url_is_still_named(engine, slack, title) -> None:
    call = add_call(engine, 1, title=title, url="")
    add_call(engine, 2, title="Offshore wind call 2", score=0.4)
    first, _second = _digest(engine, slack)
    assert first["text"]["text"].startswith(f"*Untitled call #{call}*\nHorizon Europe · closes")
    (posted,) = slack.messages
    assert f"Top: Untitled call #{call}; Offshore wind call 2" in posted.text


def test_an_alert_for_an_untitled_call_names_it(engine, slack) -> None:
    assert run_alerts(engine, slack, NOW) == []
    later = NOW + timedelta(hours=1)
    call = add_call(engine, 1, title=" ", url="", score=0.8, first_seen=later)
    run_alerts(engine, slack, later + timedelta(minutes=5))
    (posted,) = slack.messages
    section = next(b for b in posted.blocks if b.get("block_id") == f"fr_call:{call}")
    assert f"\n*Untitled call #{call}*\n" in section["text"]["text"]
    assert posted.text.endswith(f"New call for Offshore wind and energy systems: Untitled call #{call}")


def test_a_huge_programme_name_leaves_the_deadline_and_why_in_the_line(engine, slack) -> None:
    call = add_call(engine, 1, title="Floating offshore wind farms")
    _update(engine, call, programme="Horizon Europe & <Partners> " * 120)
    (section,) = _digest(engine, slack)
    lines = section["text"]["text"].split("\n")
    assert lines[0] == "*<https://ec.europa.eu/topic/1|Floating offshore wind farms>*"
    assert lines[1].startswith("Horizon Europe &amp; &lt;Partners&gt; Horizon Europe")
    assert lines[1].endswith("… · closes 23 Oct 2026 17:00 (60 days left) · up to €3.0M")
    assert len(lines[1]) < 300
    assert lines[2] == "Why: Offshore wind and energy systems: offshore wind"


def test_a_new_call_alert_with_a_huge_programme_name_keeps_its_deadline(engine, slack) -> None:
    assert run_alerts(engine, slack, NOW) == []
    later = NOW + timedelta(hours=1)
    call = add_call(engine, 1, title="Floating offshore wind farms", score=0.8, first_seen=later)
    _update(engine, call, programme="Horizon Europe & <Partners> " * 120)
    run_alerts(engine, slack, later + timedelta(minutes=5))
    (posted,) = slack.messages
    _valid(posted.blocks)
    section = next(b for b in posted.blocks if b.get("block_id") == f"fr_call:{call}")
    facts = section["text"]["text"].split("\n")[2]
    assert facts.endswith("… · closes 23 Oct 2026 17:00 Brussels time (60 days left) · budget €12.0M")


def test_a_digest_for_twelve_focus_areas_keeps_its_counts_and_parts_in_the_notification() -> None:
    from pipeline.notify.digest import DigestData, TopCall, build_digest

    labels = [f"Focus area {n}: offshore wind, hydrogen & green shipping" for n in range(12)]
    top = [TopCall(call_id=n, title=f"Offshore wind call {n}", url=f"https://x.org/{n}",
                   programme="Horizon Europe", topic_id=None, deadline=NOW + timedelta(days=60),
                   days_left=60, deadline_time_assumed=False, budget=None, max_contribution=3e6,
                   funding_rate=None, success_rate=None, score=0.5, focus_area=labels[0], terms=[], new=True)
           for n in range(1, 31)]
    data = DigestData(channel="#x", organisation="GreenTech Cluster Denmark",
                      period_start=NOW - timedelta(days=7),
                      period_end=NOW, timezone="Europe/Copenhagen", matching=30, new=30, filtered_by_rules=0,
                      top=top, changes=[], applications=[], strategy=STRATEGY, focus=", ".join(labels))
    first, second = build_digest(data)
    heading = first.blocks[0]["text"]["text"]
    assert len(heading) == 150 and heading.endswith("…")
    # what the phone's notification shows first: the title as the header has it, then the counts
    assert first.text.startswith(f"{heading.replace('&', '&amp;')}: 30 matching open calls, 30 new")
    assert second.text == f"{heading.replace('&', '&amp;')} (part 2 of 2)"
    assert second.blocks[0]["elements"][0]["text"] == second.text
    for message in (first, second):
        _valid(message.blocks)


def test_a_strategy_name_too_long_for_slacks_button_values_is_a_config_error(tmp_path) -> None:
    from pipeline.core.config import load_config
    from pipeline.core.errors import FundradarError
    from pipeline.notify.actions import call_actions
    from tests.slack_data import CONFIG

    text = CONFIG.read_text(encoding="utf-8")
    longest, too_long = tmp_path / "longest.yaml", tmp_path / "too_long.yaml"
    longest.write_text(text.replace("name: greentech-dk", "name: " + "g" * 100), encoding="utf-8")
    too_long.write_text(text.replace("name: greentech-dk", "name: " + "g" * 101), encoding="utf-8")
    name = load_config(longest).strategy.name
    _valid([call_actions(name, 2**63 - 1).to_dict()])  # the largest call id under the longest name
    with pytest.raises(FundradarError) as raised:
        load_config(too_long)
    assert "\n" not in str(raised.value)
    assert "name: string should have at most 100 characters" in str(raised.value)

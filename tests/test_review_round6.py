"""Round 6's changes read together: cases one change did not think of, or two changes merged from
separate branches that meet in one message. Through the real client against the local Slack server
into a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pipeline.core.db import session_scope
from pipeline.follow import set_state
from pipeline.notify.delivery import Pacer
from tests.slack_data import NOW, TOKEN, add_call, move_deadline
from tests.slack_server import SlackServer
from tests.test_leftalone_round6 import _folder_of_two


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _sections(slack: SlackServer) -> list[str]:
    return [b["text"]["text"] for m in slack.messages for b in m.blocks if b["type"] == "section"]


# With a config folder of several strategies the alerts' hints name the strategy (`fundradar --strategy
# greentech-dk calls list --passing`), yet a followed call's "Deadline moved" alert still said
# `fundradar calls unfollow 12`, which unfollows it for the first strategy by file name (or says it is
# not followed there) and leaves this cluster's follow, and its reminders, in place.


def test_a_followed_calls_change_alert_in_a_folder_names_the_strategy_to_unfollow(
        engine: Any, slack: SlackServer, tmp_path: Any) -> None:
    from pipeline.notify.jobs import send_alerts

    config = _folder_of_two(tmp_path)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    pacer = Pacer(sleep=lambda s: None)
    call = add_call(engine, 1, score=0.2)
    with session_scope(engine) as session:
        set_state(session, "greentech-dk", call, "follow", NOW - timedelta(days=3), "Mette")
    assert send_alerts(engine, config, NOW, environ=env, pacer=pacer) == []  # the baseline
    move_deadline(engine, call, NOW + timedelta(days=20, hours=9), NOW + timedelta(hours=3))
    send_alerts(engine, config, NOW + timedelta(hours=4), environ=env, pacer=pacer)
    (moved,) = [t for t in _sections(slack) if "*Deadline moved* for a call we follow" in t]
    assert moved.endswith(f"Followed by Mette · `fundradar --strategy greentech-dk calls unfollow {call}`"), \
        moved

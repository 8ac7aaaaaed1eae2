"""Slack on a phone, read as its user reads it: the posted Block Kit of digests and alerts, and clicks
on their buttons, through the local Slack Web API and Socket Mode servers and the real slack_sdk
clients."""

from __future__ import annotations

import copy
from typing import Any

from pipeline.notify.actions import STATUS_MARK
from pipeline.notify.socket import SocketRunner
from tests import slack_clicks
from tests.slack_clicks import click, digest
from tests.slack_data import STRATEGY, add_call
from tests.slack_socket import SocketSlack

slack = slack_clicks.slack  # the local Slack with Socket Mode (fixture)
runner = slack_clicks.runner  # fundradar's Socket Mode connection to it (fixture)


def _block(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == block_id)


def test_two_clicks_on_the_same_message_before_it_was_redrawn_both_stay_shown(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    first = add_call(engine, 1, score=0.7)
    second = add_call(engine, 2, score=0.6)
    posted = digest(engine, slack)
    seen = copy.deepcopy(posted)  # the message as both phones show it, before either redraw arrives
    slack.socket.send(click(seen, "follow", first, user="U0METTE", username="mette"))
    slack.socket.send(click(seen, "relevant", second, user="U0JENS", username="jens",
                            action_ts="1787000100.000200"))
    assert runner.wait_handled(2)
    shown = slack.posted_to("#eu-fundraising")[0].blocks  # the message after both redraws
    assert _block(shown, f"fr_call:{first}")["text"]["text"].endswith(
        f"\n{STATUS_MARK}★ followed — <@U0METTE>")
    assert _block(shown, f"fr_call:{second}")["text"]["text"].endswith(
        f"\n{STATUS_MARK}✓ relevant — <@U0JENS>")
    buttons = _block(shown, f"fr_actions:{STRATEGY}:{first}")["elements"]
    assert f"fr:unfollow:{first}" in [e.get("action_id") for e in buttons]

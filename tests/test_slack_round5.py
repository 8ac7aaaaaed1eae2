"""Slack on a phone, round five: the digest of a strategy that watches nothing, scraped emoji codes, an
alert storm; through the local Slack Web API server and the real slack_sdk client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from tests.slack_data import NOW, TOKEN, add_call, loaded
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _digest(engine: Any, slack: SlackServer) -> Any:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    outcomes = send_digests(
        engine, loaded(), NOW, channel="#eu-fundraising", environ=env, pacer=Pacer(sleep=lambda s: None)
    )
    assert [o.status for o in outcomes] == ["sent"]
    (posted,) = slack.posted_to("#eu-fundraising")
    return posted


def test_a_digest_of_a_strategy_without_sources_says_nothing_is_watched(
    engine: Any, slack: SlackServer
) -> None:
    """The test strategy configures no source and no source has run: the digest said "No open call
    matches the strategy above the channel's minimum score" and its notification "0 matching open
    calls", as though calls had been looked for."""
    add_call(engine, 1, score=0.05)  # stored (by hand, an import), far below the minimum score
    posted = _digest(engine, slack)
    sections = [b["text"]["text"] for b in posted.blocks if b["type"] == "section"]
    assert sections == [
        "_No source is configured, so no call is watched: add one under `sources:` of the "
        "strategy (`config/sources/` has ready-made ones; `fundradar sources list` shows "
        "them)._"
    ]
    assert posted.text == (
        "Funding digest for GreenTech Cluster Denmark: no source is configured, so no call is watched."
    )
    assert not any("matches" in text for text in sections)

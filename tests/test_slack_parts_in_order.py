"""A digest of several messages whose second part Slack could not take this run: the parts after it
wait for it, so the channel reads them in order on the next run (it read 1/3, 3/3, then 2/3), and the
first part is never posted again. Through the real slack_sdk client and a local Slack server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from tests.slack_data import NOW, TOKEN, add_call, loaded
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _long_digest_config():
    config = loaded()
    digests = [config.strategy.slack.digests[0].model_copy(update={"top": 45})]
    slack_config = config.strategy.slack.model_copy(update={"digests": digests})
    return type(config)(config.strategy.model_copy(update={"slack": slack_config}), config.funding_rules,
                        config.strategy_path)


@pytest.mark.parametrize(("fault", "why"), [
    ("500", "Slack answered HTTP 500 for #eu-fundraising 3 times; it is sent on the next run"),
    ("drop", "no answer from Slack (RemoteDisconnected) for #eu-fundraising 3 times; it is sent on the next "
             "run"),
])
def test_the_parts_after_one_slack_could_not_take_wait_for_it(engine, slack, fault: str, why: str) -> None:
    for n in range(1, 46):
        add_call(engine, n, title="Long title " * 60, score=0.5, days=20 + n)
    config = _long_digest_config()
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    key = "digest:#eu-fundraising:20260824T0600:"
    slack.fail_next("chat.postMessage", "none")  # the first part goes through
    slack.fail_next("chat.postMessage", fault, times=3)
    first = send_digests(engine, config, NOW, channel="#eu-fundraising", environ=env,
                         pacer=Pacer(sleep=lambda s: None))
    assert [(o.key, o.status, o.error) for o in first] == [
        (f"{key}1/3", "sent", None), (f"{key}2/3", "failed", why),
        (f"{key}3/3", "deferred", "waits for part 2/3, which was not sent; they are sent in order on the "
                                  "next run")]
    assert len(slack.posted_to("#eu-fundraising")) == 1
    again = send_digests(engine, config, NOW + timedelta(minutes=30), channel="#eu-fundraising", environ=env,
                         pacer=Pacer(sleep=lambda s: None))
    assert [(o.key, o.status) for o in again] == [(f"{key}2/3", "sent"), (f"{key}3/3", "sent")]
    posted = slack.posted_to("#eu-fundraising")
    assert [m.raw["metadata"]["event_payload"]["key"] for m in posted] == [f"{key}{n}/3" for n in (1, 2, 3)]

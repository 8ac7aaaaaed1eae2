"""Slack faults met for real, through slack_sdk against the local Web API and Socket Mode: refusals
no retry fixes (bot and webhook), a rate limit in the middle of a digest, a connection dropped right
after a click's ack, a refused app-level token."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest

from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from tests import slack_clicks as clicks
from tests.slack_data import NOW as SLACK_NOW
from tests.slack_data import TOKEN, add_call, run_alerts
from tests.slack_server import SlackServer

slack = clicks.slack  # the local Slack with Socket Mode (fixture)
runner = clicks.runner  # fundradar's Socket Mode connection to it (fixture)


# Slack's refusals that no retry fixes read as the bare code ("Slack refused the message for
# #eu-fundraising: account_inactive"): a fundraiser's admin learnt neither what broke nor what to do.

@pytest.mark.parametrize("refusal, hint", [
    ("account_inactive", "the bot token belongs to a deactivated app, user or workspace; reinstall the "
                         "Slack app and set its new bot token"),
    ("token_revoked", "the bot token was revoked (the app uninstalled or its token rotated); reinstall the "
                      "Slack app and set its new bot token"),
    ("token_expired", "the bot token expired (token rotation is on for the app); set a fresh bot token"),
    ("is_archived", "the channel is archived; unarchive it, or name another channel in the strategy "
                    "config"),
    ("msg_too_long", "the message is longer than Slack takes; fundradar should have split it, report it "
                     "with the command that sent it"),
])
def test_a_slack_refusal_says_what_to_do(engine, refusal: str, hint: str) -> None:
    with SlackServer(token=TOKEN) as slack:
        assert run_alerts(engine, slack, SLACK_NOW) == []  # the baseline
        add_call(engine, 10, title="Hydrogen valleys", score=0.8,
                 first_seen=SLACK_NOW + timedelta(minutes=30))
        slack.fail_next("chat.postMessage", f"refuse:{refusal}")
        (outcome,) = run_alerts(engine, slack, SLACK_NOW + timedelta(hours=1))
    assert outcome.status == "failed"
    assert f"Slack refused the message for #eu-fundraising: {refusal}; {hint}" in (outcome.error or ""), \
        outcome.error


def test_a_rate_limit_in_the_middle_of_a_digest_resumes_there_on_the_next_run(engine) -> None:
    from tests.test_slack_parts_in_order import _long_digest_config

    for n in range(1, 46):
        add_call(engine, n, title="Long title " * 60, score=0.5, days=20 + n)
    config = _long_digest_config()
    key = "digest:#eu-fundraising:20260824T0600:"
    with SlackServer(token=TOKEN) as slack:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
        slack.fail_next("chat.postMessage", "none")  # the first part goes through
        slack.fail_next("chat.postMessage", "429", retry_after=3600)  # ratelimited, for an hour
        first = send_digests(engine, config, SLACK_NOW, channel="#eu-fundraising", environ=env,
                             pacer=Pacer(sleep=lambda s: None))
        assert [(o.key, o.status) for o in first] == [(f"{key}1/3", "sent"), (f"{key}2/3", "deferred"),
                                                       (f"{key}3/3", "deferred")]
        again = send_digests(engine, config, SLACK_NOW + timedelta(hours=1), channel="#eu-fundraising",
                             environ=env, pacer=Pacer(sleep=lambda s: None))
        assert [(o.key, o.status) for o in again] == [(f"{key}2/3", "sent"), (f"{key}3/3", "sent")]
        posted = slack.posted_to("#eu-fundraising")
    assert [m.raw["metadata"]["event_payload"]["key"] for m in posted] == [f"{key}{n}/3" for n in (1, 2, 3)]


def test_a_socket_dropped_while_a_click_is_handled_applies_it_once(engine, slack, runner) -> None:
    # the connection goes right after the ack; Slack, unsure the ack arrived, sends the envelope again
    # on the new connection
    call = add_call(engine, 1, score=0.7)
    posted = clicks.digest(engine, slack)
    envelope = slack.socket.send(clicks.click(posted, "relevant", call))
    slack.socket.wait_ack(envelope)
    slack.socket.drop()
    slack.socket.wait_connected(total=2)
    slack.socket.send(clicks.click(posted, "relevant", call), envelope_id=envelope, retry_attempt=1)
    assert runner.wait_handled(2)
    assert clicks.marks(engine) == [(call, None, "relevant", "mette")]
    assert len(slack.updates) == 1


@pytest.mark.parametrize("status, refusal, hint", [
    (404, "no_service", "the webhook was removed or its app disabled; make a new incoming webhook and set "
                        "SLACK_WEBHOOK_URL to it"),
    (403, "invalid_token", "the webhook URL is no longer valid; make a new incoming webhook and set "
                           "SLACK_WEBHOOK_URL to it"),
    (410, "channel_is_archived", "the webhook's channel is archived; unarchive it, or make a webhook for "
                                 "another channel"),
    (403, "action_prohibited", "a workspace admin restricted posting to the webhook's channel; ask them, or "
                               "make a webhook for another channel"),
])
def test_a_webhook_refusal_says_what_to_do(engine, status: int, refusal: str, hint: str) -> None:
    from pipeline.notify.delivery import WebhookSender, deliver, register
    from tests.test_slack_delivery import _message, _pacer

    with SlackServer(token=TOKEN) as slack:
        register(engine, [_message(1)], SLACK_NOW)
        slack.fail_next("webhook", f"refuse:{status}:{refusal}")
        (outcome,) = deliver(engine, WebhookSender(slack.webhook_url, timeout=5), ["alert"], SLACK_NOW,
                             pacer=_pacer())
    assert (outcome.status, outcome.error) == (
        "failed", f"the Slack webhook refused the message: HTTP {status} {refusal}; {hint}")


def test_a_refused_app_token_is_one_log_line_naming_it(engine, caplog: pytest.LogCaptureFixture) -> None:
    # serve logged slack_sdk's error as it is, over two lines ("The request to the Slack API failed. (url:
    # …)\nThe server responded with: {'ok': False, 'error': 'invalid_auth'}"), naming no token to check
    from pipeline.notify.interact import Interactions
    from pipeline.notify.socket import SocketRunner
    from tests.slack_data import loaded
    from tests.slack_socket import SocketSlack

    caplog.set_level(logging.INFO, logger="fundradar.slack")
    with SocketSlack(token=TOKEN) as slack_api:
        config = loaded()
        runner = SocketRunner("xapp-revoked", Interactions(engine, lambda: config.strategies, lambda s: None),
                              base_url=slack_api.api_url, backoff_start=0.05, backoff_max=0.2)
        failed = threading.Event()
        handler = logging.Handler()
        handler.emit = lambda record: failed.set() if "retrying in" in record.getMessage() else None
        logging.getLogger("fundradar.slack").addHandler(handler)
        runner.start()
        try:
            assert failed.wait(10)
        finally:
            runner.stop()
            logging.getLogger("fundradar.slack").removeHandler(handler)
    said = [r.getMessage() for r in caplog.records if r.name.startswith("fundradar.slack")]
    first = next(line for line in said if "retrying in" in line)
    assert first == ("Slack Socket Mode connection failed (attempt 1: Slack refused the app-level token "
                     "(invalid_auth) in SLACK_APP_TOKEN; set it to the app's xapp-… token with "
                     "connections:write); retrying in 0 s")
    assert [line for line in said if "\n" in line] == []


def test_a_web_api_address_that_is_not_slacks_says_to_check_it() -> None:
    # SLACK_API_URL one path off (or a proxy answering for Slack): it read "Slack refused the message for
    # #eu-fundraising: Received a response in a non-JSON format: not found", as if Slack had refused it
    from pipeline.core.errors import DeliveryError
    from pipeline.notify.blocks import SlackMessage
    from pipeline.notify.senders import BotSender

    with SlackServer(token=TOKEN) as slack_api:
        sender = BotSender(TOKEN, base_url=slack_api.server.url("/nowhere/"))
        with pytest.raises(DeliveryError) as caught:
            sender.post(SlackMessage(channel="#eu-fundraising", text="Hydrogen valleys", blocks=[]), "k")
    assert str(caught.value) == (
        "the Slack Web API address answered HTTP 404 with no Slack answer ('not found') for "
        "#eu-fundraising; check SLACK_API_URL or slack.base_url (unset, Slack's own is used), or the proxy "
        "on the way")

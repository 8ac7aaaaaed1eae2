"""Delivery through the real slack_sdk clients to a local Slack: exact payloads, retries, idempotency."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from pipeline.core.models import SlackDelivery
from pipeline.notify.blocks import SlackMessage
from pipeline.notify.delivery import (
    EVENT_TYPE,
    MAX_RETRY_AFTER,
    BotSender,
    CappedRateLimitRetryHandler,
    Outgoing,
    Pacer,
    WebhookSender,
    deliver,
    register,
)
from pipeline.notify.jobs import send_digests
from tests.slack_data import NOW, TOKEN, add_call, loaded
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


class FakeSleep:
    """Records the pauses the pacer asks for instead of waiting (no timing in tests)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def _pacer() -> Pacer:
    fake = FakeSleep()
    return Pacer(clock=fake.clock, sleep=fake.sleep)


def _message(n: int = 1, channel: str = "#eu-fundraising") -> Outgoing:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"message {n}"}}]
    return Outgoing(f"alert:new:{n}", "alert", SlackMessage(channel, f"message {n}", blocks))


def _rows(engine) -> list[SlackDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(SlackDelivery).where(SlackDelivery.kind != "baseline")
                                 .order_by(SlackDelivery.id)))


def _bot(slack: SlackServer) -> BotSender:
    return BotSender(TOKEN, slack.api_url, timeout=5)


def test_exact_payload_with_metadata_and_escaped_hostile_title(engine, slack) -> None:
    add_call(engine, 1, title="<!channel> deadline <@U0ADMIN> & <https://evil.example|click>", score=0.8)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    outcomes = send_digests(engine, loaded(), NOW, channel="#energy-projects", environ=env, pacer=_pacer())
    assert [o.status for o in outcomes] == ["sent"]
    (posted,) = slack.messages
    assert posted.channel == "C0ENERGY02"
    assert posted.raw["channel"] == "#energy-projects"
    assert posted.raw["metadata"] == {"event_type": EVENT_TYPE,
                                      "event_payload": {"key": outcomes[0].key}}
    assert posted.raw["blocks"] == outcomes[0].message.blocks
    section = posted.raw["blocks"][4]["text"]["text"]  # after the header, period and source-health lines
    assert section.startswith("*<https://ec.europa.eu/topic/1|&lt;!channel&gt; deadline &lt;@U0ADMIN&gt; "
                              "&amp; &lt;https://evil.example¦click&gt;>*")
    # nothing in the whole payload can mention anyone or link elsewhere
    raw = str(posted.raw)
    assert "<!channel>" not in raw and "<@U0ADMIN>" not in raw and "<https://evil" not in raw
    assert "&lt;!channel&gt;" in posted.raw["text"]
    (row,) = _rows(engine)
    assert (row.status, row.message_ts, row.attempts) == ("sent", posted.ts, 1)
    assert row.channel == "#energy-projects"


def test_second_run_does_not_post_again(engine, slack) -> None:
    register(engine, [_message(1)], NOW)
    assert [o.status for o in deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())] == ["sent"]
    register(engine, [_message(1)], NOW)
    assert deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer()) == []
    assert len(slack.messages) == 1


def test_rate_limit_429_waits_retry_after_and_posts_once(engine, slack) -> None:
    slack.fail_next("chat.postMessage", "429", retry_after=1)
    register(engine, [_message(1)], NOW)
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert [o.status for o in outcomes] == ["sent"]
    assert slack.calls == ["chat.postMessage", "chat.postMessage"]
    assert len(slack.messages) == 1


def test_server_error_500_checks_history_then_reposts_once(engine, slack) -> None:
    slack.fail_next("chat.postMessage", "500")
    register(engine, [_message(1)], NOW)
    waits: list[float] = []
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer(), backoff=waits.append)
    assert [o.status for o in outcomes] == ["sent"]
    assert slack.calls == ["chat.postMessage", "conversations.list", "conversations.history",
                           "chat.postMessage"]
    assert waits == [1.0]
    assert len(slack.messages) == 1
    assert _rows(engine)[0].attempts == 2


def test_connection_dropped_before_posting_is_retried(engine, slack) -> None:
    slack.fail_next("chat.postMessage", "drop")
    register(engine, [_message(1)], NOW)
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer(), backoff=lambda s: None)
    assert [o.status for o in outcomes] == ["sent"]
    assert len(slack.messages) == 1


def test_connection_dropped_after_slack_posted_is_not_posted_twice(engine, slack) -> None:
    slack.fail_next("chat.postMessage", "drop_after_post")
    slack.add_message("#eu-fundraising", "older message 1")
    slack.add_message("#eu-fundraising", "older message 2")
    register(engine, [_message(1)], NOW)
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer(), backoff=lambda s: None)
    assert [o.status for o in outcomes] == ["sent"]
    assert len(slack.posted_to("#eu-fundraising")) == 3  # two older ones and ours, once
    assert outcomes[0].ts == slack.messages[-1].ts
    assert slack.calls.count("chat.postMessage") == 1


def test_crash_between_posting_and_logging_never_double_posts(engine, slack) -> None:
    # a run posted the message, then died before writing "sent": the row is left in "sending"
    item = _message(7)
    register(engine, [item], NOW)
    with Session(engine) as session:
        row = session.exec(select(SlackDelivery).where(SlackDelivery.key == item.key)).one()
        row.status, row.attempts = "sending", 1
        session.add(row)
        session.commit()
    ts = slack.add_message("#eu-fundraising", "message 7",
                           metadata={"event_type": EVENT_TYPE, "event_payload": {"key": item.key}})
    for n in range(3):  # later messages push ours to the second history page
        slack.add_message("#eu-fundraising", f"chatter {n}")
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW + timedelta(minutes=1), pacer=_pacer())
    assert [(o.status, o.ts) for o in outcomes] == [("sent", ts)]
    assert "chat.postMessage" not in slack.calls
    assert (_rows(engine)[0].status, _rows(engine)[0].message_ts) == ("sent", ts)


def test_interrupted_row_whose_message_never_arrived_is_posted(engine, slack) -> None:
    register(engine, [_message(8)], NOW)
    with Session(engine) as session:
        row = session.exec(select(SlackDelivery)).one()
        row.status = "sending"
        session.add(row)
        session.commit()
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert [o.status for o in outcomes] == ["sent"]
    assert len(slack.messages) == 1


def test_refused_message_is_failed_and_sent_on_the_next_run(engine, slack) -> None:
    register(engine, [_message(1, channel="#no-such-channel"), _message(2)], NOW)
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert [o.status for o in outcomes] == ["failed", "sent"]  # one failure does not stop the other
    assert outcomes[0].error == ("Slack refused the message for #no-such-channel: channel_not_found; "
                                 "check the channel name and invite the bot to it")
    slack.channels["no-such-channel"] = "C0NEW00003"
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert [(o.key, o.status) for o in outcomes] == [("alert:new:1", "sent")]
    assert [r.status for r in _rows(engine)] == ["sent", "sent"]


def test_slack_unreachable_is_failed_not_lost(engine) -> None:
    with SlackServer(token=TOKEN) as gone:
        url = gone.api_url
    register(engine, [_message(1)], NOW)
    sender = BotSender(TOKEN, url, timeout=2)
    outcomes = deliver(engine, sender, ["alert"], NOW, pacer=_pacer())
    assert outcomes[0].status == "failed"
    assert outcomes[0].error.startswith(
        "cannot reach Slack for #eu-fundraising: [Errno 111] Connection refused")
    assert _rows(engine)[0].status == "failed"


def test_posts_to_one_channel_are_paced_one_second_apart(engine, slack) -> None:
    fake = FakeSleep()
    register(engine, [_message(1), _message(2), _message(3, channel="#energy-projects"), _message(4)], NOW)
    deliver(engine, _bot(slack), ["alert"], NOW, pacer=Pacer(clock=fake.clock, sleep=fake.sleep))
    assert fake.sleeps == [1.0, 1.0]  # before messages 2 and 4; the other channel does not wait
    assert len(slack.messages) == 4


def test_webhook_posts_blocks_and_does_not_repost_after_a_lost_answer(engine, slack) -> None:
    sender = WebhookSender(slack.webhook_url, timeout=5)
    register(engine, [_message(1), _message(2)], NOW)
    slack.fail_next("webhook", "drop_after_post")
    outcomes = deliver(engine, sender, ["alert"], NOW, pacer=_pacer())
    assert [o.status for o in outcomes] == ["unconfirmed", "sent"]
    assert [m.raw["blocks"] for m in slack.messages] == [_message(n).message.blocks for n in (1, 2)]
    # the next run leaves the unconfirmed one alone: a webhook cannot be checked for a double post
    assert deliver(engine, sender, ["alert"], NOW, pacer=_pacer()) == []
    assert len(slack.messages) == 2


def test_webhook_error_status_is_retried_next_run(engine, slack) -> None:
    sender = WebhookSender(slack.webhook_url, timeout=5)
    register(engine, [_message(1)], NOW)
    slack.fail_next("webhook", "500")
    outcomes = deliver(engine, sender, ["alert"], NOW, pacer=_pacer())
    assert (outcomes[0].status, outcomes[0].error) == ("failed", "the Slack webhook refused the message: "
                                                                 "HTTP 500 internal_error")
    assert [o.status for o in deliver(engine, sender, ["alert"], NOW, pacer=_pacer())] == ["sent"]
    assert len(slack.messages) == 1


def test_token_never_appears_in_logs(engine, slack, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    slack.fail_next("chat.postMessage", "500")
    register(engine, [_message(1), _message(2, channel="#nope")], NOW)
    deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer(), backoff=lambda s: None)
    assert slack.messages
    assert TOKEN not in caplog.text
    assert "secret-token" not in caplog.text


def test_long_digest_is_sent_as_two_messages_within_slack_limits(engine, slack) -> None:
    from tests.slack_data import add_application, move_deadline

    for n in range(1, 46):
        cid = add_call(engine, n, title="Long title " * 60, score=0.5, days=20 + n)
        add_application(engine, cid, idea=f"Idea {n}")
        move_deadline(engine, cid, NOW + timedelta(days=90), NOW - timedelta(days=1))
    config = loaded()
    digests = [config.strategy.slack.digests[0].model_copy(update={"top": 45})]
    slack_config = config.strategy.slack.model_copy(update={"digests": digests})
    config = type(config)(config.strategy.model_copy(update={"slack": slack_config}), config.funding_rules,
                          config.strategy_path)
    fake = FakeSleep()
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    outcomes = send_digests(engine, config, NOW, environ=env, pacer=pacer)
    # 45 calls, each with its buttons and a divider between them: four messages
    assert [(o.key, o.status) for o in outcomes] == [(f"digest:#eu-fundraising:20260824T0600:{n}/4", "sent")
                                                     for n in (1, 2, 3, 4)]
    assert all(len(m.raw["blocks"]) <= 50 for m in slack.messages)
    assert fake.sleeps == [1.0, 1.0, 1.0]
    assert all(len(b["text"]["text"]) <= 3000 for m in slack.messages for b in m.raw["blocks"]
               if b["type"] == "section")


def test_post_stored_after_the_client_timed_out_is_found_by_its_key_not_posted_twice(engine, slack) -> None:
    # Slack keeps the message but answers after the client's timeout: the client sees a read timeout
    slack.fail_next("chat.postMessage", "slow_after_post", delay=10)  # far past the 1 s timeout
    slack.add_message("#eu-fundraising", "older message")
    register(engine, [_message(1), _message(2)], NOW)
    sender = BotSender(TOKEN, slack.api_url, timeout=1)
    outcomes = deliver(engine, sender, ["alert"], NOW, pacer=_pacer(), backoff=lambda s: None)
    assert [o.status for o in outcomes] == ["sent", "sent"]
    ours = [m for m in slack.posted_to("#eu-fundraising") if m.text == "message 1"]
    assert len(ours) == 1  # looked up by its key in the history before any retry: posted once
    assert outcomes[0].ts == ours[0].ts
    assert slack.calls[:3] == ["chat.postMessage", "conversations.list", "conversations.history"]
    assert slack.calls.count("chat.postMessage") == 2  # message 1 once, message 2 once
    row = _rows(engine)[0]
    assert (row.status, row.message_ts, row.attempts, row.error) == ("sent", ours[0].ts, 1, None)


def test_long_retry_after_defers_the_rest_to_the_next_run_without_waiting(engine, slack) -> None:
    slack.fail_next("chat.postMessage", "429", retry_after=3600)
    register(engine, [_message(1), _message(2), _message(3, channel="#energy-projects")], NOW)
    started = time.monotonic()
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert time.monotonic() - started < MAX_RETRY_AFTER  # no hour-long sleep
    assert [o.status for o in outcomes] == ["deferred", "deferred", "deferred"]
    reason = ("Slack rate limit on #eu-fundraising: asked to wait 3600 s, more than the 30 s a run waits; "
              "sent on the next run")
    assert [o.error for o in outcomes] == [reason] * 3
    assert slack.calls == ["chat.postMessage"]  # the rest was not even tried
    assert not slack.messages
    assert [(r.status, r.attempts) for r in _rows(engine)] == [("pending", 0)] * 3  # no attempt used up
    # the next run sends them
    assert [o.status for o in deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())] == ["sent"] * 3
    assert len(slack.messages) == 3


def test_short_retry_after_is_still_waited_for(engine, slack) -> None:
    handler = CappedRateLimitRetryHandler()
    assert handler.max_wait == MAX_RETRY_AFTER == 30
    slack.fail_next("chat.postMessage", "429", retry_after=1)
    register(engine, [_message(1)], NOW)
    assert [o.status for o in deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())] == ["sent"]


def test_webhook_long_retry_after_is_deferred(engine, slack) -> None:
    sender = WebhookSender(slack.webhook_url, timeout=5)
    slack.fail_next("webhook", "429", retry_after=3600)
    register(engine, [_message(1), _message(2)], NOW)
    outcomes = deliver(engine, sender, ["alert"], NOW, pacer=_pacer())
    assert [(o.status, o.error) for o in outcomes] == [
        ("deferred", "Slack rate limit on the Slack webhook: asked to wait 3600 s, more than the 30 s a run "
                     "waits; sent on the next run")] * 2
    assert [o.status for o in deliver(engine, sender, ["alert"], NOW, pacer=_pacer())] == ["sent", "sent"]
    assert len(slack.messages) == 2


def _interrupted(engine, item: Outgoing) -> None:
    """The row left as a run that died while posting leaves it: ``sending``, one attempt."""
    register(engine, [item], NOW)
    with Session(engine) as session:
        row = session.exec(select(SlackDelivery).where(SlackDelivery.key == item.key)).one()
        row.status, row.attempts = "sending", 1
        session.add(row)
        session.commit()


def test_history_500_is_reported_as_a_server_error_not_a_missing_scope(engine, slack) -> None:
    _interrupted(engine, _message(1))
    slack.fail_next("conversations.history", "500", times=3)  # slack_sdk's server-error retries: 2
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert [(o.status, o.error) for o in outcomes] == [
        ("failed",
         "Slack answered HTTP 500 to conversations.history for #eu-fundraising; will retry next run")]
    assert "scope" not in outcomes[0].error
    assert slack.calls.count("conversations.history") == 3
    assert "chat.postMessage" not in slack.calls  # never posted without the check
    # the next run checks again, finds nothing and posts it once
    assert [o.status for o in deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())] == ["sent"]
    assert len(slack.messages) == 1


def test_only_missing_scope_names_the_scope(engine, slack) -> None:
    _interrupted(engine, _message(1))
    slack.fail_next("conversations.history", "missing_scope")
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert outcomes[0].error == ("the bot lacks the channels:history scope that conversations.history needs "
                                 "to check #eu-fundraising for an earlier post; add it to the Slack app and "
                                 "reinstall it")
    slack.fail_next("conversations.list", "missing_scope")
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert outcomes[0].error.startswith("the bot lacks the channels:read scope that conversations.list needs")
    assert not slack.messages


def test_history_long_retry_after_defers(engine, slack) -> None:
    _interrupted(engine, _message(1))
    slack.fail_next("conversations.history", "429", retry_after=3600)
    outcomes = deliver(engine, _bot(slack), ["alert"], NOW, pacer=_pacer())
    assert [o.status for o in outcomes] == ["deferred"]
    assert outcomes[0].error.startswith("Slack rate limit on conversations.history for #eu-fundraising: "
                                        "asked to wait 3600 s")
    assert (_rows(engine)[0].status, _rows(engine)[0].attempts) == ("sending", 1)

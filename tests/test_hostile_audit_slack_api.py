"""Slack (or a proxy in front of it) answering in ways the API does not: each is one DeliveryError or an
ambiguous delivery, never an exception out of the sender. Before, a Retry-After of "1.5", "soon" or "-5"
raised slack_sdk's ValueError (it waits ``int(Retry-After)``), an answer of ``[1, 2]`` an
AttributeError, and an error text of 100,000 characters was the whole message."""

from __future__ import annotations

import json

import pytest

from pipeline.core.errors import DeliveryError
from pipeline.notify.blocks import SlackMessage
from pipeline.notify.senders import AmbiguousDelivery, BotSender, WebhookSender
from tests.localserver import LocalServer, Reply

MESSAGE = SlackMessage(channel="#eu-fundraising", text="digest", blocks=[])
JSON = {"Content-Type": "application/json"}
LIMITED = json.dumps({"ok": False, "error": "ratelimited"})


@pytest.mark.parametrize("wait", ["1.5", "soon", "-5"])
def test_a_retry_after_slack_sdk_cannot_read_is_reported_as_the_rate_limit(server: LocalServer,
                                                                            wait: str) -> None:
    limited = Reply(429, LIMITED, {**JSON, "Retry-After": wait})
    server.route("POST", "/api/chat.postMessage", lambda r: limited)
    server.route("POST", "/hook", lambda r: limited)
    with pytest.raises(DeliveryError) as caught:
        BotSender("xoxb-test", base_url=server.url("/api/")).post(MESSAGE, "k")
    assert str(caught.value) == ("Slack rate limit for #eu-fundraising persisted after the retries; it is "
                                 "sent on the next run")
    with pytest.raises(DeliveryError, match="the Slack webhook refused the message: HTTP 429"):
        WebhookSender(server.url("/hook")).post(MESSAGE, "k")
    assert len(server.requests) == 2  # not retried


@pytest.mark.parametrize("body", ["[1, 2]", '"ok"'])
def test_an_answer_that_is_no_message_object_is_an_ambiguous_delivery(server: LocalServer, body: str) -> None:
    server.route("POST", "/api/chat.postMessage", lambda r: Reply(200, body, JSON))
    with pytest.raises(AmbiguousDelivery, match="Slack's answer was not a message object"):
        BotSender("xoxb-test", base_url=server.url("/api/")).post(MESSAGE, "k")


def test_odd_fields_of_an_ok_answer_and_a_huge_error_text(server: LocalServer) -> None:
    answers = iter([{"ok": True, "ts": {"a": 1}, "channel": [1]}, {"ok": False, "error": "x" * 100_000}])
    server.route("POST", "/api/chat.postMessage", lambda r: Reply(200, json.dumps(next(answers)), JSON))
    sender = BotSender("xoxb-test", base_url=server.url("/api/"))
    assert sender.post(MESSAGE, "k") is None  # no ts to keep, rather than a dict stored as one
    with pytest.raises(DeliveryError) as caught:
        sender.post(MESSAGE, "k")
    assert len(str(caught.value)) < 200 and str(caught.value).endswith("x…")

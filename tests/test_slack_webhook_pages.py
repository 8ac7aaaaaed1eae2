"""An incoming webhook answered by something other than Slack's webhook: a proxy's or Slack's edge's
HTML error page (nginx's "502 Bad Gateway", several lines of markup) and a refusal carrying control
characters. Before, the page's first 100 characters, line breaks included, became the message's error,
so serve's log line broke into five lines of HTML; now it is one line that says what answered. Through
the real slack_sdk WebhookClient against the local server."""

from __future__ import annotations

import logging

import pytest

from pipeline.notify.blocks import SlackMessage
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from pipeline.notify.senders import SlackUnavailable, WebhookSender
from tests.localserver import LocalServer, Reply
from tests.slack_data import NOW, add_call, loaded

MESSAGE = SlackMessage(channel="#eu-fundraising", text="digest", blocks=[])
# nginx's own 502 page, as a reverse proxy in front of a service sends it
BAD_GATEWAY = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad "
               "Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def test_an_html_error_page_is_named_as_such_on_one_line(server: LocalServer) -> None:
    server.route("POST", "/hook", lambda r: Reply(502, BAD_GATEWAY, {"Content-Type": "text/html"}))
    with pytest.raises(SlackUnavailable) as caught:
        WebhookSender(server.url("/hook")).post(MESSAGE, "k")
    assert str(caught.value) == ("the Slack webhook could not take the message: HTTP 502 with an HTML "
                                 "page (from a proxy or Slack's edge, not the webhook); it is sent on the "
                                 "next run")


def test_a_refusal_with_control_characters_is_one_clean_line(server: LocalServer) -> None:
    server.route("POST", "/hook", lambda r: Reply(404, "no_service\r\n\x1b[2Jnext line", {}))
    with pytest.raises(Exception) as caught:
        WebhookSender(server.url("/hook")).post(MESSAGE, "k")
    assert str(caught.value) == "the Slack webhook refused the message: HTTP 404 no_service next line"


def test_serve_logs_a_digest_a_proxy_page_refused_in_one_line(engine, server: LocalServer, caplog) -> None:
    server.route("POST", "/hook", lambda r: Reply(502, BAD_GATEWAY, {"Content-Type": "text/html"}))
    add_call(engine, 1, score=0.7)
    with caplog.at_level(logging.WARNING, logger="fundradar.slack"):
        [outcome] = send_digests(engine, loaded(), NOW, channel="#eu-fundraising",
                                 environ={"SLACK_WEBHOOK_URL": server.url("/hook")},
                                 pacer=Pacer(sleep=lambda s: None))
    assert outcome.status == "failed" and outcome.passing  # Slack's side: no attempt used up
    lines = [r.getMessage() for r in caplog.records if r.name == "fundradar.slack"]
    assert lines and all("\n" not in line and "<html>" not in line for line in lines), lines



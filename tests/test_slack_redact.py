"""Webhook URLs and tokens never reach a log record's output, at any verbosity (-vv included)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from pipeline.core.redact import RedactSecrets, install, redact
from tests.slack_data import CONFIG, NOW, TOKEN, add_application, add_call
from tests.slack_server import SlackServer

ARGS = ["--config", str(CONFIG), "--as-of", NOW.isoformat()]
HOOK = "https://hooks.slack.com/services/T0ABC123/B0DEF456/aBcDeFgHiJkLmNoPqRsTuVwX"


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def test_redact_webhook_urls_and_tokens() -> None:
    assert redact(f"url: {HOOK}, body: x") == "url: https://hooks.slack.com/[redacted], body: x"
    assert redact("http://127.0.0.1:8080/services/T0TEST/B0TEST/webhooksecret") == (
        "http://127.0.0.1:8080/services/[redacted]")
    assert redact(f"token={TOKEN} xoxp-1-2-abc xoxa-2-x xapp-1-A0-99-ff") == (
        "token=xox-[redacted] xox-[redacted] xox-[redacted] xapp-[redacted]")
    assert redact("https://api.slack.com/methods/chat.postMessage") == (
        "https://api.slack.com/methods/chat.postMessage")


def test_every_record_through_a_handler_is_redacted_message_args_and_traceback(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    install()
    assert any(isinstance(f, RedactSecrets) for f in caplog.handler.filters)
    install()  # twice is once
    assert sum(isinstance(f, RedactSecrets) for f in caplog.handler.filters) == 1
    logging.getLogger("slack_sdk.webhook.client").debug("Sending a request - url: %s", HOOK)
    logging.getLogger("fundradar.slack").warning(f"posting with {TOKEN}")
    try:
        raise ValueError(f"cannot post to {HOOK}")
    except ValueError:
        logging.getLogger("pipeline.serve").exception("job failed")
    assert "aBcDeFgHiJkLmNoPqRsTuVwX" not in caplog.text
    assert TOKEN not in caplog.text and "secret-token" not in caplog.text
    assert caplog.text.count("[redacted]") == 3
    assert caplog.records[0].getMessage() == "Sending a request - url: https://hooks.slack.com/[redacted]"


def test_vv_webhook_alerts_never_log_the_webhook_url(cli, engine, slack, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    call = add_call(engine, 2, days=2)
    add_application(engine, call, idea="Port electrification")
    result = cli(*ARGS, "-vv", "alerts", env={"SLACK_WEBHOOK_URL": slack.webhook_url})
    assert result.exit_code == 0, result.stderr
    assert [m.via for m in slack.messages] == ["webhook"]
    # slack_sdk's debug logger wrote the request, with the URL redacted
    sent = [r.getMessage() for r in caplog.records if r.name.startswith("slack_sdk")]
    assert any("Sending a request - url: http://127.0.0.1" in m and "/services/[redacted]" in m for m in sent)
    assert "webhooksecret" not in caplog.text + result.stdout + result.stderr


def test_vv_bot_digest_never_logs_the_token(cli, engine, slack, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    add_call(engine, 1, title="Offshore wind", score=0.7)
    slack.fail_next("chat.postMessage", "500")  # the error paths log too
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    result = cli(*ARGS, "-vv", "digest", "--channel", "#eu-fundraising", env=env)
    assert result.exit_code == 0, result.stderr
    assert any(r.name.startswith("slack_sdk") and r.levelno == logging.DEBUG for r in caplog.records)
    assert "secret-token" not in caplog.text + result.stdout + result.stderr

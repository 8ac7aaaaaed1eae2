"""A malformed Slack URL in the environment: one line naming the variable and what to do, never a
traceback, and never the value (a webhook URL is itself the credential)."""

from __future__ import annotations

import pytest

from tests.slack_data import CONFIG, NOW, TOKEN, add_call

ARGS = ["--config", str(CONFIG), "--as-of", NOW.isoformat()]
SECRET = "aBcDeFgHiJkLmNoPqRsTuVwX"


@pytest.mark.parametrize("webhook", [
    f"hooks.slack.com/services/T0ABC123/B0DEF456/{SECRET}",  # the scheme left out when pasting
    f"ftp://hooks.slack.com/services/T0ABC123/B0DEF456/{SECRET}",
    f"https:///services/T0ABC123/B0DEF456/{SECRET}",
])
@pytest.mark.parametrize("command", [["digest", "--channel", "#eu-fundraising"], ["alerts"]])
def test_a_malformed_webhook_url_is_one_line_without_the_url(cli, engine, webhook: str,
                                                             command: list[str]) -> None:
    add_call(engine, 1, title="Offshore wind", score=0.7)
    result = cli(*ARGS, *command, env={"SLACK_WEBHOOK_URL": webhook})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: SLACK_WEBHOOK_URL is not an http(s) URL")
    assert result.stderr.count("\n") == 1, result.stderr
    assert SECRET not in result.output and "Traceback" not in result.output


def test_a_malformed_api_url_is_one_line(cli, engine) -> None:
    add_call(engine, 1, title="Offshore wind", score=0.7)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": "127.0.0.1/api"}
    result = cli(*ARGS, "digest", "--channel", "#eu-fundraising", env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: SLACK_API_URL is not an http(s) URL")
    assert result.stderr.count("\n") == 1, result.stderr
    assert TOKEN not in result.output


@pytest.mark.parametrize("variable, value, said", [
    ("SLACK_BOT_TOKEN", "xoxb-1111-SECRETPART\nxoxb-2222-SECRETPART", "holds spaces or several lines"),
    ("SLACK_BOT_TOKEN", "xoxb-1111-SECRETPART xoxb-2222", "holds spaces or several lines"),
    ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0ABC123/B0DEF456/SECRETPART\nx",
     "is not an http(s) URL"),
])
def test_a_credential_pasted_with_a_line_break_is_one_line_without_it(cli, engine, variable: str, value: str,
                                                                     said: str) -> None:
    add_call(engine, 1, title="Offshore wind", score=0.7)
    env = {variable: value, "SLACK_API_URL": "http://127.0.0.1:1/api/"}
    result = cli(*ARGS, "digest", "--channel", "#eu-fundraising", env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {variable} {said}")
    assert result.stderr.count("\n") == 1 and "SECRETPART" not in result.output

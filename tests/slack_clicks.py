"""Clicks on a digest's buttons in tests: the local Slack with Socket Mode (:class:`SocketSlack`), the
real Socket Mode runner connected to it, a digest posted there, and the payload Slack sends for a click.

The fixtures are imported by the test modules that use them (``from tests.slack_clicks import runner,
slack``); ``slack`` is the local Slack, ``runner`` fundradar's one Socket Mode connection to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.models import Mark
from pipeline.notify.jobs import send_digests
from pipeline.notify.socket import SocketRunner, start_interactions, stop_interactions
from tests.slack_data import NOW, STRATEGY, TOKEN, loaded
from tests.slack_server import Posted
from tests.slack_socket import APP_TOKEN, SocketSlack


@pytest.fixture
def slack() -> Iterator[SocketSlack]:
    with SocketSlack(token=TOKEN) as server:
        yield server


def env(slack: SocketSlack) -> dict[str, str]:
    """The environment serve reads: the bot token, the app-level token and the local Web API."""
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url, "SLACK_APP_TOKEN": APP_TOKEN}


@pytest.fixture
def runner(engine: Any, slack: SocketSlack) -> Iterator[SocketRunner]:
    config = loaded()
    runners = start_interactions(engine, lambda: config, environ=env(slack), now=lambda: NOW)
    assert len(runners) == 1
    slack.socket.wait_connected()
    yield runners[0]
    stop_interactions(runners)


def digest(engine: Any, slack: SocketSlack) -> Posted:
    """The digest of #eu-fundraising, posted to the local Slack."""
    send_digests(engine, loaded(), NOW, channel="#eu-fundraising", environ=env(slack))
    (posted,) = slack.posted_to("#eu-fundraising")
    return posted


def click(posted: Posted, verb: str, call_id: int, *, channel: str | None = None, user: str = "U0METTE",
          username: str = "mette", action_ts: str = "1787000100.000100", strategy: str = STRATEGY) -> dict:
    """A block_actions payload as Slack sends it for a click on ``posted``."""
    value = f"{strategy}:{call_id}"
    if verb == "idea":
        action = {"type": "overflow", "action_id": f"fr:more:{call_id}", "block_id": f"fr_actions:{value}",
                  "selected_option": {"text": {"type": "plain_text", "text": "Start idea"},
                                      "value": f"idea:{value}"}, "action_ts": action_ts}
    else:
        action = {"type": "button", "action_id": f"fr:{verb}:{call_id}", "block_id": f"fr_actions:{value}",
                  "value": value, "action_ts": action_ts}
    channel_id = channel or posted.channel
    names = {cid: name for name, cid in SocketSlack().channels.items()}
    return {"type": "block_actions", "team": {"id": "T0TEST"},
            "user": {"id": user, "username": username, "name": username},
            "channel": {"id": channel_id, "name": names.get(channel_id, "")},
            "message": {"type": "message", "ts": posted.ts, "text": posted.text, "blocks": posted.blocks},
            "trigger_id": f"1787.42.{user}.{action_ts}", "actions": [action]}  # one per click, as Slack's


def marks(engine: Any) -> list[tuple[int, str | None, str, str | None]]:
    """The stored marks: call, focus area, label, by whom; oldest first."""
    with Session(engine) as session:
        return [(m.call_id, m.focus_area, m.label, m.marked_by)
                for m in session.exec(select(Mark).order_by(Mark.id))]


def count(engine: Any, model: Any) -> int:
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The logged messages that carry a traceback: a click's fault must never log one."""
    return [r.getMessage() for r in caplog.records if r.exc_info]

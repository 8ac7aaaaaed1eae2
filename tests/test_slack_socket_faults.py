"""The buttons under faults, through the real Socket Mode client and the local Slack: a click for a call
the database no longer has, Slack failing or dropping the connection while the message is redrawn or
the clicker told; each is one logged line and stores what the click asked, never a traceback."""

from __future__ import annotations

import logging
import re
import time

import pytest
import sqlalchemy as sa

from pipeline.core.db import open_database, session_scope
from pipeline.core.models import Call, Score, SlackInteraction, Verdict
from pipeline.notify.socket import SocketRunner, start_interactions, stop_interactions
from tests import slack_clicks
from tests.slack_clicks import click, count, digest, env, marks, tracebacks
from tests.slack_data import NOW, add_call, loaded

slack = slack_clicks.slack  # the local Slack with Socket Mode (fixture)
runner = slack_clicks.runner  # fundradar's Socket Mode connection to it (fixture)


def test_a_click_for_a_call_the_database_no_longer_has_is_refused(engine, slack, runner, caplog) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    with session_scope(engine) as session:  # the database was rebuilt without it
        for model in (Score, Verdict):
            session.execute(sa.delete(model).where(model.call_id == call))
        session.execute(sa.delete(Call).where(Call.id == call))
    slack.socket.send(click(posted, "relevant", call))
    assert runner.wait_handled(1)
    assert marks(engine) == [] and count(engine, SlackInteraction) == 0
    told = [e["text"] for e in slack.ephemeral]
    assert told == [f"Call {call} is no longer in fundradar; nothing was stored."]
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_slack_failing_while_the_message_is_redrawn_keeps_the_mark_in_one_line(
        engine, slack, runner, caplog, fault: str) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.fail_next("chat.update", fault, times=3)  # past the client's own retry
    caplog.set_level(logging.INFO, logger="fundradar.slack")
    slack.socket.send(click(posted, "relevant", call))
    assert runner.wait_handled(1)
    assert marks(engine) == [(call, None, "relevant", "mette")]
    assert slack.updates == []
    assert tracebacks(caplog) == []
    assert any(r.getMessage().startswith(f"could not update the message {posted.ts}") for r in caplog.records)


def test_a_click_the_database_cannot_store_tells_the_clicker_in_one_line(
        engine, db_url: str, slack, caplog) -> None:
    """The database refusing the write (read-only after a remount, full, locked past its timeout): the
    click was lost with a traceback in the log and nothing in Slack; the clicker is now told it was not
    stored, and the log has one line."""
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    read_only = open_database(f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true")
    config = loaded()
    runners = start_interactions(read_only, lambda: config, environ=env(slack), now=lambda: NOW)
    slack.socket.wait_connected()
    try:
        slack.socket.send(click(posted, "follow", call))
        assert runners[0].wait_handled(1)
    finally:
        stop_interactions(runners)
        read_only.dispose()
    assert count(engine, SlackInteraction) == 0
    (told,) = slack.ephemeral
    assert told["text"].startswith(f"Your tap on Follow (call {call}) was not stored: ")
    assert told["text"].endswith("; try again later.")
    assert tracebacks(caplog) == []


def test_a_disconnect_storm_backs_off_instead_of_reconnecting_at_once(engine, slack, caplog) -> None:
    """Slack (or a proxy) closing every connection right after its hello: each lost connection counted
    as a good one and reset the backoff, so serve asked apps.connections.open for a new one every few
    milliseconds (Slack allows about one a minute) and logged two lines each time. After two in a row
    that did not stay up, the backoff's growing wait applies, as after failed ones."""
    from pipeline.notify.interact import Interactions
    from tests.slack_socket import APP_TOKEN

    caplog.set_level(logging.INFO, logger="fundradar.slack")
    config = loaded()
    slack.socket.drop_after_hello = True
    interactions = Interactions(engine, lambda: config.strategies, lambda strategy: None)
    runner = SocketRunner(APP_TOKEN, interactions, base_url=slack.api_url, backoff_start=1,
                          backoff_max=2, check_every=0.01)
    runner.start()
    try:  # four connections: at once, at once again, then 1 s and 2 s later (the waits the log names)
        deadline = time.monotonic() + 60
        while slack.calls.count("apps.connections.open") < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    opened = slack.calls.count("apps.connections.open")
    lost = [r.getMessage() for r in caplog.records if "connection lost" in r.getMessage()]
    assert opened >= 4 and len(lost) >= opened - 1, (opened, lost)  # every new connection followed a loss
    assert lost[0] == "Slack Socket Mode connection lost; reconnecting"
    short = re.compile(r"Slack Socket Mode connection lost \d+ s after it opened \((\d+) in a row\); "
                       r"reconnecting in (\d+) s")
    waits = [short.fullmatch(line) for line in lost[1:]]
    assert all(waits), lost
    assert [(m.group(1), m.group(2)) for m in waits if m][:2] == [("2", "1"), ("3", "2")]
    assert all(m.group(2) == "2" for m in waits[2:] if m)  # at most backoff_max apart, never at once

"""Every click gets an answer the clicker can read (an ephemeral message, or the message redrawn), over
the real Socket Mode client against the local Slack: a button whose value was altered or comes from an
older message, a Start idea whose form Slack would not open, a message Slack would not redraw."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.core.models import Mark, SlackInteraction
from pipeline.notify.socket import start_interactions, stop_interactions
from tests import slack_clicks
from tests.slack_clicks import click, count, digest, env, tracebacks
from tests.slack_data import NOW, STRATEGY, TOKEN, add_call, loaded

slack = slack_clicks.slack  # the local Slack with Socket Mode (fixture)
runner = slack_clicks.runner  # fundradar's Socket Mode connection to it (fixture)


@pytest.mark.parametrize("action", [
    {"type": "button", "action_id": "fr:relevant:{call}", "value": f"{STRATEGY}:999"},  # value altered
    {"type": "button", "action_id": "fr:relevant:{call}", "value": ""},
    {"type": "button", "action_id": "fr:star:{call}", "value": f"{STRATEGY}:{{call}}"},  # an older verb
    {"type": "overflow", "action_id": "fr:more:{call}", "selected_option": {"value": "idea"}},
])
def test_a_button_fundradar_cannot_read_tells_the_clicker(engine, slack, runner, caplog,
                                                           action: dict[str, Any]) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "relevant", call)
    payload["actions"] = [{key: value.format(call=call) if isinstance(value, str) else value
                           for key, value in action.items()}]
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    assert count(engine, Mark) == 0 and count(engine, SlackInteraction) == 0
    assert [(e["channel"], e["user"], e["text"]) for e in slack.ephemeral] == [
        (posted.channel, "U0METTE", "This button does not name a call fundradar can act on (an altered or "
                                    "outdated message); nothing was stored. Use the buttons of the latest "
                                    "digest or alert.")]
    assert tracebacks(caplog) == []


def test_a_click_on_another_apps_element_is_left_alone(engine, slack, runner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "relevant", call)
    payload["actions"] = [{"type": "button", "action_id": "approve", "value": "x"}]
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    assert slack.ephemeral == []


@pytest.mark.parametrize("fault", ["500", "drop", "no trigger"])
def test_start_idea_whose_form_slack_will_not_open_tells_the_clicker(engine, slack, runner, caplog,
                                                                      fault: str) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "idea", call)
    if fault == "no trigger":
        del payload["trigger_id"]
    else:
        slack.fail_next("views.open", fault, times=3)  # past the client's own retry
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    assert slack.views == []
    (told,) = slack.ephemeral
    assert told["user"] == "U0METTE" and told["channel"] == posted.channel
    assert told["text"].startswith("Slack did not open the Start idea form (")
    assert told["text"].endswith(f"); try the button again, or add the idea with `fundradar ideas add "
                                 f"TITLE --description \"call #{call}\"`.")
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("fault", ["500", "drop"])
def test_a_stored_click_whose_message_slack_will_not_redraw_is_confirmed(engine, slack, runner, caplog,
                                                                          fault: str) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.fail_next("chat.update", fault, times=3)
    slack.socket.send(click(posted, "follow", call))
    assert runner.wait_handled(1)
    assert slack.updates == [] and count(engine, SlackInteraction) == 1
    (told,) = slack.ephemeral
    assert (told["channel"], told["user"]) == (posted.channel, "U0METTE")
    assert told["text"].startswith(f"Stored: ★ followed, call {call}; Slack did not redraw the message (")
    assert tracebacks(caplog) == []



@pytest.mark.parametrize("verb, text", [
    ("follow", "Call {call} is already followed; nothing changed."),
    ("unmute", "Call {call} is not muted; nothing changed."),
    ("relevant", "You already marked call {call} relevant; nothing changed."),
])
def test_a_click_that_changes_nothing_says_so(engine, slack, runner, verb: str, text: str) -> None:
    from pipeline.core.db import session_scope
    from pipeline.follow import set_state

    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    with session_scope(engine) as session:  # as `fundradar calls follow ID` did last week
        set_state(session, STRATEGY, call, "follow", NOW, "mette")
    if verb == "relevant":
        slack.socket.send(click(posted, "relevant", call, action_ts="1787000001.000100"))
        assert runner.wait_handled(1)
        slack.ephemeral.clear()
    slack.socket.send(click(posted, verb, call))
    assert runner.wait_handled(2 if verb == "relevant" else 1)
    assert [e["text"] for e in slack.ephemeral] == [text.format(call=call)]
    assert len(slack.updates) == (1 if verb == "relevant" else 0)


def test_a_redelivered_click_is_answered_once(engine, slack, runner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    envelope = slack.socket.send(click(posted, "follow", call))
    slack.socket.send(click(posted, "follow", call), envelope_id=envelope, retry_attempt=1)
    assert runner.wait_handled(2)
    assert len(slack.updates) == 1 and slack.ephemeral == []


def test_a_refusal_for_an_altered_strategy_name_shows_it_as_text(engine, slack, runner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    altered = "<!channel> <http://x.example|log in> " + "x" * 1900
    slack.socket.send(click(posted, "follow", call, strategy=altered))
    assert runner.wait_handled(1)
    (told,) = slack.ephemeral
    assert told["text"].startswith(
        "This button belongs to strategy '&lt;!channel&gt; &lt;http://x.example|log in&gt; xx")
    assert told["text"].endswith("…', which this fundradar does not serve; nothing was stored.")
    assert len(told["text"]) < 250


def test_a_click_while_the_database_is_down_tells_the_clicker(engine, slack, caplog) -> None:
    """PostgreSQL restarting (nothing listens on its port) while serve takes clicks."""
    from pipeline.core.db import create_db_engine
    from tests.localserver import closed_port

    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    with closed_port() as port:  # held so that nothing listens there, as on a fixed "unused" port might
        down = create_db_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=2")
        config = loaded()
        runners = start_interactions(down, lambda: config, environ=env(slack), now=lambda: NOW)
        slack.socket.wait_connected()
        try:
            slack.socket.send(click(posted, "follow", call))
            slack.socket.send(click(posted, "idea", call, action_ts="1787000100.000200"))
            assert runners[0].wait_handled(2)
        finally:
            stop_interactions(runners)
            down.dispose()
    assert sorted(e["text"].split(": ")[0] for e in slack.ephemeral) == [
        # handled in any order
        "The Start idea form did not open", f"Your tap on Follow (call {call}) was not stored"]
    assert all(e["text"].endswith("; try again later.") and "\n" not in e["text"] for e in slack.ephemeral)
    assert tracebacks(caplog) == []


def test_a_user_id_that_is_no_slack_id_is_not_written_into_the_message(engine, slack, runner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "relevant", call, user="U1> <!channel"))
    assert runner.wait_handled(1)
    (update,) = slack.updates
    line = next(b for b in update.blocks if b.get("block_id") == f"fr_call:{call}")["text"]["text"]
    assert line.endswith("✓ relevant — U1&gt; &lt;!channel")
    assert "<!channel>" not in line


def test_a_click_from_another_workspace_is_refused(engine, slack) -> None:
    from slack_sdk import WebClient

    from pipeline.notify.interact import Interactions

    strategy = loaded().strategy
    own = strategy.model_copy(update={"slack": strategy.slack.model_copy(update={"team_id": "T0OURS"})})
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    client = WebClient(token=TOKEN, base_url=slack.api_url)
    interactions = Interactions(engine, lambda: [own], lambda s: client, now=lambda: NOW)
    for team in ({"id": "T0TEST"}, None):  # another workspace's member; a payload without its team
        payload = click(posted, "relevant", call)
        payload["team"] = team
        interactions.handle("interactive", payload)
    assert count(engine, Mark) == 0 and slack.updates == []
    assert [e["text"] for e in slack.ephemeral] == [
        f"Strategy '{STRATEGY}' takes clicks only from its own workspace; nothing was stored."] * 2


def test_a_redelivered_click_that_changes_nothing_is_answered_once(engine, slack, runner) -> None:
    """A tap that found its work done ("already followed; nothing changed") stored nothing, so Slack's
    redelivery of its envelope (the ack lost) was not known as one and got the answer a second time."""
    from pipeline.core.db import session_scope
    from pipeline.follow import set_state

    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    with session_scope(engine) as session:
        set_state(session, STRATEGY, call, "follow", NOW, "mette")
    envelope = slack.socket.send(click(posted, "follow", call))
    slack.socket.send(click(posted, "follow", call), envelope_id=envelope, retry_attempt=1)
    assert runner.wait_handled(2)
    assert [e["text"] for e in slack.ephemeral] == [f"Call {call} is already followed; nothing changed."]
    assert slack.updates == []
    slack.socket.send(click(posted, "follow", call, action_ts="1787000009.000100"))  # a tap of its own
    assert runner.wait_handled(3)
    assert len(slack.ephemeral) == 2

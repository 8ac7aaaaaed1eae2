"""Slack on a phone, round six: clicks in a private channel, over the real Socket Mode client against
the local Slack (tests.slack_socket), and the messages they redraw."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from pipeline.core.models import Mark, SlackInteraction
from pipeline.notify.actions import payload_problems
from tests import slack_clicks
from tests.slack_clicks import click, count, digest, marks
from tests.slack_data import NOW, STRATEGY, add_call, move_deadline, run_alerts

slack = slack_clicks.slack  # the local Slack with Socket Mode (fixture)
runner = slack_clicks.runner  # fundradar's Socket Mode connection to it (fixture)

# what Slack sends as the channel of a click in a private channel: its id, and no name
# (https://api.slack.com/reference/interaction-payloads/block-actions; payloads captured from Slack
# show {"id": "G…" or "C…", "name": "privategroup"})
PRIVATE = "privategroup"


def test_a_click_in_a_private_channel_named_in_the_config_is_stored(engine, slack, runner) -> None:
    """A cluster's fundraising channel is often private. Slack names no private channel in a click's
    payload ("privategroup"), so every tap there was refused: "This channel is not one of strategy
    greentech-dk's channels (#eu-fundraising, …)", though the digest was posted to #eu-fundraising."""
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "relevant", call)
    payload["channel"]["name"] = PRIVATE
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    assert slack.ephemeral == []
    assert marks(engine) == [(call, None, "relevant", "mette")]
    (update,) = slack.updates
    assert update.ts == posted.ts


def test_a_start_idea_form_from_a_private_channel_adds_the_idea(engine, slack, runner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "idea", call)
    payload["channel"]["name"] = PRIVATE
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    (view,) = slack.views
    submission = {"type": "view_submission", "team": {"id": "T0TEST"},
                  "user": {"id": "U0METTE", "username": "mette"},
                  "view": {"id": "V0PRIVATE", "callback_id": view["callback_id"],
                           "private_metadata": view["private_metadata"],
                           "state": {"values": {"title": {"value": {"value": "Wind robots"}}}}}}
    assert json.loads(view["private_metadata"])["chn"] == PRIVATE
    slack.socket.send(submission)
    assert runner.wait_handled(2)
    (told,) = slack.ephemeral
    assert told["text"].startswith("Added idea #1 for call 1")


def test_a_click_in_a_private_channel_on_a_message_not_posted_there_is_still_refused(
        engine, slack, runner) -> None:
    """The channel of a private click is known by the message fundradar posted there: a message with
    fundradar's buttons in a channel it never posted to stays refused."""
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "relevant", call, channel="C0RANDOM03")
    payload["channel"]["name"] = PRIVATE
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    assert count(engine, Mark) == 0 and count(engine, SlackInteraction) == 0
    (told,) = slack.ephemeral
    assert told["text"].startswith(f"This channel is not one of strategy {STRATEGY}'s channels")


def test_a_private_channel_slack_will_not_name_says_which_scope_is_missing(engine, slack, runner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.fail_next("conversations.info", "missing_scope")
    payload = click(posted, "relevant", call)
    payload["channel"]["name"] = PRIVATE
    slack.socket.send(payload)
    assert runner.wait_handled(1)
    assert count(engine, Mark) == 0
    assert [e["text"] for e in slack.ephemeral] == [
        "Slack did not say which private channel this is (missing_scope), so nothing was stored; the "
        "Slack app needs the groups:read scope (config/slack_app_manifest.yaml)."]


def test_start_idea_opens_its_form_while_an_earlier_tap_waits_for_slack(engine, slack, runner) -> None:
    """Slack opens a form only within 3 seconds of the tap (its trigger id expires). Start idea waited
    in line behind the taps before it: with Slack slow to answer one tap's redraw (or a sync holding
    the database), the form came too late, "expired_trigger_id", and so did the next try. A form is now
    opened at once, whatever the taps before it wait for."""
    first = add_call(engine, 1, score=0.7)
    second = add_call(engine, 2, score=0.6)
    posted = digest(engine, slack)
    slack.fail_next("chat.update", "hold", delay=20)  # the redraw's answer waits for the form, or 20 s
    slack.socket.send(click(posted, "relevant", first))
    slack.socket.send(click(posted, "idea", second, action_ts="1787000101.000100"))
    assert runner.wait_handled(2, timeout=60)
    assert slack.held_while_opened == [True]  # the form opened while the redraw was still waiting
    assert len(slack.views) == 1 and len(slack.updates) == 1
    assert marks(engine) == [(first, None, "relevant", "mette")]


def _follow(engine, call_id: int, by: str = "<@U0METTE>") -> None:
    from pipeline.core.db import session_scope
    from pipeline.follow import set_state

    with session_scope(engine) as session:
        set_state(session, STRATEGY, call_id, "follow", NOW - timedelta(days=3), by)


def test_a_followed_calls_alert_can_be_unfollowed_from_the_phone(engine, slack, runner) -> None:
    """A followed call's "Deadline moved" alert and its reminders offered only `fundradar calls unfollow
    12`, a command a fundraiser reading Slack on a phone cannot run; they now carry an Unfollow button
    (alone: a Mute there would not stop the reminders)."""
    from sqlmodel import Session

    from pipeline.follow import followed_calls

    call = add_call(engine, 1, score=0.2)
    _follow(engine, call)
    assert run_alerts(engine, slack, NOW) == []  # the baseline
    move_deadline(engine, call, NOW + timedelta(days=20, hours=9), NOW + timedelta(hours=3))
    assert [o.status for o in run_alerts(engine, slack, NOW + timedelta(hours=4))] == ["sent"]
    (posted,) = slack.posted_to("#eu-fundraising")
    (actions,) = [b for b in posted.blocks if b["type"] == "actions"]
    assert actions["block_id"] == f"fr_actions:{STRATEGY}:{call}"
    assert [(e["text"]["text"], e["action_id"]) for e in actions["elements"]] == [
        ("Unfollow", f"fr:unfollow:{call}")]
    assert payload_problems(posted.blocks) == []
    slack.socket.send(click(posted, "unfollow", call))
    assert runner.wait_handled(1)
    with Session(engine) as session:
        assert followed_calls(session, STRATEGY) == set()
    (update,) = slack.updates
    assert "☆ unfollowed — <@U0METTE>" in next(b["text"]["text"] for b in update.blocks
                                               if b.get("block_id") == f"fr_call:{call}")
    (redrawn,) = [b for b in update.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in redrawn["elements"]] == [f"fr:follow:{call}"]  # to follow it again


def test_a_call_both_new_and_followed_in_one_alert_message_has_its_buttons_once(engine, slack) -> None:
    """A new match followed at once (from the CLI) with its reminder due in the same run: the call's
    buttons twice in one message would repeat their block and action ids, which Slack refuses
    (invalid_blocks), and the whole alert message with them."""
    assert run_alerts(engine, slack, NOW) == []  # the baseline
    call = add_call(engine, 1, score=0.7, days=1, first_seen=NOW + timedelta(hours=1))
    _follow(engine, call, by="mette")
    assert [o.status for o in run_alerts(engine, slack, NOW + timedelta(hours=2))] == ["sent"]
    (posted,) = slack.posted_to("#eu-fundraising")
    assert payload_problems(posted.blocks) == []
    (actions,) = [b for b in posted.blocks if b["type"] == "actions"]
    assert actions["block_id"] == f"fr_actions:{STRATEGY}:{call}"
    assert actions["elements"][2]["text"]["text"] == "Unfollow"  # the new match is followed already
    sections = [b["text"]["text"] for b in posted.blocks if b["type"] == "section"]
    assert any(text.startswith(":alarm_clock: *1 day left* for a call we follow") for text in sections)


def test_a_call_marked_not_for_us_says_so_in_the_next_digest(engine, slack, runner) -> None:
    """Mette tapped Not for us on Monday; the next Monday's digest listed the call again as though
    nobody had looked at it, so a colleague read it through, and a tap of hers stored a second mark.
    A call marked since shows the latest mark, by name, as a followed call shows who follows it."""
    from pipeline.notify.jobs import send_digests
    from tests.slack_clicks import env
    from tests.slack_data import loaded

    marked = add_call(engine, 1, score=0.7)
    followed = add_call(engine, 2, score=0.65)
    other = add_call(engine, 3, score=0.6)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "irrelevant", marked))
    slack.socket.send(click(posted, "follow", followed, action_ts="1787000101.000100"))
    slack.socket.send(click(posted, "relevant", followed, user="U0ANNA", username="anna",
                            action_ts="1787000102.000100"))
    assert runner.wait_handled(3)
    send_digests(engine, loaded(), NOW + timedelta(days=7), channel="#eu-fundraising", environ=env(slack))
    _first, later = slack.posted_to("#eu-fundraising")
    texts = {b["block_id"]: b["text"]["text"] for b in later.blocks
             if b.get("block_id", "").startswith("fr_call:")}
    assert texts[f"fr_call:{marked}"].endswith("\nWhy: Offshore wind and energy systems: offshore wind"
                                                "\n\u2063✗ not for us — mette")
    assert texts[f"fr_call:{followed}"].endswith("\n\u2063★ followed — mette · ✓ relevant — anna")
    assert "\u2063" not in texts[f"fr_call:{other}"]


def _submit(slack, view: dict, view_id: str, title: str, username: str = "mette") -> None:
    slack.socket.send({"type": "view_submission", "team": {"id": "T0TEST"},
                       "user": {"id": "U0METTE", "username": username},
                       "view": {"id": view_id, "callback_id": view["callback_id"],
                                "private_metadata": view["private_metadata"],
                                "state": {"values": {"title": {"value": {"value": title}},
                                                     "owner": {"value": {"value": username}}}}}})


def test_start_idea_on_a_call_a_colleague_started_an_idea_from_says_so_in_the_form(
        engine, slack, runner) -> None:
    """Two colleagues reading the same digest on their phones each tapped Start idea on a call: two
    ideas, each unaware of the other. The form now opens with the ideas already started from it."""
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "idea", call))
    assert runner.wait_handled(1)
    _submit(slack, slack.views[0], "V0FIRST", "Wind <robots> & drones")
    assert runner.wait_handled(2)
    slack.socket.send(click(posted, "idea", call, user="U0ANNA", username="anna",
                            action_ts="1787000200.000100"))
    assert runner.wait_handled(3)
    first, second = slack.views
    assert first["blocks"][0]["type"] == "input"  # nothing started before: the form as it was
    assert second["blocks"][0] == {"type": "context", "elements": [{"type": "mrkdwn", "text": (
        ":bulb: Already started from this call: idea #1 “Wind &lt;robots&gt; &amp; drones” (mette); adding "
        "this one makes another idea (`fundradar ideas show ID` shows one).")}]}
    assert [b["type"] for b in second["blocks"][1:]] == ["input", "input", "input"]


@pytest.mark.parametrize(("code", "fix"), [
    ("token_revoked", "reinstall the Slack app and set its new bot token"),
    ("not_in_channel", "invite the bot to the channel (/invite @fundradar)"),
    ("is_archived", "or name another channel in the strategy config"),
])
def test_a_tap_slack_cannot_answer_says_in_the_log_what_to_fix(engine, slack, runner, caplog, code: str,
                                                               fix: str) -> None:
    """The bot token revoked, the bot removed from the channel or the channel archived after the digest
    went out: each tap is stored, but neither redrawn nor answered, so its clicker sees nothing, and
    serve's log said only 'could not update the message …: token_revoked' and 'could not tell …:
    token_revoked'. The log now says what to do, as a refused digest does."""
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.fail_next("chat.update", f"refuse:{code}")
    slack.fail_next("chat.postEphemeral", f"refuse:{code}")
    caplog.set_level(logging.WARNING, logger="fundradar.slack")
    slack.socket.send(click(posted, "relevant", call))
    assert runner.wait_handled(1)
    assert marks(engine) == [(call, None, "relevant", "mette")]  # stored all the same
    lines = [r.getMessage() for r in caplog.records if r.name == "fundradar.slack"]
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"could not update the message {posted.ts} in {posted.channel}",
        f"could not tell U0METTE in {posted.channel}"]
    assert all(f": {code}; " in line and line.endswith(fix) for line in lines), lines


def test_a_private_channel_renamed_with_the_config_takes_taps_again(engine, slack, tmp_path) -> None:
    """Slack's name of a private channel is asked once and kept; the secretariat renaming the channel
    in Slack and in the config (serve reads it again) left its taps refused with the old name until
    serve restarted. A kept name that no longer names one of the strategy's channels is asked again."""
    from pipeline.core.config import load_config
    from pipeline.notify.socket import start_interactions, stop_interactions
    from tests.slack_clicks import env
    from tests.slack_data import CONFIG

    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    renamed = tmp_path / "strategy.yaml"
    renamed.write_text(CONFIG.read_text(encoding="utf-8").replace("#eu-fundraising", "#eu-funding-2026"),
                       encoding="utf-8")
    config = [load_config(CONFIG)]
    runners = start_interactions(engine, lambda: config[0], environ=env(slack), now=lambda: NOW)
    try:
        slack.socket.wait_connected()
        payload = click(posted, "relevant", call)
        payload["channel"]["name"] = PRIVATE
        slack.socket.send(payload)
        assert runners[0].wait_handled(1)
        slack.channels["eu-funding-2026"] = slack.channels.pop("eu-fundraising")  # renamed in Slack
        config[0] = load_config(renamed)  # and in the config
        payload = click(posted, "irrelevant", call, action_ts="1787000300.000100")
        payload["channel"]["name"] = PRIVATE
        slack.socket.send(payload)
        assert runners[0].wait_handled(2)
    finally:
        stop_interactions(runners)
    assert slack.ephemeral == []
    assert [label for _call, _area, label, _by in marks(engine)] == ["relevant", "irrelevant"]


def test_a_start_idea_tap_slack_delivers_again_opens_one_form_and_says_nothing_more(
        engine, slack, runner) -> None:
    """Slack delivers an envelope again when its ack did not reach it (the connection dropped just
    then). A Start idea delivered twice opened its form, then tried again with the used trigger, which
    Slack refuses, and the clicker, her form open, was told 'Slack did not open the Start idea form
    (invalid_trigger_id); try the button again'."""
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    payload = click(posted, "idea", call)
    slack.socket.send(payload, envelope_id="envelope-1")
    slack.socket.send(payload, envelope_id="envelope-1", retry_attempt=1)
    assert runner.wait_handled(2)
    assert len(slack.views) == 1
    assert slack.ephemeral == []

"""Slack on a phone, read as its user reads it: the posted Block Kit of digests and alerts, and clicks
on their buttons, through the local Slack Web API and Socket Mode servers and the real slack_sdk
clients."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlmodel import Session, select

from pipeline.core.config import load_config
from pipeline.core.db import open_database, session_scope
from pipeline.core.models import Call, CallFollow, FetchRun, Idea
from pipeline.follow import set_state
from pipeline.notify.actions import STATUS_MARK
from pipeline.notify.blocks import render_terminal
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_alerts, send_digests
from pipeline.notify.socket import SocketRunner, start_interactions, stop_interactions
from tests import slack_clicks
from tests.slack_clicks import click, count, digest
from tests.slack_data import (
    CONFIG,
    NOW,
    STRATEGY,
    TOKEN,
    add_application,
    add_call,
    change_status,
    loaded,
)
from tests.slack_server import SlackServer
from tests.slack_socket import SocketSlack

slack = slack_clicks.slack  # the local Slack with Socket Mode (fixture)
runner = slack_clicks.runner  # fundradar's Socket Mode connection to it (fixture)


def _block(blocks: list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    return next(b for b in blocks if b.get("block_id") == block_id)


def test_two_clicks_on_the_same_message_before_it_was_redrawn_both_stay_shown(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    first = add_call(engine, 1, score=0.7)
    second = add_call(engine, 2, score=0.6)
    posted = digest(engine, slack)
    seen = copy.deepcopy(posted)  # the message as both phones show it, before either redraw arrives
    slack.socket.send(click(seen, "follow", first, user="U0METTE", username="mette"))
    slack.socket.send(click(seen, "relevant", second, user="U0JENS", username="jens",
                            action_ts="1787000100.000200"))
    assert runner.wait_handled(2)
    shown = slack.posted_to("#eu-fundraising")[0].blocks  # the message after both redraws
    assert _block(shown, f"fr_call:{first}")["text"]["text"].endswith(
        f"\n{STATUS_MARK}★ followed — <@U0METTE>")
    assert _block(shown, f"fr_call:{second}")["text"]["text"].endswith(
        f"\n{STATUS_MARK}✓ relevant — <@U0JENS>")
    buttons = _block(shown, f"fr_actions:{STRATEGY}:{first}")["elements"]
    assert f"fr:unfollow:{first}" in [e.get("action_id") for e in buttons]


def _send_digest(engine: Any, slack: SlackServer) -> list[Any]:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    outcomes = send_digests(engine, loaded(), NOW, channel="#eu-fundraising", environ=env,
                            pacer=Pacer(sleep=lambda s: None))
    assert {o.status for o in outcomes} == {"sent"}
    return slack.posted_to("#eu-fundraising")


def test_a_digest_with_thirty_failing_sources_keeps_its_sources_line_short_and_whole(engine: Any) -> None:
    add_call(engine, 1, score=0.7)
    names = [f"regional_funder_feed_{n:02d}" for n in range(30)]
    with session_scope(engine) as session:
        for name in names:
            for days, outcome in ((9, "ok"), (3, "failed"), (2, "failed")):
                at = NOW - timedelta(days=days)
                session.add(FetchRun(source=name, started_at=at, finished_at=at, outcome=outcome, seen=4,
                                     error="connection refused" if outcome == "failed" else None))
    with SlackServer(token=TOKEN) as local:
        (posted,) = _send_digest(engine, local)
    contexts = [e["text"] for b in posted.blocks if b["type"] == "context" for e in b["elements"]]
    line = next(text for text in contexts if text.startswith("Sources:"))
    assert all(len(text) <= 2000 for text in contexts)  # Slack's limit for a context element
    assert line.startswith("Sources: 0 of 30 fine · regional_funder_feed_00 failing since 21 Aug 08:00 "
                           "(2 runs; last good 15 Aug 08:00) · ")
    # past the first few, the rest are counted and named, not cut off mid-name
    assert line.endswith(" · 25 more failing: regional_funder_feed_05, regional_funder_feed_06, "
                         + ", ".join(names[7:-1]) + " and regional_funder_feed_29 "
                         "(`fundradar sources status`)")


def test_a_digest_with_nothing_new_says_in_its_notification_which_application_is_due(engine: Any) -> None:
    with session_scope(engine) as session:  # the source read fine: nothing new is all there is
        session.add(FetchRun(source="eu_ft", started_at=NOW - timedelta(hours=5),
                             finished_at=NOW - timedelta(hours=5), outcome="ok", seen=5))
    call = add_call(engine, 1, title="Grøn brint i havne", score=0.1, days=5)  # below the minimum score
    add_application(engine, call, idea="Brint & havne")
    later = add_call(engine, 2, title="Kystsikring", score=0.1, days=40)
    add_application(engine, later, idea="Diger")
    with SlackServer(token=TOKEN) as local:
        (posted,) = _send_digest(engine, local)
    assert posted.text == ("Funding digest for GreenTech Cluster Denmark: 0 matching open calls, 0 new · "
                           "0 changes to calls we follow. Next deadline: application #1 (Brint &amp; havne), "
                           "Grøn brint i havne, 5 days left.")


def test_following_a_call_removed_since_the_digest_tells_the_clicker_it_is_gone(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    change_status(engine, call, "removed", NOW + timedelta(days=2))  # last week's digest still shows it
    slack.socket.send(click(posted, "follow", call))
    assert runner.wait_handled(1)
    assert [e["text"] for e in slack.ephemeral] == [
        f"Call {call} is followed, but its source no longer lists it; an alert in #eu-fundraising will say "
        "if it is listed again."]


def test_a_link_to_a_danish_domain_name_goes_to_that_domain(engine: Any) -> None:
    add_call(engine, 1, title="Støtte til grøn omstilling", score=0.7,
             url="https://grøn-fond.dk/opslag/støtte?år=2026")
    with SlackServer(token=TOKEN) as local:
        (posted,) = _send_digest(engine, local)
    section = _block(posted.blocks, "fr_call:1")["text"]["text"]
    # the host as DNS knows it (IDNA), the path percent-encoded: "gr%C3%B8n-fond.dk" is no host at all
    assert section.startswith("*<https://xn--grn-fond-64a.dk/opslag/st%C3%B8tte?%C3%A5r=2026|"
                              "Støtte til grøn omstilling>*\n")


def test_a_not_for_us_tap_the_database_cannot_store_is_named_as_the_button_is(
        engine: Any, db_url: str, slack: SocketSlack) -> None:
    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    read_only = open_database(f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true")
    config = loaded()
    runners = start_interactions(read_only, lambda: config, environ=slack_clicks.env(slack), now=lambda: NOW)
    slack.socket.wait_connected()
    try:
        slack.socket.send(click(posted, "irrelevant", call))
        slack.socket.send(click(posted, "unmute", call, action_ts="1787000100.000300"))
        assert runners[0].wait_handled(2)
    finally:
        stop_interactions(runners)
        read_only.dispose()
    # "Your irrelevant was not stored" named no button the clicker saw
    assert [e["text"].split(": ")[0] for e in slack.ephemeral] == [
        f"Your tap on Not for us (call {call}) was not stored",
        f"Your tap on Unmute (call {call}) was not stored"]


def test_a_call_followed_from_the_morning_alert_shows_unfollow_in_that_days_digest(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    alerts_env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    morning = NOW - timedelta(hours=1)
    send_alerts(engine, loaded(), morning - timedelta(days=1), environ=alerts_env)  # the first run: baseline
    call = add_call(engine, 1, score=0.8, first_seen=morning - timedelta(minutes=30))
    send_alerts(engine, loaded(), morning, environ=alerts_env)
    (alert,) = slack.posted_to("#eu-fundraising")
    slack.socket.send(click(alert, "follow", call))
    assert runner.wait_handled(1)
    posted = [p for p in slack.posted_to("#eu-fundraising") if p is not alert]
    assert posted == []
    send_digests(engine, loaded(), NOW, channel="#eu-fundraising", environ=alerts_env)
    (posted,) = [p for p in slack.posted_to("#eu-fundraising") if p is not alert]
    # tapping Follow again only got "already followed"; the digest offers what can be done, and says so
    buttons = _block(posted.blocks, f"fr_actions:{STRATEGY}:{call}")["elements"]
    assert [e["action_id"] for e in buttons] == [f"fr:relevant:{call}", f"fr:irrelevant:{call}",
                                                f"fr:unfollow:{call}", f"fr:mute:{call}", f"fr:more:{call}"]
    # named, not mentioned: a new message's mention would notify Mette in every digest
    assert _block(posted.blocks, f"fr_call:{call}")["text"]["text"].endswith(
        f"\n{STATUS_MARK}★ followed — mette")
    slack.socket.send(click(posted, "unfollow", call, action_ts="1787000200.000100"))
    assert runner.wait_handled(2)
    assert count(engine, CallFollow) == 0


def test_an_idea_submitted_after_its_focus_area_was_renamed_is_added_without_it(
        engine: Any, slack: SocketSlack, tmp_path: Path) -> None:
    yaml = YAML()
    data = yaml.load(CONFIG.read_text(encoding="utf-8"))
    areas = data["focus_areas"]
    data["focus_areas"] = {("offshore_wind" if key == "offshore_energy" else key): value
                           for key, value in areas.items()}
    data["slack"]["digests"][1]["focus_areas"] = ["offshore_wind"]
    renamed = tmp_path / "strategy.yaml"
    with renamed.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    config = [loaded()]
    runners = start_interactions(engine, lambda: config[0], environ=slack_clicks.env(slack), now=lambda: NOW)
    slack.socket.wait_connected()
    try:
        call = add_call(engine, 1, title="Floating offshore wind O&M", score=0.7)
        posted = digest(engine, slack)
        slack.socket.send(click(posted, "idea", call))
        assert runners[0].wait_handled(1)
        (view,) = slack.views
        config[0] = load_config(renamed)  # the secretariat renamed the area while the form was open
        chosen = {"type": "static_select", "selected_option": {"value": "offshore_energy"}}
        values = {"title": {"value": {"type": "plain_text_input", "value": "Robots"}},
                  "focus": {"value": chosen}}
        submitted = {"id": "V0TEST", "callback_id": view["callback_id"],
                     "private_metadata": view["private_metadata"], "state": {"values": values}}
        slack.socket.send({"type": "view_submission", "team": {"id": "T0TEST"},
                           "user": {"id": "U0METTE", "username": "mette"}, "view": submitted})
        assert runners[0].wait_handled(2)
    finally:
        stop_interactions(runners)
    with Session(engine) as session:
        ideas = [(i.id, i.title, i.focus_areas) for i in session.exec(select(Idea))]
    assert ideas == [(1, "Robots", [])]  # the typed title is not lost for the area's new name
    assert slack.ephemeral[-1]["text"] == (
        f"Added idea #1 for call {call}, without focus area 'offshore_energy', which the strategy no longer "
        "has (it has offshore_wind, green_maritime); see `fundradar ideas show 1`.")


def test_a_scraped_invisible_separator_does_not_pass_for_the_status_line_a_click_replaces(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    call = add_call(engine, 1, title="Grøn\u2063 brint", score=0.7)
    with session_scope(engine) as session:
        row = session.get(Call, call)
        row.programme = "\u2063Horizon Europe"  # U+2063 as a hostile listing may carry it
        session.add(row)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "relevant", call))
    assert runner.wait_handled(1)
    text = _block(slack.updates[-1].blocks, f"fr_call:{call}")["text"]["text"]
    assert text == ("*<https://ec.europa.eu/topic/1|Grøn brint>*\nHorizon Europe · closes 23 Oct 2026 17:00 "
                    "(60 days left) "
                    "· up to €3.0M\nWhy: Offshore wind and energy systems: offshore wind, hydrogen"
                    f"\n{STATUS_MARK}✓ relevant — <@U0METTE>")


def test_a_call_followed_on_the_command_line_without_a_name_reads_followed(engine: Any) -> None:
    call = add_call(engine, 1, score=0.7)
    with session_scope(engine) as session:  # as `fundradar calls follow 1` without --by
        set_state(session, STRATEGY, call, "follow", NOW - timedelta(days=1))
    with SlackServer(token=TOKEN) as local:
        (posted,) = _send_digest(engine, local)
    assert _block(posted.blocks, f"fr_call:{call}")["text"]["text"].endswith(
        f"offshore wind\n{STATUS_MARK}★ followed")


def test_a_followed_call_in_a_dry_run_digest_carries_no_invisible_mark(engine: Any) -> None:
    """The status line's invisible separator (how a click's redraw finds the line) went to the terminal
    too: invisible there, and copied along with '★ followed — mette' into whatever it was pasted in."""
    call = add_call(engine, 1, score=0.7)
    with session_scope(engine) as session:
        set_state(session, STRATEGY, call, "follow", NOW - timedelta(days=1), "mette")
    (outcome,) = send_digests(engine, loaded(), NOW, channel="#eu-fundraising", dry_run=True)
    shown = render_terminal([outcome.message])
    assert "offshore wind\n★ followed — mette\n" in shown
    assert STATUS_MARK not in shown

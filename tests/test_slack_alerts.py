"""Alerts: new calls above a focus area's threshold, changes to followed calls, reminders; each once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from pipeline.core.db import session_scope
from pipeline.core.models import Score
from pipeline.follow import set_state
from pipeline.notify.actions import call_actions
from pipeline.notify.jobs import send_alerts
from tests.slack_data import (
    NOW,
    STRATEGY,
    TOKEN,
    add_application,
    add_call,
    change_status,
    loaded,
    move_deadline,
    run_alerts,
)
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def test_first_run_marks_existing_calls_as_seen_then_alerts_new_ones_once(engine, slack) -> None:
    for n in range(1, 6):
        add_call(engine, n, score=0.8)  # already in the database when Slack is set up
    assert run_alerts(engine, slack, NOW) == []
    assert slack.messages == []
    later = NOW + timedelta(hours=1)
    new = add_call(engine, 10, title="Hydrogen valleys <!here>", score=0.36, first_seen=later, days=70)
    add_call(engine, 11, score=0.45, area="green_maritime", first_seen=later)  # below that area's 0.5
    add_call(engine, 12, score=0.9, first_seen=later, passed=False)  # the strategy rules turn it down
    add_call(engine, 13, score=0.9, first_seen=later, status="closed")
    outcomes = run_alerts(engine, slack, later + timedelta(minutes=5))
    assert [(o.key, o.status, o.items) for o in outcomes] == [
        ("alerts:#eu-fundraising:20260824T070500:1/1", "sent", [f"alert:new:{new}"])]
    (posted,) = slack.messages
    assert posted.raw["text"] == (
        "Funding alerts for GreenTech Cluster Denmark: 1 new match. "
        "New call for Offshore wind and energy systems: Hydrogen valleys &lt;!here&gt;")
    assert posted.raw["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "emoji": True,
                                    "text": "Funding alerts for GreenTech Cluster Denmark"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "1 new match"}]},
        {"type": "divider"},
        {"type": "section", "block_id": "heading-new-matches",
         "text": {"type": "mrkdwn", "text": "*New matches*"}},
        {"type": "section", "block_id": f"fr_call:{new}", "text": {"type": "mrkdwn", "text":
            ":rotating_light: *New call for Offshore wind and energy systems* (score 0.36)\n"
            "*<https://ec.europa.eu/topic/10|Hydrogen valleys &lt;!here&gt;>*\n"
            "Horizon Europe · closes 2 Nov 2026 16:00 Brussels time (70 days left) · budget €12.0M\n"
            "Why: hydrogen"}},  # the keyword the title has
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": f"fundradar · `fundradar calls show {new}`"}]},
        call_actions(STRATEGY, new).to_dict(),  # Relevant · Not for us · Follow · Mute · Start idea
    ]
    assert run_alerts(engine, slack, later + timedelta(hours=2)) == []
    assert len(slack.messages) == 1


def test_deadline_move_and_withdrawal_of_followed_calls(engine, slack) -> None:
    followed = add_call(engine, 1)
    withdrawn = add_call(engine, 2)
    other = add_call(engine, 3)
    closed = add_call(engine, 4)
    for call in (followed, withdrawn, closed):
        add_application(engine, call)
    run_alerts(engine, slack, NOW)  # baseline
    at = NOW + timedelta(hours=3)
    change = move_deadline(engine, followed, NOW + timedelta(days=20, hours=9), at)
    gone = change_status(engine, withdrawn, "withdrawn", at)
    move_deadline(engine, other, NOW + timedelta(days=20), at)  # nobody follows it
    change_status(engine, closed, "closed", at)  # closing is not an alert
    outcomes = run_alerts(engine, slack, at + timedelta(minutes=1))
    assert [o.items for o in outcomes] == [[f"alert:change:{change}", f"alert:change:{gone}"]]
    (posted,) = slack.messages  # one batched message for both changes
    assert posted.raw["blocks"][1]["elements"][0]["text"] == "2 changes"
    assert posted.raw["blocks"][3]["text"]["text"] == "*Changes to calls we follow*"
    texts = [b["text"]["text"] for b in posted.raw["blocks"][4:]]
    assert texts[0] == (":warning: *Deadline moved* for a call we follow\n"
                        "*<https://ec.europa.eu/topic/1|Offshore wind call 1>*\n"
                        "Deadline moved: 23 Oct 2026 17:00 → 13 Sep 2026 17:00 (Brussels time)\n"
                        "Followed by application #1 (Floating wind O&amp;M robots), owner Mette")
    assert texts[1].startswith(":warning: *Call withdrawn* for a call we follow\n")
    assert "The call is now *withdrawn* (was open)" in texts[1]
    assert run_alerts(engine, slack, at + timedelta(hours=1)) == []


def test_a_removed_call_that_comes_back_is_alerted_as_back(engine, slack) -> None:
    """Those following a call were told "Call removed"; when the source listed it again (a short
    answer confirmed twice, a call re-published) nothing told them, so the bid looked dead."""
    bid = add_call(engine, 1)
    followed = add_call(engine, 2)
    add_application(engine, bid)
    with session_scope(engine) as session:
        set_state(session, STRATEGY, followed, "follow", NOW)
    run_alerts(engine, slack, NOW)  # baseline
    at = NOW + timedelta(hours=3)
    removed = [change_status(engine, call, "removed", at) for call in (bid, followed)]
    assert [o.items for o in run_alerts(engine, slack, at + timedelta(minutes=1))] == \
        [[f"alert:change:{key}" for key in removed]]
    later = at + timedelta(days=1)
    back = [change_status(engine, call, "open", later) for call in (bid, followed)]
    outcomes = run_alerts(engine, slack, later + timedelta(minutes=1))
    assert [o.items for o in outcomes] == [[f"alert:change:{key}" for key in back]]
    texts = [b["text"]["text"] for b in slack.messages[-1].raw["blocks"][4:] if b["type"] == "section"]
    assert texts[0].startswith(":white_check_mark: *Call back* for a call we follow\n"
                               "*<https://ec.europa.eu/topic/1|Offshore wind call 1>*\n"
                               "The call is listed again, now *open* (was removed)\n"
                               "Followed by application #1")
    assert texts[1].startswith(":white_check_mark: *Call back* for a call we follow\n")
    assert "The call is listed again, now *open* (was removed)" in texts[1]
    assert run_alerts(engine, slack, later + timedelta(hours=1)) == []


def test_reminders_at_14_7_2_days_most_urgent_only_and_once(engine, slack) -> None:
    soon = add_call(engine, 1, days=10)  # deadline 10 days ahead at NOW
    urgent = add_call(engine, 2, days=1)
    done = add_call(engine, 3, days=5)
    first = add_application(engine, soon)
    second = add_application(engine, urgent, idea="Port electrification")
    add_application(engine, done, status="submitted")
    outcomes = run_alerts(engine, slack, NOW)
    assert [o.items for o in outcomes] == [[f"reminder:{first}:20260903T1500:14",
                                            f"reminder:{second}:20260825T1500:2"]]
    assert slack.messages[0].raw["blocks"][5]["text"]["text"] == (
        ":alarm_clock: *1 day left* for application #2 (Port electrification): _writing_\n"
        "*<https://ec.europa.eu/topic/2|Offshore wind call 2>*\n"
        "closes 25 Aug 2026 17:00 Brussels time · owner Mette")
    assert run_alerts(engine, slack, NOW + timedelta(days=1)) == []
    outcomes = run_alerts(engine, slack, NOW + timedelta(days=4))  # 6 days left
    assert [o.items for o in outcomes] == [[f"reminder:{first}:20260903T1500:7"]]
    assert len(slack.messages) == 2


def test_dry_run_and_no_slack_write_nothing(engine) -> None:
    add_application(engine, add_call(engine, 1, days=3))
    for kwargs in ({"dry_run": True, "environ": {"SLACK_BOT_TOKEN": TOKEN}}, {"environ": {}}):
        outcomes = send_alerts(engine, loaded(), NOW, **kwargs)
        assert [o.status for o in outcomes] in (["dry run"], ["terminal"])
    from sqlmodel import Session, select

    from pipeline.core.models import SlackDelivery
    with Session(engine) as session:
        assert session.exec(select(SlackDelivery)).all() == []


def test_one_batched_message_per_run_each_item_logged_once(engine, slack) -> None:
    followed = add_call(engine, 1, days=10)  # reminder due (14 days)
    add_application(engine, followed)
    run_alerts(engine, slack, NOW)  # baseline and the first reminder
    slack.messages.clear()
    at = NOW + timedelta(hours=2)
    move_deadline(engine, followed, NOW + timedelta(days=6, hours=9), at)  # now a 7-day reminder too
    for n in (10, 11, 12):
        add_call(engine, n, title=f"R&I call {n} & friends", score=0.8, first_seen=at)
    outcomes = run_alerts(engine, slack, at + timedelta(minutes=1))
    (outcome,) = outcomes
    (posted,) = slack.messages
    texts = [b["text"]["text"] for b in posted.raw["blocks"] if b["type"] == "section"]
    headings = [text for text in texts if text.startswith("*") and "\n" not in text]
    assert headings == ["*New matches*", "*Changes to calls we follow*", "*Reminders*"]
    assert posted.raw["blocks"][1]["elements"][0]["text"] == "3 new matches · 1 change · 1 reminder"
    assert "*<https://ec.europa.eu/topic/10|R&amp;I call 10 &amp; friends>*" in \
        "\n".join(b["text"]["text"] for b in posted.raw["blocks"] if b["type"] == "section")
    from sqlmodel import Session, select

    from pipeline.core.models import SlackDelivery
    with Session(engine) as session:
        rows = {r.key: r for r in session.exec(select(SlackDelivery))}
    for key in outcome.items:
        assert (rows[key].status, rows[key].message_ts) == ("sent", outcome.ts)
    assert len(outcome.items) == 5 and len(set(outcome.items)) == 5
    assert run_alerts(engine, slack, at + timedelta(minutes=30)) == []
    assert len(slack.messages) == 1


def test_a_new_call_alert_says_why_in_the_focus_areas_words_as_the_digest_does(engine, slack) -> None:
    """The alert's 'Why' listed the matcher's heaviest terms as stored (on the recorded portal data:
    'Why: wind, open, digi, gdánsk, tech' for an open call of DigiWind), while the digest's line for
    the same call names the focus area's keywords found in it; it now does too, the terms only when no
    keyword is found whole."""
    run_alerts(engine, slack, NOW)  # baseline
    later = NOW + timedelta(hours=1)
    found = add_call(engine, 20, title="DigiWind Open Call #1: digital tools for offshore wind farms",
                     score=0.5, first_seen=later,
                     text="Digital twins and hydrogen storage at offshore wind farms.")
    bare = add_call(engine, 21, title="Open Call #2", score=0.5, first_seen=later)
    for call_id in (found, bare):
        with session_scope(engine) as session:
            score = session.exec(select(Score).where(Score.call_id == call_id)).one()
            score.explanation = [{"term": "wind", "weight": 0.3}, {"term": "open", "weight": 0.2},
                                 {"term": "digi", "weight": 0.1}]
            session.add(score)
    run_alerts(engine, slack, later + timedelta(minutes=5))
    (posted,) = slack.messages
    why = [b["text"]["text"].splitlines()[-1] for b in posted.raw["blocks"]
           if b.get("block_id", "").startswith("fr_call:")]
    assert why == ["Why: offshore wind, hydrogen", "Why: wind, open, digi"]


def test_days_left_count_the_days_to_the_deadline_s_day_not_whole_24_hours(engine, slack) -> None:
    """The 2-day reminder for a Wednesday 17:00 deadline, sent by the hourly job on Monday at 17:05,
    said '1 day left' (1 day 23 hours, cut to whole days), which reads as Tuesday; days left count the
    days from today to the deadline's day in Brussels, so it says '2 days left' (and a deadline
    tomorrow at 17:00, seen at 18:00, is '1 day left', not 'today')."""
    app = add_application(engine, add_call(engine, 1, days=2), idea="Port electrification")
    run_alerts(engine, slack, NOW)  # Monday 08:00: the 7-day reminder
    run_alerts(engine, slack, NOW + timedelta(hours=9, minutes=5))  # Monday 17:05: the 2-day one
    assert [m.raw["blocks"][-1]["text"]["text"].splitlines()[0] for m in slack.messages] == [
        f":alarm_clock: *2 days left* for application #{app} (Port electrification): _writing_"] * 2
    from pipeline.core.deadlines import days_until

    tuesday = NOW + timedelta(days=1, hours=9)  # 17:00 Brussels
    assert [days_until(tuesday, NOW + timedelta(hours=h)) for h in (0, 10, 11, 12)] == [1, 1, 1, 1]
    assert days_until(tuesday, NOW + timedelta(days=1)) == 0

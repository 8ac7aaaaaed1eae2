"""Slack on a phone, round five: the digest of a strategy that watches nothing, scraped emoji codes, an
alert storm; through the local Slack Web API server and the real slack_sdk client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from tests.slack_data import NOW, TOKEN, add_call, loaded
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _digest(engine: Any, slack: SlackServer) -> Any:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    outcomes = send_digests(
        engine, loaded(), NOW, channel="#eu-fundraising", environ=env, pacer=Pacer(sleep=lambda s: None)
    )
    assert [o.status for o in outcomes] == ["sent"]
    (posted,) = slack.posted_to("#eu-fundraising")
    return posted


def test_a_digest_of_a_strategy_without_sources_says_nothing_is_watched(
    engine: Any, slack: SlackServer
) -> None:
    """The test strategy configures no source and no source has run: the digest said "No open call
    matches the strategy above the channel's minimum score" and its notification "0 matching open
    calls", as though calls had been looked for."""
    add_call(engine, 1, score=0.05)  # stored (by hand, an import), far below the minimum score
    posted = _digest(engine, slack)
    sections = [b["text"]["text"] for b in posted.blocks if b["type"] == "section"]
    assert sections == [
        "_No source is configured, so no call is watched: add one under `sources:` of the "
        "strategy (`config/sources/` has ready-made ones to copy)._"
    ]
    assert posted.text == (
        "Funding digest for GreenTech Cluster Denmark: no source is configured, so no call is watched."
    )
    assert not any("matches" in text for text in sections)


def test_emoji_codes_in_a_scraped_title_are_not_drawn_and_do_not_pass_for_the_new_mark(
    engine: Any, slack: SlackServer
) -> None:
    """A title "Ports :rotating_light: call :new: (:+1:)" was posted as it was: Slack drew the three
    emoji, and ":new:" read as the digest's own mark of a new call on a call that was not new. Each code's
    first colon is now a look-alike; a clock time keeps its colons."""
    from pipeline.notify.blocks import SlackMessage, render_terminal

    title = "Ports :rotating_light: call :new: (:+1:) opens 10:00:00"
    call = add_call(engine, 1, title=title, score=0.7)
    add_call(engine, 2, score=0.6, first_seen=NOW - timedelta(hours=1))  # new: not every call is new
    posted = _digest(engine, slack)
    (line,) = [b["text"]["text"] for b in posted.blocks if b.get("block_id") == f"fr_call:{call}"]
    first = line.split("\n")[0]
    assert first == (
        f"*<https://ec.europa.eu/topic/{call}|Ports ∶rotating_light: call ∶new: (∶+1:) opens 10:00:00>*"
    )
    assert re.search(r"(?<!\S):[a-z0-9_+-]+:", first) is None  # no emoji code is left in the title
    assert ":new:" in next(b["text"]["text"] for b in posted.blocks if b.get("block_id") == "fr_call:2")
    assert title in posted.text.replace("∶", ":")  # the notification reads as scraped, unformatted
    assert ":new:" not in posted.text
    shown = render_terminal([SlackMessage(posted.channel, posted.text, posted.blocks)])
    assert title in shown  # the terminal shows the title as scraped


def test_an_alert_storm_is_counted_past_twenty_of_a_kind_and_every_alert_is_logged_once(
    engine: Any, slack: SlackServer
) -> None:
    """200 followed calls' deadlines moved at once and 120 new calls above the threshold (a portal
    redating its calls, a source's first run) were posted whole: twelve messages in a row, each a
    notification. Now each kind shows 20 (new matches the strongest first) and counts the rest, with
    the command that lists them; every alert is still logged once and never posted later."""
    from sqlmodel import Session, select

    from pipeline.core.models import SlackDelivery
    from tests.slack_data import add_application, move_deadline, run_alerts

    followed = [add_call(engine, n, score=0.2) for n in range(1, 201)]
    for call in followed:
        add_application(engine, call)
    assert run_alerts(engine, slack, NOW) == []  # the baseline
    at = NOW + timedelta(hours=3)
    moves = [move_deadline(engine, call, NOW + timedelta(days=20, hours=9), at) for call in followed]
    # the later the stronger: the 20 shown are the strongest, best first, not the first found
    new = [add_call(engine, n, score=0.7 + (n - 300) / 1000, first_seen=at) for n in range(300, 420)]
    outcomes = run_alerts(engine, slack, at + timedelta(minutes=1))
    assert {o.status for o in outcomes} == {"sent"}
    assert len(slack.messages) <= 2
    blocks = [b for posted in slack.messages for b in posted.blocks]
    ids = [b.get("block_id") or "" for b in blocks]
    assert [i for i in ids if i.startswith("fr_call:")] == [f"fr_call:{c}" for c in reversed(new[-20:])]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert "_… and 100 more new matches; `fundradar calls list --passing` lists them._" in sections
    assert (
        "_… and 180 more changes; `fundradar applications list` and `fundradar calls list --followed` "
        "list their calls._"
    ) in sections
    assert sum(1 for text in sections if text.startswith(":warning: *Deadline moved*")) == 20
    assert blocks[1]["elements"][0]["text"] == "120 new matches · 200 changes"
    with Session(engine) as session:
        rows = {r.key: r.status for r in session.exec(select(SlackDelivery))}
    keys = [f"alert:new:{c}" for c in new] + [f"alert:change:{m}" for m in moves]
    assert {rows[key] for key in keys} == {"sent"}
    assert run_alerts(engine, slack, at + timedelta(hours=1)) == []  # the counted ones never come later


def test_a_call_closing_today_says_today_and_its_hour_not_zero_days(engine: Any, slack: SlackServer) -> None:
    """A call whose deadline is 17:00 Brussels time on the digest's own day read "closes 24 Aug 2026
    (0 d)", which on a phone reads as already too late; it now reads "closes today at 17:00"."""
    today = add_call(engine, 1, score=0.7, days=0)  # 17:00 Brussels, the digest is at 08:00
    tomorrow = add_call(engine, 2, score=0.6, days=1)
    posted = _digest(engine, slack)
    lines = call_lines(posted)
    assert lines[f"fr_call:{today}"] == "Horizon Europe · closes today at 17:00 · up to €3.0M"
    assert lines[f"fr_call:{tomorrow}"] == \
        "Horizon Europe · closes 25 Aug 2026 17:00 (1 day left) · up to €3.0M"


def call_lines(posted: Any) -> dict[str, str]:
    """Each call section's second line (programme, deadline, amount) of a posted message, by block id."""
    return {
        b["block_id"]: b["text"]["text"].split("\n")[1]
        for b in posted.blocks
        if b.get("block_id", "").startswith("fr_call:")
    }

"""Follow and mute, per strategy: `calls follow|unfollow|mute|unmute`, a followed call's change alerts and
reminders (as an application's call has), and a muted call left out of digests and new-call alerts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.models import CallFollow
from pipeline.notify.digest import collect_digest
from tests.slack_data import (
    CONFIG,
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

ARGS = ["--config", str(CONFIG), "--as-of", "2026-08-24T06:00+00:00"]


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _rows(engine: Any) -> list[tuple[str, int, str, str | None]]:
    with Session(engine) as session:
        rows = session.exec(select(CallFollow).order_by(CallFollow.id))
        return [(r.strategy, r.call_id, r.kind, r.by) for r in rows]


def test_cli_follow_unfollow_mute_unmute(cli: Any, engine: Any) -> None:
    call = add_call(engine, 1)
    def out(*args: str) -> str:
        return cli(*ARGS, "calls", *args).stdout

    assert out("follow", str(call), "--by", "Mette") == (
        f"Following call {call} for {STRATEGY}: its deadline reminders and changes go to the alerts "
        "channel.\n")
    assert out("follow", "REF-1") == f"Call {call} was already followed for {STRATEGY}.\n"
    assert cli(*ARGS, "calls", "mute", str(call)).exit_code == 0
    assert _rows(engine) == [(STRATEGY, call, "follow", "Mette"), (STRATEGY, call, "mute", None)]
    assert out("unfollow", str(call)) == f"Stopped following call {call} for {STRATEGY}.\n"
    assert out("unfollow", str(call)) == f"Call {call} was not followed for {STRATEGY}.\n"
    assert out("unmute", str(call)) == f"Unmuted call {call} for {STRATEGY}.\n"
    assert _rows(engine) == []
    result = cli(*ARGS, "calls", "follow", "999")
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")


def _sections(messages: Any) -> list[str]:
    return [b["text"]["text"] for m in messages for b in m.raw["blocks"] if b["type"] == "section"]


def test_a_followed_call_gets_change_alerts_and_reminders(cli: Any, engine: Any, slack: SlackServer) -> None:
    followed = add_call(engine, 1, days=10)
    bid = add_call(engine, 2, days=10)
    add_call(engine, 3, days=10)  # neither followed nor bid for
    add_application(engine, bid)
    for call in (followed, bid):
        cli(*ARGS, "calls", "follow", str(call), "--by", "Mette")
    outcomes = run_alerts(engine, slack, NOW)  # baseline; the reminders due now are sent
    # one batched message per run; each alert in it is recorded by its own key
    assert sorted(i for o in outcomes for i in o.items) == ["reminder:1:20260903T1500:14",  # application
                                                            f"reminder:follow:{followed}:20260903T1500:14"]
    followed_text = next(t for t in _sections(slack.messages) if "for a call we follow" in t)
    assert followed_text == (":alarm_clock: *10 days left* for a call we follow\n"
                             "*<https://ec.europa.eu/topic/1|Offshore wind call 1>*\n"
                             "closes 3 Sep 2026 17:00 Brussels time · followed by Mette")
    at = NOW + timedelta(hours=3)
    moved = move_deadline(engine, followed, NOW + timedelta(days=20, hours=9), at)
    gone = change_status(engine, bid, "withdrawn", at)
    outcomes = run_alerts(engine, slack, at + timedelta(minutes=1))
    # the bid-for call's change is the application's alert (one, naming the application)
    assert sorted(i for o in outcomes for i in o.items) == sorted([f"alert:change:{moved}",
                                                                   f"alert:change:{gone}"])
    texts = _sections(slack.messages[-1:])
    assert any(t == (":warning: *Deadline moved* for a call we follow\n"
                     "*<https://ec.europa.eu/topic/1|Offshore wind call 1>*\n"
                     "Deadline moved: 3 Sep 2026 17:00 → 13 Sep 2026 17:00 (Brussels time)\n"
                     f"Followed by Mette · `fundradar calls unfollow {followed}`") for t in texts)
    assert any("Followed by application #1" in t for t in texts)
    assert run_alerts(engine, slack, at + timedelta(hours=1)) == []


def test_a_muted_call_leaves_digests_and_new_call_alerts(cli: Any, engine: Any, slack: SlackServer) -> None:
    run_alerts(engine, slack, NOW)  # baseline
    later = NOW + timedelta(hours=1)
    loud = add_call(engine, 1, score=0.8, first_seen=later)
    quiet = add_call(engine, 2, score=0.8, first_seen=later)
    cli(*ARGS, "calls", "mute", str(quiet))
    outcomes = run_alerts(engine, slack, later + timedelta(minutes=5))
    assert [i for o in outcomes for i in o.items] == [f"alert:new:{loud}"]
    channel = loaded().strategy.slack.digests[0]
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, channel, later, NOW - timedelta(days=7))
    assert [c.call_id for c in data.top] == [loud] and data.matching == 1
    cli(*ARGS, "calls", "unmute", str(quiet))
    with Session(engine) as session:
        data = collect_digest(session, loaded().strategy, channel, later, NOW - timedelta(days=7))
    assert sorted(c.call_id for c in data.top) == [loud, quiet]


def test_follows_move_with_a_strategy_rename(engine: Any) -> None:
    from classifiers.feedback import record_mark
    from pipeline.core.db import session_scope
    from pipeline.follow import set_state
    from pipeline.strategy.rename import rename_strategy

    first, second = add_call(engine, 1), add_call(engine, 2)
    with session_scope(engine) as session:
        for call in (first, second):
            set_state(session, "greentech", call, "follow", NOW, "Mette")
        set_state(session, STRATEGY, first, "follow", NOW, "Jens")  # the new name follows it already
        record_mark(session, first, "greentech", "relevant", None, NOW)
    with session_scope(engine) as session:
        rename_strategy(session, "greentech", STRATEGY, known=[STRATEGY])
    assert sorted(_rows(engine)) == [(STRATEGY, first, "follow", "Jens"),
                                     (STRATEGY, second, "follow", "Mette")]

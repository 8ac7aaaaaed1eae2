"""The source-health line of every digest, and the digest when every source failed, through the real
slack_sdk client against the local Web API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from pipeline.core.db import session_scope
from pipeline.core.models import FetchRun
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_alerts, send_digests
from tests.slack_data import NOW, TOKEN, add_call, loaded
from tests.slack_server import SlackServer

SOURCES = ("eu_ft", "euro_access", "interreg_bsr_news", "interreg_no_calendar", "innovation_express")


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def add_run(engine: Engine, source: str, at: datetime, outcome: str = "ok", seen: int = 10) -> None:
    with session_scope(engine) as session:
        session.add(FetchRun(source=source, started_at=at, finished_at=at + timedelta(minutes=1),
                             outcome=outcome, complete=outcome == "ok", seen=seen,
                             error="connection refused" if outcome == "failed" else None))


def _digest(engine, slack):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    outcomes = send_digests(engine, loaded(), NOW, channel="#eu-fundraising", environ=env,
                            pacer=Pacer(sleep=lambda s: None))
    assert [o.status for o in outcomes] == ["sent"]
    (posted,) = slack.posted_to("#eu-fundraising")
    return posted.raw


def test_every_digest_carries_the_source_health_line(engine, slack) -> None:
    add_call(engine, 1, title="R&I in Support of the Clean Industrial Deal", score=0.7)
    for source in SOURCES:
        add_run(engine, source, NOW - timedelta(days=3))
    add_run(engine, "euro_access", NOW - timedelta(days=2), "failed")
    add_run(engine, "euro_access", NOW - timedelta(days=1), "failed")
    add_run(engine, "eu_ft", NOW - timedelta(hours=5), "suspicious")
    raw = _digest(engine, slack)
    assert raw["blocks"][2] == {"type": "context", "elements": [{"type": "mrkdwn", "text": (
        "Sources: 3 of 5 fine · eu_ft suspicious since 24 Aug 03:00 (1 run; last good 21 Aug 08:00) · "
        "euro_access failing since 22 Aug 08:00 (2 runs; last good 21 Aug 08:00)")}]}
    sections = [b["text"]["text"] for b in raw["blocks"] if b["type"] == "section"]
    assert any("R&amp;I in Support of the Clean Industrial Deal" in text for text in sections)
    assert not any("No source could be read" in text for text in sections)


def test_a_digest_whose_sources_all_failed_says_so_not_nothing_matches(engine, slack) -> None:
    for source in SOURCES:
        add_run(engine, source, NOW - timedelta(days=10))
        add_run(engine, source, NOW - timedelta(days=1), "failed")
    raw = _digest(engine, slack)
    assert raw["text"] == "Funding digest for GreenTech Cluster Denmark: no source could be read since the " \
                          "last digest."
    sections = [b["text"]["text"] for b in raw["blocks"] if b["type"] == "section"]
    assert sections == [":warning: *No source could be read since the last digest* (5 of 5 failed): nothing "
                        "new is listed, and what is shown is from the last good runs."]
    assert raw["blocks"][2]["elements"][0]["text"].startswith("Sources: 0 of 5 fine · eu_ft failing since ")


def test_a_digest_whose_sources_never_read_anything_does_not_speak_of_last_good_runs(engine, slack) -> None:
    """The first digest of an installation whose every source failed (a clone offline) said what is
    shown "is from the last good runs", of which there were none."""
    for source in SOURCES:
        add_run(engine, source, NOW - timedelta(days=1), "failed")
    raw = _digest(engine, slack)
    sections = [b["text"]["text"] for b in raw["blocks"] if b["type"] == "section"]
    assert sections == [":warning: *No source could be read since the last digest* (5 of 5 failed): no "
                        "source has been read well yet, so there is nothing to list."]


def _alerts(engine, slack, at):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    return send_alerts(engine, loaded(), at, environ=env, pacer=Pacer(sleep=lambda s: None))


def _sections(message) -> list[str]:
    return [b["text"]["text"] for b in message.raw["blocks"] if b["type"] == "section"]


def test_source_alarm_after_three_bad_runs_once_and_when_it_recovers(engine, slack) -> None:
    _alerts(engine, slack, NOW - timedelta(days=5))  # baseline
    add_run(engine, "euro_access", NOW - timedelta(days=4))
    add_run(engine, "euro_access", NOW - timedelta(days=3), "failed")
    add_run(engine, "euro_access", NOW - timedelta(days=2), "ok", seen=0)  # read nothing
    assert _alerts(engine, slack, NOW - timedelta(days=2) + timedelta(hours=1)) == []  # two bad runs
    add_run(engine, "euro_access", NOW - timedelta(days=1), "suspicious")
    (outcome,) = _alerts(engine, slack, NOW - timedelta(days=1) + timedelta(hours=1))
    assert [k.rsplit(":", 1)[0] for k in outcome.items] == ["alert:source:euro_access"]
    (posted,) = slack.messages
    assert _sections(posted) == ["*Source health*", (
        ":rotating_light: *Source euro_access: 3 bad runs in a row* (failed, read nothing, suspicious) "
        "since 21 Aug 08:00; its listings may be stale.\nLast error: connection refused\n"
        "See `fundradar sources status`.")]
    add_run(engine, "euro_access", NOW - timedelta(hours=20), "failed")
    assert _alerts(engine, slack, NOW - timedelta(hours=19)) == []  # the same streak alarms once
    add_run(engine, "euro_access", NOW - timedelta(hours=2), "ok", seen=42)
    (outcome,) = _alerts(engine, slack, NOW)
    assert [k.rsplit(":", 1)[0] for k in outcome.items] == ["alert:source-ok:euro_access"]
    assert _sections(slack.messages[-1])[1] == (
        ":white_check_mark: *Source euro_access is back*: its run at 24 Aug 06:00 read 42 calls after 4 "
        "bad runs since 21 Aug 08:00.")
    assert _alerts(engine, slack, NOW + timedelta(hours=1)) == []
    assert len(slack.messages) == 2


def test_no_recovery_message_without_an_alarm(engine, slack) -> None:
    for days in (4, 3, 2):
        add_run(engine, "eu_ft", NOW - timedelta(days=days), "failed")
    add_run(engine, "eu_ft", NOW - timedelta(days=1))
    assert _alerts(engine, slack, NOW) == []
    assert slack.messages == []


def test_the_counts_of_failing_sources_leave_out_the_live_only_ones_as_the_sources_line_does(
        engine, slack) -> None:
    """A replay with a broken euro-access recording: the Sources line said '1 of 2 fine' beside three
    live-only sources, and the notification '1 of 5 sources failing', counting those three as read."""
    add_call(engine, 1, title="R&I in Support of the Clean Industrial Deal", score=0.7)
    add_run(engine, "eu_ft", NOW - timedelta(days=1))
    add_run(engine, "euro_access", NOW - timedelta(days=1), "failed")
    for source in SOURCES[2:]:
        add_run(engine, source, NOW - timedelta(days=1), "skipped", seen=0)
    raw = _digest(engine, slack)
    assert raw["blocks"][2]["elements"][0]["text"].startswith(
        "Sources: 1 of 2 fine · 3 live-only sources not in the recording")
    assert "· 0 changes to calls we follow. 1 of 2 sources failing: euro_access. Top: " in raw["text"]


def test_every_source_read_failed_counts_the_sources_read_not_the_live_only_ones(engine, slack) -> None:
    add_run(engine, "eu_ft", NOW - timedelta(days=10))
    add_run(engine, "eu_ft", NOW - timedelta(days=1), "failed")
    add_run(engine, "euro_access", NOW - timedelta(days=1), "failed")
    for source in SOURCES[2:]:
        add_run(engine, source, NOW - timedelta(days=1), "skipped", seen=0)
    raw = _digest(engine, slack)
    sections = [b["text"]["text"] for b in raw["blocks"] if b["type"] == "section"]
    assert sections[0] == (":warning: *No source could be read since the last digest* (2 of 2 failed): "
                           "nothing new is listed, and what is shown is from the last good runs.")


def test_a_time_of_another_year_names_its_year(engine, slack) -> None:
    """A replay whose euro-access recording (October 2025) was broken said 'euro_access failing since
    01 Oct 12:00' in a digest of August 2026, which reads as a day still to come; a time in another
    year than the digest's now names its year."""
    add_call(engine, 1, score=0.7)
    for source in SOURCES[:1] + SOURCES[2:]:
        add_run(engine, source, NOW - timedelta(days=3))
    add_run(engine, "euro_access", NOW - timedelta(days=400))
    add_run(engine, "euro_access", NOW - timedelta(days=330), "failed")
    raw = _digest(engine, slack)
    assert raw["blocks"][2]["elements"][0]["text"] == (
        "Sources: 4 of 5 fine · euro_access failing since 28 Sep 2025 08:00 (1 run; last good 20 Jul 2025 "
        "08:00)")

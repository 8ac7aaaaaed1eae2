"""One digest per channel per period of its schedule, through the real slack_sdk client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from pipeline.core.clock import UTC
from pipeline.core.config import Schedule
from pipeline.core.schedules import crontab_weekdays
from pipeline.notify.delivery import WEBHOOK_CHANNEL, Pacer
from pipeline.notify.jobs import ALREADY_SENT, schedule_period, send_digests, webhook_warnings
from tests.slack_data import NOW, TOKEN, add_call, loaded
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _digest(engine, slack, at, **kw):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    return send_digests(engine, loaded(), at, channel="#eu-fundraising", environ=env,
                        pacer=Pacer(sleep=lambda s: None), **kw)


def test_crontab_weekdays_count_from_sunday() -> None:
    assert crontab_weekdays("1") == "mon"
    assert crontab_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert crontab_weekdays("0,7") == "sun"
    assert crontab_weekdays("*/2") == "sun,tue,thu,sat"
    assert crontab_weekdays("sat,sun") == "sat,sun"


def test_period_of_a_weekly_cron_and_of_an_interval() -> None:
    weekly = Schedule(cron="0 8 * * 1")  # Mondays 08:00 Copenhagen = 06:00 UTC in summer
    assert schedule_period(weekly, "Europe/Copenhagen", NOW) == NOW
    assert schedule_period(weekly, "Europe/Copenhagen", NOW + timedelta(days=6)) == NOW
    assert schedule_period(weekly, "Europe/Copenhagen", NOW - timedelta(minutes=1)) == NOW - timedelta(days=7)
    six_hours = Schedule(every="6h")
    assert schedule_period(six_hours, "Europe/Copenhagen", datetime(2026, 8, 24, 7, 59, tzinfo=UTC)) == \
        datetime(2026, 8, 24, 6, 0, tzinfo=UTC)


def test_one_post_per_period_a_rerun_says_so_and_force_resends(engine, slack) -> None:
    add_call(engine, 1, title="R&I for offshore wind", score=0.7)
    assert [o.status for o in _digest(engine, slack, NOW)] == ["sent"]
    again = _digest(engine, slack, NOW + timedelta(minutes=1))  # `run` and `serve` both at 08:00
    assert [(o.status, o.error) for o in again] == [("already sent", ALREADY_SENT)]
    assert again[0].key == "digest:#eu-fundraising:20260824T0600:1/1"
    assert len(slack.posted_to("#eu-fundraising")) == 1
    forced = _digest(engine, slack, NOW + timedelta(minutes=2), force=True)
    assert [o.status for o in forced] == ["sent"]
    assert len(slack.posted_to("#eu-fundraising")) == 2
    next_week = _digest(engine, slack, NOW + timedelta(days=7, minutes=3))
    assert [(o.status, o.key) for o in next_week] == [("sent", "digest:#eu-fundraising:20260831T0600:1/1")]
    posted = slack.posted_to("#eu-fundraising")
    assert len(posted) == 3
    assert "R&amp;I for offshore wind" in posted[-1].raw["text"]


def test_webhook_mode_says_where_it_went_and_titles_each_digest(engine, slack) -> None:
    add_call(engine, 1, score=0.7)
    env = {"SLACK_WEBHOOK_URL": slack.webhook_url}
    outcomes = send_digests(engine, loaded(), NOW, environ=env, pacer=Pacer(sleep=lambda s: None))
    assert [(o.status, o.channel) for o in outcomes] == [("sent", WEBHOOK_CHANNEL)] * 2
    headers = [m.raw["blocks"][0]["text"]["text"] for m in slack.messages]
    assert [m.via for m in slack.messages] == ["webhook", "webhook"]
    assert headers == ["Funding digest for GreenTech Cluster Denmark",
                       "Funding digest for GreenTech Cluster Denmark: Offshore wind and energy systems"]
    (warning,) = webhook_warnings(loaded(), env)
    assert warning.startswith("strategy greentech-dk: 2 digests (#eu-fundraising, #energy-projects) share "
                              "the webhook in SLACK_WEBHOOK_URL")
    assert webhook_warnings(loaded(), {"SLACK_BOT_TOKEN": TOKEN}) == []

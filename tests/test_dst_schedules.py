"""Schedules on the Europe/Copenhagen daylight-saving days (the autumn night has 02:00-03:00 twice,
the spring night none), through real processes and the real slack_sdk client."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.core.clock import UTC
from pipeline.core.config import Schedule, load_config
from pipeline.core.schedules import cron_trigger
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import ALREADY_SENT, schedule_period, send_digests
from pipeline.serve import trigger_for
from tests.slack_data import CONFIG, TOKEN, add_call
from tests.slack_server import SlackServer

ZONE = "Europe/Copenhagen"


def _config(tmp_path: Path, cron: str) -> Path:
    """The Slack tests' strategy with the weekly digest of #eu-fundraising moved to ``cron``."""
    config = tmp_path / "strategy.yaml"
    text = CONFIG.read_text(encoding="utf-8")
    config.write_text(text.replace('{cron: "0 8 * * 1"}', f'{{cron: "{cron}"}}'), encoding="utf-8")
    return config


def test_the_period_of_an_hourly_digest_in_the_second_pass_of_the_repeated_hour() -> None:
    hourly = Schedule(cron="0 * * * *")
    assert schedule_period(hourly, ZONE, datetime(2026, 10, 25, 1, 35, tzinfo=UTC)) == \
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 winter time


def test_a_digest_asked_for_in_the_second_pass_of_the_repeated_hour_answers(tmp_path: Path,
                                                                            db_url: str) -> None:
    config = _config(tmp_path, "30 2 * * *")
    env = {**os.environ, "FUNDRADAR_DB": db_url}
    fundradar = [sys.executable, "-m", "pipeline.cli.main", "--config", str(config)]
    subprocess.run([*fundradar, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run([*fundradar, "--as-of", "2026-10-25T01:35Z", "digest", "--dry-run",
                           "--channel", "#eu-fundraising"], env=env, capture_output=True, text=True,
                          timeout=60)  # 02:35 winter time; it walked the 02:30 of that night for ever
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == [
        "── #eu-fundraising ─────────────────────────────────────────────",
        "FUNDING DIGEST FOR GREENTECH CLUSTER DENMARK",
        "24 Oct 2026 03:35 – 25 Oct 2026 02:35 (Europe/Copenhagen) · 0 matching open calls, 0 new · "
        "0 changes to calls we follow · deadlines in Brussels time"]


def _fires(trigger, start: datetime, end: datetime) -> list[datetime]:
    """The fire times of ``trigger`` from ``start`` to ``end``, asked as the scheduler asks."""
    fires, previous, now = [], None, start
    while (fire := trigger.get_next_fire_time(previous, now)) is not None and fire < end:
        fires.append(fire.astimezone(UTC))
        previous = now = fire
    return fires


def _catch_up(trigger, next_run: datetime, now: datetime) -> tuple[list[datetime], datetime]:
    """The run times due by ``now`` and the next run, found as APScheduler's ``Job._get_run_times``
    finds them when the scheduler wakes (here stopped after 1000 rather than looping for ever)."""
    due: list[datetime] = []
    while next_run <= now and len(due) < 1000:
        due.append(next_run)
        next_run = trigger.get_next_fire_time(next_run, now).astimezone(UTC)
    return due, next_run


def test_a_daily_time_in_the_autumn_nights_repeated_hour_fires_once() -> None:
    day = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    trigger = trigger_for(Schedule(cron="30 2 * * *"), ZONE, jitter=0)  # as serve schedules it and stores it
    for each in (trigger, pickle.loads(pickle.dumps(trigger))):
        assert _fires(each, day, day + timedelta(days=2)) == [
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC)]


def test_a_jittered_time_of_the_repeated_hour_is_caught_up_once(tmp_path: Path) -> None:
    trigger = trigger_for(Schedule(cron="30 2 * * *"), ZONE)  # the default jitter, up to 300 s
    ran = datetime(2026, 10, 25, 0, 33, tzinfo=UTC)  # 02:33 summer time, the first pass jittered
    due, next_run = _catch_up(trigger, ran, datetime(2026, 10, 25, 0, 40, tzinfo=UTC))
    assert due == [ran]
    assert datetime(2026, 10, 26, 1, 30, tzinfo=UTC) <= next_run <= datetime(2026, 10, 26, 1, 35, tzinfo=UTC)


def test_a_daily_time_the_spring_night_skips_fires_once_an_hour_later_by_the_wall() -> None:
    day = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert _fires(cron_trigger("30 2 * * *", ZONE), day, day + timedelta(days=2)) == [
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC), datetime(2027, 3, 29, 0, 30, tzinfo=UTC)]


def test_an_hour_given_as_a_wildcard_keeps_both_passes_of_the_repeated_hour() -> None:
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 summer time
    hours = [datetime(2026, 10, 25, h, 0, tzinfo=UTC) for h in (0, 1, 2)]  # 02:00, 02:00 again, 03:00
    assert _fires(cron_trigger("0 * * * *", ZONE), start, start + timedelta(hours=3)) == hours
    assert _fires(cron_trigger("0 */2 * * *", ZONE), start, start + timedelta(hours=3)) == hours[:2]


def test_the_digest_period_of_the_repeated_hour_starts_at_its_first_pass() -> None:
    daily = Schedule(cron="30 2 * * *")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time
    assert schedule_period(daily, ZONE, first + timedelta(minutes=5)) == first
    assert schedule_period(daily, ZONE, first + timedelta(hours=1, minutes=5)) == first  # 02:35 winter


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def test_a_digest_at_0230_on_the_autumn_night_is_posted_once(engine, slack, tmp_path: Path) -> None:
    loaded = load_config(_config(tmp_path, "30 2 * * *"))
    add_call(engine, 1, title="Offshore wind O&M", score=0.7)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    statuses = []
    for at in (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)):
        outcomes = send_digests(engine, loaded, at, channel="#eu-fundraising", environ=env,
                                pacer=Pacer(sleep=lambda s: None))
        statuses.append([(o.status, o.error) for o in outcomes])
    assert statuses == [[("sent", None)], [("already sent", ALREADY_SENT)]]
    assert len(slack.posted_to("#eu-fundraising")) == 1

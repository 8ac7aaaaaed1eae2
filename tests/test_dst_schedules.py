"""Schedules on the Europe/Copenhagen daylight-saving days (the autumn night has 02:00-03:00 twice,
the spring night none), through real processes and the real slack_sdk client."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from pipeline.core.clock import UTC
from pipeline.core.config import Schedule
from pipeline.notify.jobs import schedule_period
from tests.slack_data import CONFIG

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

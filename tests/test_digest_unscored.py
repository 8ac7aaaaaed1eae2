"""A digest when calls are stored but not scored: the scoring after the source run failed (a full
disk, a statement timeout, a crash; serve logs it and goes on) or has not finished. Before, the digest
said "No open call matches the strategy" although nothing had been matched at all, and was posted once
for the week; now it says how many calls are not scored yet and how to score them. The feed is served
by the local server and read by the real client; the digest goes to the local Slack."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.core.config import load_config
from pipeline.notify.delivery import Pacer
from pipeline.notify.jobs import send_digests
from pipeline.sync import follow_and_score, plan_sources, run_sources
from tests.localserver import LocalServer, Reply
from tests.slack_data import TOKEN
from tests.slack_server import SlackServer
from tests.test_serve_faults import FEED
from watcher.http import make_client

RSS = {"Content-Type": "application/rss+xml"}
AT = datetime(2025, 10, 20, 6, 0, tzinfo=UTC)  # a Monday 08:00, a week after the feed's items


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _config(tmp_path: Path, url: str):
    path = tmp_path / "strategy.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: faults
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          energy: {{label: Energy, keywords: [offshore wind, hydrogen]}}
        slack:
          digests:
            - {{channel: "#eu-fundraising", schedule: {{cron: "0 8 * * 1"}}}}
        sources:
          bsr_news: {{type: feed, url: '{url}', programme: Interreg Baltic Sea Region}}
        """), encoding="utf-8")
    return load_config(path)


def _sections(posted) -> list[str]:
    return [b["text"]["text"] for b in posted.raw["blocks"] if b["type"] == "section"]


def _digest(engine, config, slack):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    return send_digests(engine, config, AT + timedelta(minutes=5), environ=env,
                        pacer=Pacer(sleep=lambda s: None))


def test_a_digest_with_calls_not_scored_yet_does_not_say_nothing_matches(
        engine, slack, server: LocalServer, tmp_path: Path) -> None:
    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), RSS))
    config = _config(tmp_path, server.url("/feed/"))
    with make_client(timeout=2, retries=0) as client:
        [run] = run_sources(engine, plan_sources(engine, config), as_of=AT, client=client)
    assert run.outcome == "ok" and run.new >= 1
    # no scoring: as the failed scoring step left the run's calls
    (outcome,) = _digest(engine, config, slack)
    assert outcome.status == "sent"
    (posted,) = slack.messages
    sections = _sections(posted)
    assert not any("No open call" in s for s in sections), sections
    calls = "1 open call is" if run.new == 1 else f"{run.new} open calls are"
    assert sections[0] == (f":warning: _{calls} not scored yet (the scoring after the source runs failed "
                           "or has not finished; `fundradar score` scores them, and serve's log says why "
                           "it failed), so this digest cannot list what matches among them._")
    assert "not scored yet" in posted.raw["text"]


def test_once_scored_the_note_is_gone(engine, slack, server: LocalServer, tmp_path: Path) -> None:
    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), RSS))
    config = _config(tmp_path, server.url("/feed/"))
    with make_client(timeout=2, retries=0) as client:
        run_sources(engine, plan_sources(engine, config), as_of=AT, client=client)
    follow_and_score(engine, config, AT)
    _digest(engine, config, slack)
    (posted,) = slack.messages
    assert not any("not scored yet" in s for s in _sections(posted))

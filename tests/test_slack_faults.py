"""Digests and alerts under faults, as a channel meets them: a run killed between posting and logging,
Slack refusing or failing for hours, sources down, an empty database, every call turned down by the
rules; through the real slack_sdk client against the local Web API (and the real CLI in its own process
for the kill)."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from sqlmodel import select as query

from pipeline.core.clock import UTC
from pipeline.core.config import load_config
from pipeline.core.db import session_scope
from pipeline.core.models import FetchRun, SlackDelivery
from pipeline.notify.delivery import MAX_ATTEMPTS, Pacer
from pipeline.notify.jobs import send_digests
from pipeline.sync import follow_and_score, plan_sources, run_sources
from tests.localserver import LocalServer, Reply
from tests.slack_data import CONFIG, NOW, TOKEN, add_call, loaded, run_alerts
from tests.slack_server import SlackServer
from watcher.http import make_client

ROOT = Path(__file__).resolve().parent.parent
CHANNEL = "#eu-fundraising"  # weekly, Mondays 08:00
TIMEOUT = 60


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _digest(engine, slack, at):
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    return send_digests(engine, loaded(), at, channel=CHANNEL, environ=env, pacer=Pacer(sleep=lambda s: None))


def _period_line(posted) -> str:
    return posted.raw["blocks"][1]["elements"][0]["text"].split(" · ")[0]


def _statuses(engine) -> dict[str, str]:
    with Session(engine) as session:
        return {row.key: row.status for row in session.exec(query(SlackDelivery))
                if row.kind == "digest"}


def digest_killed_after_posting(db_url: str, slack: SlackServer) -> str:
    """``fundradar digest`` in its own process, frozen after Slack took the post and before the row
    says ``sent`` (the second UPDATE of its row), then SIGKILLed there."""
    env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url,
           "PYTHONPATH": str(ROOT)}
    args = ["--db", db_url, "--config", str(CONFIG), "--as-of", NOW.isoformat(), "digest",
            "--channel", CHANNEL]
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "tests.crashpoint", str(write_fd), "UPDATE slack_delivery",
                             "2", "--", *args], cwd=ROOT, env=env, pass_fds=(write_fd,),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], TIMEOUT)
        line = os.read(read_fd, 4096).decode() if ready else ""
        assert line, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(TIMEOUT) == -signal.SIGKILL
        return line
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_a_digest_killed_after_posting_is_not_posted_again_and_next_weeks_still_comes(
        engine, db_url: str, slack: SlackServer) -> None:
    add_call(engine, 1, title="R&I for offshore wind", score=0.7)
    frozen = digest_killed_after_posting(db_url, slack)
    assert "SET status='sent'" in frozen
    assert len(slack.messages) == 1 and _statuses(engine) == {
        "digest:#eu-fundraising:20260824T0600:1/1": "sending"}
    # serve's digest job runs again a week later: last week's post is found, this week's is sent
    outcomes = _digest(engine, slack, NOW + timedelta(days=7))
    assert [(o.key, o.status) for o in outcomes] == [("digest:#eu-fundraising:20260831T0600:1/1", "sent")]
    assert [_period_line(m) for m in slack.messages] == ["17 Aug 2026 – 24 Aug 2026 (Europe/Copenhagen)",
                                                         "24 Aug 2026 – 31 Aug 2026 (Europe/Copenhagen)"]
    assert _statuses(engine) == {"digest:#eu-fundraising:20260824T0600:1/1": "sent",
                                 "digest:#eu-fundraising:20260831T0600:1/1": "sent"}


def test_a_digest_slack_refused_is_replaced_by_the_next_one_covering_both_weeks(engine, slack) -> None:
    add_call(engine, 1, score=0.7)
    assert [o.status for o in _digest(engine, slack, NOW - timedelta(days=7))] == ["sent"]
    add_call(engine, 2, title="Hydrogen ports", score=0.6, first_seen=NOW - timedelta(days=1))
    slack.token = "xoxb-rotated"  # the token was revoked: Slack answers invalid_auth
    (refused,) = _digest(engine, slack, NOW)
    assert refused.status == "failed" and "invalid_auth" in (refused.error or "")
    slack.token = TOKEN  # the new token is in the environment a week later
    outcomes = _digest(engine, slack, NOW + timedelta(days=7))
    assert [(o.key, o.status) for o in outcomes] == [("digest:#eu-fundraising:20260831T0600:1/1", "sent")]
    posted = slack.messages[-1]
    # one digest, this week's, from the end of the last one the channel got: call 2 is new in it
    assert len(slack.messages) == 2
    assert _period_line(posted) == "17 Aug 2026 – 31 Aug 2026 (Europe/Copenhagen)"
    assert "|Hydrogen ports>*  :new:" in str(posted.raw["blocks"])
    assert _statuses(engine)["digest:#eu-fundraising:20260824T0600:1/1"] == "superseded"


def _sections(posted) -> list[str]:
    return [b["text"]["text"] for b in posted.raw["blocks"] if b["type"] == "section"]


def test_a_digest_before_any_source_ran_says_so_not_nothing_matches(engine, slack) -> None:
    config = load_config(ROOT / "config" / "strategy.example.yaml")  # five sources, none run yet
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    (outcome,) = send_digests(engine, config, NOW, channel=CHANNEL, environ=env,
                              pacer=Pacer(sleep=lambda s: None))
    assert outcome.status == "sent"
    (posted,) = slack.messages
    assert posted.raw["blocks"][2]["elements"][0]["text"] == "Sources: 5 configured, none has run yet"
    assert _sections(posted)[0] == ("_No source has run yet, so there is nothing to list: run `fundradar "
                                    "sync`, or wait for the first runs of `fundradar serve`._")
    assert posted.raw["text"].endswith(": no source has run yet.")


def test_a_digest_whose_matching_calls_the_rules_all_turned_down_says_so(engine, slack) -> None:
    for n in (1, 2, 3):
        add_call(engine, n, score=0.8, passed=False)
    _digest(engine, slack, NOW)
    (posted,) = slack.messages
    assert "0 matching open calls, 0 new, 3 left out by the strategy rules" in str(posted.raw["blocks"][1])
    assert _sections(posted)[0] == ("_No open call passes the strategy rules: the 3 calls above the "
                                    "channel's minimum score each fail one (`fundradar calls list` marks "
                                    "them ✗, `fundradar calls why ID` says which rule)._")


FEED = ROOT / "tests" / "fixtures" / "feed" / "interreg_baltic_feed.xml"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_digest_with_some_sources_down_names_them_where_nothing_matches(
        engine, slack, server: LocalServer, tmp_path: Path) -> None:
    rss = {"Content-Type": "application/rss+xml"}
    server.route("GET", "/feed/", lambda r: Reply(200, FEED.read_bytes(), rss))
    sources = {"bsr_news": server.url("/feed/"), "refused": f"http://127.0.0.1:{_closed_port()}/feed/",
               "no_dns": "http://no-such-host.invalid/feed/"}
    path = tmp_path / "strategy.yaml"
    path.write_text(textwrap.dedent("""\
        name: faults
        organisation: Test Cluster
        timezone: Europe/Copenhagen
        focus_areas:
          energy: {label: Energy, keywords: [offshore wind, hydrogen]}
        slack:
          digests:
            - {channel: "#eu-fundraising", schedule: {cron: "0 8 * * 1"}}
        sources:
        """) + "".join(f"  {name}: {{type: feed, url: '{url}', programme: Interreg Baltic Sea Region, "
                       "timeout_seconds: 2, schedule: {every: 6h}}\n" for name, url in sources.items()),
        encoding="utf-8")
    config = load_config(path)
    at = datetime(2025, 10, 20, 6, 0, tzinfo=UTC)  # a Monday 08:00, a week after the feed's items
    with make_client(timeout=2, retries=0) as client:  # the main job's steps, without retry pauses
        runs = run_sources(engine, plan_sources(engine, config), as_of=at, client=client)
    follow_and_score(engine, config, at)
    assert [(r.source, r.outcome) for r in runs] == [("bsr_news", "ok"), ("refused", "failed"),
                                                             ("no_dns", "failed")]
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    (outcome,) = send_digests(engine, config, at + timedelta(minutes=5), environ=env,
                              pacer=Pacer(sleep=lambda s: None))
    assert outcome.status == "sent"
    (posted,) = slack.messages
    assert posted.raw["blocks"][2]["elements"][0]["text"].startswith("Sources: 1 of 3 fine · refused failing")
    assert _sections(posted)[0] == ("_No open call from the sources read matches the strategy above the "
                                    "channel's minimum score; refused and no_dns could not be read, so "
                                    "their calls may be missing._")
    # the notification a phone shows is the text: it names them too
    assert posted.raw["text"] == ("Funding digest for Test Cluster: 0 matching open calls, 0 new · 0 changes "
                                  "to calls we follow. 2 of 3 sources failing: refused, no_dns.")


@pytest.mark.parametrize("refusal", ["invalid_auth", "not_in_channel"])
def test_alerts_slack_refuses_for_hours_arrive_once_the_setup_is_fixed(engine, slack, refusal: str) -> None:
    assert run_alerts(engine, slack, NOW) == []  # the baseline
    call = add_call(engine, 10, title="Hydrogen valleys", score=0.8, first_seen=NOW + timedelta(minutes=30))
    if refusal == "invalid_auth":
        slack.token = "xoxb-rotated"  # the token was revoked overnight
    else:
        slack.left.add("eu-fundraising")  # someone removed the bot from the channel
    hint = {"invalid_auth": "check the bot token in the environment",
            "not_in_channel": "invite the bot to the channel (/invite @fundradar)"}[refusal]
    for hour in range(1, 9):  # serve's hourly alerts job all night
        (outcome,) = run_alerts(engine, slack, NOW + timedelta(hours=hour))
        # every run says what to do, not only the first (later ones look the channel up first)
        assert outcome.status == "failed" and f"{refusal}; {hint}" in (outcome.error or ""), outcome.error
    slack.token, slack.left = TOKEN, set()  # fixed in the morning
    (outcome,) = run_alerts(engine, slack, NOW + timedelta(hours=9))
    assert (outcome.status, outcome.items) == ("sent", [f"alert:new:{call}"])
    (posted,) = slack.messages
    assert "Hydrogen valleys" in posted.raw["text"]


def test_an_alert_slack_answers_500_for_two_runs_is_sent_on_the_third(engine, slack) -> None:
    assert run_alerts(engine, slack, NOW) == []  # the baseline
    call = add_call(engine, 10, title="Hydrogen valleys", score=0.8, first_seen=NOW + timedelta(minutes=30))
    slack.fail_next("chat.postMessage", "500", times=6)  # an incident: every post of two runs fails
    for hour in (1, 2):
        (outcome,) = run_alerts(engine, slack, NOW + timedelta(hours=hour))
        assert outcome.status == "failed" and outcome.error.endswith("it is sent on the next run")
    (outcome,) = run_alerts(engine, slack, NOW + timedelta(hours=3))
    assert (outcome.status, outcome.items) == ("sent", [f"alert:new:{call}"])
    assert len(slack.messages) == 1


def test_a_digest_before_some_sources_ran_says_which_where_nothing_matches(engine, slack) -> None:
    config = load_config(ROOT / "config" / "strategy.example.yaml")
    with session_scope(engine) as session:  # only eu_ft has run (serve's first hour; sync --source eu_ft)
        session.add(FetchRun(source="eu_ft", started_at=NOW - timedelta(hours=1), finished_at=NOW,
                             outcome="ok", complete=True, seen=700))
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    send_digests(engine, config, NOW, channel=CHANNEL, environ=env, pacer=Pacer(sleep=lambda s: None))
    (posted,) = slack.messages
    assert _sections(posted)[0] == (
        "_No open call from the sources read matches the strategy above the channel's minimum score; "
        "euro_access, interreg_bsr_news, interreg_no_calendar and innovation_express have not run yet, so "
        "their calls may be missing._")


def test_an_alert_slack_refuses_every_time_says_when_it_is_given_up(engine, slack, cli) -> None:
    assert run_alerts(engine, slack, NOW) == []  # the baseline
    add_call(engine, 10, title="Hydrogen valleys", score=0.8, first_seen=NOW + timedelta(minutes=30))
    slack.fail_next("chat.postMessage", "msg_too_long", times=MAX_ATTEMPTS)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    for hour in range(1, MAX_ATTEMPTS + 1):
        result = cli("--config", str(CONFIG), "--as-of", (NOW + timedelta(hours=hour)).isoformat(), "alerts",
                     env=env)
        assert result.exit_code == 1
        said = " ".join(result.stderr.split())
        if hour < MAX_ATTEMPTS:
            assert "they are retried on the next run" in said, said
        else:  # the last refusal: it is not sent again, and the command does not say it will be
            assert "msg_too_long" in said and "retried on the next run" not in said, said
            assert f"given up after {MAX_ATTEMPTS} refusals; it is not sent again" in said, said
    later = cli("--config", str(CONFIG), "--as-of", (NOW + timedelta(hours=9)).isoformat(), "alerts", env=env)
    assert later.exit_code == 0 and slack.messages == []


def test_two_digest_runs_at_once_post_the_digest_once(engine, slack) -> None:
    """``fundradar digest`` (or ``run``) while serve's digest job is posting the same digest to a slow
    Slack: the second waits for the first and finds the period's digest sent."""
    import threading

    add_call(engine, 1, score=0.7)
    slack.fail_next("chat.postMessage", "slow_before_post", delay=1.5)
    first: list = []
    posting = threading.Thread(target=lambda: first.extend(_digest(engine, slack, NOW)))
    posting.start()
    while "chat.postMessage" not in slack.calls:  # the first run's post is on its way
        time.sleep(0.01)
    second = _digest(engine, slack, NOW + timedelta(seconds=1))
    posting.join(timeout=30)
    assert [o.status for o in first] == ["sent"]
    assert [o.status for o in second] == ["already sent"]
    assert len(slack.messages) == 1


def test_two_alert_runs_at_once_post_each_alert_once(engine, slack) -> None:
    import threading

    assert run_alerts(engine, slack, NOW) == []  # the baseline
    add_call(engine, 10, title="Hydrogen valleys", score=0.8, first_seen=NOW + timedelta(minutes=30))
    slack.fail_next("chat.postMessage", "slow_before_post", delay=1.5)
    first: list = []
    hour = NOW + timedelta(hours=1)
    posting = threading.Thread(target=lambda: first.extend(run_alerts(engine, slack, hour)))
    posting.start()
    while "chat.postMessage" not in slack.calls:
        time.sleep(0.01)
    second = run_alerts(engine, slack, NOW + timedelta(hours=1, seconds=1))
    posting.join(timeout=30)
    assert [o.status for o in first] == ["sent"] and second == []
    assert len(slack.messages) == 1

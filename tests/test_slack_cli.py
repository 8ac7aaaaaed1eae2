"""``fundradar digest`` and ``fundradar alerts`` end to end: terminal, dry run, Slack, errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from pipeline.core.models import SlackDelivery
from tests.slack_data import CONFIG, NOW, TOKEN, add_application, add_call
from tests.slack_server import SlackServer

ARGS = ["--config", str(CONFIG), "--as-of", NOW.isoformat()]


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


@pytest.fixture
def data(engine) -> int:
    return add_call(engine, 1, title="Offshore wind <!channel>", score=0.7)


def _rows(engine) -> list[SlackDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(SlackDelivery)))


def test_digest_without_slack_goes_to_the_terminal(cli, engine, data) -> None:
    result = cli(*ARGS, "digest", "--channel", "energy-projects", env={})
    assert result.exit_code == 0
    assert result.stderr == "No Slack token or webhook in the environment; showing the messages here.\n"
    assert result.stdout == (
        "── #energy-projects ────────────────────────────────────────────\n"
        "FUNDING DIGEST FOR GREENTECH CLUSTER DENMARK: OFFSHORE WIND AND ENERGY SYSTEMS\n"
        "23 Aug 2026 08:00 – 24 Aug 2026 08:00 (Europe/Copenhagen) · 1 matching open call, 0 new · "
        "0 changes to calls we follow · deadlines in Brussels time\n"
        "Sources: none configured\n"
        "Top call\n"
        "\n"
        "Offshore wind <!channel> (https://ec.europa.eu/topic/1)\n"
        "Horizon Europe · closes 23 Oct 2026 17:00 (60 days left) · up to €3.0M\n"
        "Why: Offshore wind and energy systems: offshore wind\n")
    assert _rows(engine) == []


def test_dry_run_json_prints_block_kit_and_sends_nothing(cli, engine, data, slack) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    result = cli(*ARGS, "digest", "--dry-run", "--json", env=env)
    assert (result.exit_code, result.stderr) == (0, "")
    outcomes = json.loads(result.stdout)
    assert [(o["channel"], o["status"]) for o in outcomes] == [("#eu-fundraising", "dry run"),
                                                                 ("#energy-projects", "dry run")]
    assert outcomes[0]["blocks"][0] == {"type": "header", "text": {
        "type": "plain_text", "text": "Funding digest for GreenTech Cluster Denmark", "emoji": True}}
    assert "&lt;!channel&gt;" in outcomes[0]["blocks"][4]["text"]["text"]
    assert slack.messages == [] and slack.calls == []
    assert _rows(engine) == []


def test_digest_posts_to_slack_and_never_shows_the_token(cli, engine, data, slack, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    result = cli(*ARGS, "-vv", "digest", "--channel", "#eu-fundraising", env=env)
    assert result.exit_code == 0
    assert result.stdout == ("Status  Channel          Message                                   Error\n"
                             "sent    #eu-fundraising  digest:#eu-fundraising:20260824T0600:1/1       \n")
    assert len(slack.posted_to("#eu-fundraising")) == 1
    assert TOKEN not in result.stdout + result.stderr + caplog.text
    # run again a minute later, in the same period of the schedule: nothing is posted twice
    later = ["--config", str(CONFIG), "--as-of", (NOW + timedelta(minutes=1)).isoformat()]
    result = cli(*later, "digest", "--channel", "#eu-fundraising", env=env)
    assert (result.exit_code, result.stderr) == (
        0, "The digest was already sent for this period; --force sends it again.\n")
    shown = " ".join(result.stdout.split())
    assert shown.startswith("Status Channel Message Error already sent #eu-fundraising")
    assert len(slack.messages) == 1
    # --force resends it, under a key of its own
    result = cli(*later, "digest", "--channel", "#eu-fundraising", "--force", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    assert [(o["status"], o["key"]) for o in json.loads(result.stdout)] == [
        ("sent", "digest:#eu-fundraising:20260824T0600:resent-20260824T060100:1/1")]
    assert len(slack.posted_to("#eu-fundraising")) == 2


def test_digest_refused_by_slack_exits_1_and_is_kept_for_the_next_run(cli, engine, data, slack) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-wrong", "SLACK_API_URL": slack.api_url}
    result = cli(*ARGS, "digest", "--channel", "#eu-fundraising", env=env)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: 1 of 1 Slack messages not sent (Slack refused the message for #eu-fundraising: invalid_auth; "
        "check the bot token in the environment); they are retried on the next run")
    assert [r.status for r in _rows(engine) if r.kind == "digest"] == ["failed"]
    env["SLACK_BOT_TOKEN"] = TOKEN
    result = cli(*ARGS, "digest", "--channel", "#eu-fundraising", env=env)
    assert result.exit_code == 0
    assert [r.status for r in _rows(engine) if r.kind == "digest"] == ["sent"]
    assert len(slack.messages) == 1


def test_unknown_channel_is_a_usage_error(cli, data) -> None:
    result = cli(*ARGS, "digest", "--channel", "#nope", env={})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("Error: no digest is configured for channel '#nope'; the strategy has "
                             "#eu-fundraising, #energy-projects (slack.digests)\n")


def test_alerts_dry_run_and_webhook(cli, engine, data, slack) -> None:
    add_application(engine, data)
    other = add_call(engine, 2, days=2)
    add_application(engine, other, idea="Port electrification")
    result = cli(*ARGS, "alerts", "--dry-run", env={})
    assert result.exit_code == 0
    assert result.stdout == (
        "── #eu-fundraising ─────────────────────────────────────────────\n"
        "FUNDING ALERTS FOR GREENTECH CLUSTER DENMARK\n"
        "1 reminder\n"
        "\n"
        "Reminders\n"
        "\n"
        ":alarm_clock: 2 days left for application #2 (Port electrification): writing\n"
        "Offshore wind call 2 (https://ec.europa.eu/topic/2)\n"
        "closes 26 Aug 2026 17:00 Brussels time · owner Mette\n")
    result = cli(*ARGS, "alerts", env={"SLACK_WEBHOOK_URL": slack.webhook_url})
    assert result.exit_code == 0
    assert [m.via for m in slack.messages] == ["webhook"]
    assert cli(*ARGS, "alerts", env={"SLACK_WEBHOOK_URL": slack.webhook_url}).stderr == "No alerts to send.\n"


def test_alerts_without_alert_config_is_a_config_error(cli, tmp_path) -> None:
    config = tmp_path / "strategy.yaml"
    config.write_text(CONFIG.read_text().split("  alerts:")[0], encoding="utf-8")
    result = cli("--config", str(config), "alerts", env={})
    assert result.exit_code == 2
    assert result.stderr == (f"Error: {config}: slack: no alerts configured; add slack.alerts with a "
                             "channel, e.g. alerts: {channel: '#eu-funding'}\n")


def test_config_check_warns_when_several_digests_share_one_webhook(cli, tmp_path: Path) -> None:
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x"}
    result = cli("--config", str(CONFIG), "config", "check", env=env)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "Warning: strategy greentech-dk: 2 digests (#eu-fundraising, #energy-projects) share the webhook in "
        "SLACK_WEBHOOK_URL, which posts to one channel; set SLACK_BOT_TOKEN (a bot token) to reach each "
        "channel",
        f"Note: no database at {tmp_path / 'fundradar.db'}: keywords and exclude terms not checked against "
        "stored calls; run fundradar sync, then check again"]
    assert "Warning" not in cli("--config", str(CONFIG), "config", "check").stderr


def test_alerts_with_a_long_retry_after_are_deferred_not_failed(cli, engine, data, slack) -> None:
    other = add_call(engine, 2, days=2)
    add_application(engine, other, idea="Port electrification")
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    slack.fail_next("chat.postMessage", "429", retry_after=3600)
    result = cli(*ARGS, "alerts", env=env)
    assert result.exit_code == 0  # deferred is not a failure
    assert result.stdout.split()[4] == "deferred"
    assert result.stderr == ("1 of 1 Slack messages deferred: Slack rate limit on #eu-fundraising: asked to "
                             "wait 3600 s, more than the 30 s a run waits; sent on the next run\n")
    assert not slack.messages
    result = cli(*ARGS, "alerts", env=env)
    assert (result.exit_code, result.stdout.split()[4]) == (0, "sent")
    assert len(slack.messages) == 1


def test_no_alerts_on_the_first_run_says_why(cli, engine, data, slack) -> None:
    """`alerts --dry-run` on a fresh database answered "No alerts to send." and nothing said that the
    first run counts what is stored as seen, so a secretariat trying its thresholds saw no alert."""
    note = ("note: the first alerts run (one without --dry-run) counts every call stored then as seen, so "
            "no channel is flooded; new-call alerts are for the calls found after it (reminders are due "
            "either way)\n")
    result = cli(*ARGS, "alerts", "--dry-run", env={})
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No alerts to send.\n" + note)
    result = cli(*ARGS, "alerts", env={"SLACK_WEBHOOK_URL": slack.webhook_url})
    assert (result.exit_code, result.stderr) == (0, "No alerts to send.\n" + note.replace(
        " (one without --dry-run)", ""))
    # the baseline is there now: no note
    result = cli(*ARGS, "alerts", "--dry-run", env={})
    assert (result.exit_code, result.stderr) == (0, "No alerts to send.\n")


def test_digest_by_hand_first_rechecks_the_rules_the_clock_changed_as_serve_does(cli, engine) -> None:
    """A call whose deadline was 7 weeks away when it was scored fails the 6-week rule two weeks later:
    serve's digest job rechecks such verdicts first, but `fundradar digest` (a cron line beside `sync`)
    listed the call as matching and passing the rules, from the verdict of the day it was scored."""
    from classifiers.scoring import score_pending
    from pipeline.core.config import load_config
    from pipeline.core.db import session_scope
    from pipeline.core.models import Call, FetchRun

    path = Path(__file__).parent / "fixtures" / "strategies" / "greentech.yaml"
    due = NOW + timedelta(weeks=7)
    with session_scope(engine) as session:
        session.add(Call(source="eu_ft", external_id="R1", programme="Horizon Europe", title="Offshore wind",
                         text="Floating offshore wind turbines and energy islands.", content_hash="h1",
                         deadline=due, deadlines=[{"at": due.isoformat(), "time_assumed": False}],
                         type_of_action="RIA", max_contribution=3_000_000, first_seen=NOW, last_seen=NOW))
        for source in load_config(path).sources:
            session.add(FetchRun(source=source, started_at=NOW, finished_at=NOW, outcome="ok", complete=True,
                                 seen=1))
    score_pending(engine, load_config(path), NOW)
    later = NOW + timedelta(weeks=2)
    for dry_run in (["--dry-run"], []):
        result = cli("--config", str(path), "--as-of", later.isoformat(), "digest", "--json", *dry_run,
                     env={"SLACK_BOT_TOKEN": "", "SLACK_WEBHOOK_URL": ""})
        assert result.exit_code == 0, result.output
        (outcome,) = json.loads(result.stdout)
        assert outcome["text"].startswith("Funding digest for GreenTech Cluster Denmark: 0 matching open "
                                          "calls, 0 new, 1 left out by the strategy rules · ")


def test_alerts_by_hand_alert_no_call_the_clock_made_the_rules_reject(cli, engine) -> None:
    from classifiers.scoring import score_pending
    from pipeline.core.config import load_config
    from pipeline.core.db import session_scope
    from pipeline.core.models import Call
    from tests.test_multi_strategy import CHANNELS

    path = Path(__file__).parent / "fixtures" / "strategies" / "greentech.yaml"
    with SlackServer(token=TOKEN, channels=dict(CHANNELS)) as server:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": server.api_url}
        assert cli("--config", str(path), "--as-of", NOW.isoformat(), "alerts", env=env).exit_code == 0
        found = NOW + timedelta(hours=1)
        due = found + timedelta(weeks=6, days=1)
        with session_scope(engine) as session:
            session.add(Call(source="eu_ft", external_id="R1", programme="Horizon Europe",
                             title="Offshore wind", content_hash="h1", type_of_action="RIA",
                             text="Floating offshore wind turbines and energy islands.",
                             deadline=due, deadlines=[{"at": due.isoformat(), "time_assumed": False}],
                             max_contribution=3_000_000, first_seen=found, last_seen=found))
        score_pending(engine, load_config(path), found)  # 6 weeks and a day before its deadline: passes
        later = found + timedelta(days=2)  # the alerts job did not run in between
        result = cli("--config", str(path), "--as-of", later.isoformat(), "alerts", "--json", env=env)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == [] and server.messages == []


def test_alerts_printed_without_slack_do_not_claim_to_be_the_first_run(cli, engine, data, slack) -> None:
    """Without a token or webhook the alerts are printed and nothing is recorded, so the next run is
    again "the first": the note said "the first alerts run counts every call stored then as seen" as if
    this printed run had been it."""
    note = ("note: the first alerts run (one sending to Slack; without a token or webhook nothing is "
            "recorded) counts every call stored then as seen, so no channel is flooded; new-call alerts are "
            "for the calls found after it (reminders are due either way)\n")
    for _ in range(2):
        result = cli(*ARGS, "alerts", env={})
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No alerts to send.\n" + note)
    result = cli(*ARGS, "alerts", env={"SLACK_WEBHOOK_URL": slack.webhook_url})
    assert (result.exit_code, result.stderr) == (0, "No alerts to send.\n" + note.replace(
        " (one sending to Slack; without a token or webhook nothing is recorded)", ""))


def test_a_bot_token_never_posts_a_digest_to_a_channel_the_strategy_does_not_name(cli, engine, data, slack,
                                                                                 tmp_path) -> None:
    """A strategy with Slack alerts but no digests: with a bot token, `fundradar digest` (and `run`) posted
    a digest to '#eu-funding', a channel the cluster never wrote. It now says where to name one; the
    terminal preview and a webhook (whose channel Slack fixed) keep the default."""
    path = tmp_path / "alerts_only.yaml"
    path.write_text("name: byg-no\norganisation: Byg\nfocus_areas:\n  energy:\n    label: Energy\n"
                    "    keywords: [offshore wind]\nslack:\n  alerts: {channel: '#byg'}\n", encoding="utf-8")
    args = ["--config", str(path), "--as-of", NOW.isoformat(), "digest"]
    result = cli(*args, env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: {path}: slack.digests: no digest channel configured, so the bot token has none to post "
        "to; add one, e.g. digests: [{channel: '#eu-funding'}]\n")
    assert not slack.messages and not _rows(engine)
    result = cli(*args, "--dry-run", env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url})
    assert result.exit_code == 0 and result.stdout.startswith("── #eu-funding ──")

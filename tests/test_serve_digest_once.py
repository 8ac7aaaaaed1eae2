"""One main job for ``run`` and ``serve``, seen from Slack: the same recorded portal answer read by
``fundradar run`` into one database and by serve's source job into another gives the same digest
message (text, blocks, key) from serve's scheduled digest job; a serve restarted later that day posts
it no second time; and with two clusters in one installation, serve's jobs post each cluster's digest
once, to its own channel, across a restart and a ``fundradar digest`` by hand. Real SQLite files, the
recording served over HTTP by the local portal, the local Slack Web API through slack_sdk."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from pipeline.core.config import load_config
from pipeline.core.db import open_database
from pipeline.core.models import SlackDelivery
from pipeline.serve import Service
from tests.localserver import LocalServer
from tests.slack_data import NOW, TOKEN
from tests.slack_server import SlackServer
from tests.test_eu_ft_sync import SEARCH_PATH, Portal, as_of
from tests.test_multi_strategy import CHANNELS, FOLDER, add_scored_call

AT = as_of("2026-08-22")  # the recording's day, a Saturday: the daily digest's 08:00 has passed


def _config(path: Path, server: LocalServer) -> Path:
    path.write_text(textwrap.dedent(f"""\
        name: one-job
        organisation: Test Cluster
        focus_areas:
          maritime:
            label: Green shipping and ports
            keywords: [shipping, ports, waterborne transport]
        sources:
          eu_ft:
            type: eu_ft
            url: {server.url(SEARCH_PATH)}
            programmes: {{}}
            schedule: {{every: 1h, jitter_seconds: 0}}
        slack:
          digests:
            - channel: "#eu-fundraising"
              schedule: {{cron: "0 8 * * *"}}
              top: 5
        """), encoding="utf-8")
    return path


def _posted(slack: SlackServer) -> list[dict]:
    return [{"channel": m.channel, "text": m.text, "blocks": m.blocks, "metadata": m.raw.get("metadata")}
            for m in slack.messages]


def _digest_rows(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return sorted((r.key, r.status) for r in session.exec(select(SlackDelivery)) if r.kind == "digest")


def test_serve_posts_the_digest_run_posts_and_a_restart_the_same_day_posts_it_no_more(
        cli, engine, server: LocalServer, samples: Path, tmp_path: Path, monkeypatch) -> None:
    Portal(server, samples).serve("2026-08-22")
    path = _config(tmp_path / "strategy.yaml", server)
    with SlackServer(token=TOKEN) as by_run, SlackServer(token=TOKEN) as by_serve:
        result = cli("--config", str(path), "--as-of", AT.isoformat(), "run",
                     env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": by_run.api_url})
        assert result.exit_code == 0, result.output
        assert result.stdout.split() == ["Status", "Channel", "Message", "Error", "sent", "#eu-fundraising",
                                         "digest:#eu-fundraising:20260822T0600:1/1"]

        monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)  # serve reads Slack's settings from its environment
        monkeypatch.setenv("SLACK_API_URL", by_serve.api_url)
        served = open_database(f"sqlite:///{tmp_path / 'serve.db'}")
        try:
            clock = {"now": AT}
            service = Service(served, load_config(path), now=lambda: clock["now"], reload_seconds=0)
            service.start()
            try:
                ran = service.run_source("eu_ft")  # serve's source job
                assert ran is not None and (ran.outcome, ran.new) == ("ok", 723)
                (outcome,) = service.run("digest", "#eu-fundraising")  # serve's digest job
                assert outcome.status == "sent"
            finally:
                service.stop()
            assert _posted(by_serve) == _posted(by_run)
            (message,) = _posted(by_serve)
            assert message["text"].startswith("Funding digest for Test Cluster: ")
            assert len([b for b in message["blocks"] if b.get("block_id", "").startswith("fr_call:")]) == 5

            # restarted two hours later, the same day: the job, its next run kept, finds it sent
            clock["now"] = AT + timedelta(hours=2)
            again = Service(served, load_config(path), now=lambda: clock["now"], reload_seconds=0)
            again.start()
            try:
                (outcome,) = again.run("digest", "#eu-fundraising")
                assert outcome.status == "already sent"
            finally:
                again.stop()
            assert len(by_serve.messages) == 1
            assert _digest_rows(served) == _digest_rows(engine) == [
                ("digest:#eu-fundraising:20260822T0600:1/1", "sent")]
        finally:
            served.dispose()


def test_serve_posts_each_clusters_digest_once_across_a_restart_and_a_digest_by_hand(
        cli, engine, monkeypatch) -> None:
    add_scored_call(engine, 1, "greentech-dk", "offshore_energy", "Floating offshore wind farms")
    add_scored_call(engine, 2, "foodbio-dk", "food_bio", "Precision fermentation for food")
    with SlackServer(token=TOKEN, channels=dict(CHANNELS)) as slack:
        for name, value in {"SLACK_BOT_TOKEN": TOKEN, "FOODBIO_SLACK_TOKEN": TOKEN,
                            "SLACK_API_URL": slack.api_url}.items():
            monkeypatch.setenv(name, value)
        config = load_config(FOLDER)
        for later in (timedelta(0), timedelta(hours=3)):  # serve, then serve restarted that day
            service = Service(engine, config, now=lambda at=NOW + later: at, reload_seconds=0)
            assert {"digest:greentech-dk:#greentech-funding", "digest:foodbio-dk:#foodbio-funding"} <= set(
                service.job_specs())
            service.start()
            try:
                statuses = [o.status for channel, strategy in (("#greentech-funding", "greentech-dk"),
                                                              ("#foodbio-funding", "foodbio-dk"))
                            for o in service.run("digest", channel, strategy)]
            finally:
                service.stop()
            assert statuses == (["sent", "sent"] if not later else ["already sent", "already sent"])
        by_hand = cli("--config", str(FOLDER), "--as-of", (NOW + timedelta(hours=4)).isoformat(), "digest",
                      "--json")
        assert [(o["channel"], o["status"]) for o in json.loads(by_hand.stdout)] == [
            ("#foodbio-funding", "already sent"), ("#greentech-funding", "already sent")]
        (food,) = slack.posted_to("#foodbio-funding")
        (green,) = slack.posted_to("#greentech-funding")
        assert "Precision fermentation" in json.dumps(food.blocks)
        assert "Floating" not in json.dumps(food.blocks)
        assert "Floating offshore wind" in json.dumps(green.blocks)
        assert "Precision" not in json.dumps(green.blocks)
    assert _digest_rows(engine) == [("foodbio-dk:digest:#foodbio-funding:20260818T0700:1/1", "sent"),
                                    ("greentech-dk:digest:#greentech-funding:20260824T0600:1/1", "sent")]

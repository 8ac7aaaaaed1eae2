"""Slack as the workbench: clicks on a digest's buttons over Socket Mode, with the real SocketModeClient
against a local WebSocket server playing Slack, and the real WebClient against the local Web API."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.models import CallFollow, Idea, SlackInteraction
from pipeline.notify.actions import STATUS_MARK, payload_problems
from pipeline.notify.interact import Interactions
from pipeline.notify.jobs import send_digests
from pipeline.notify.socket import SocketRunner, start_interactions, stop_interactions
from tests import slack_clicks
from tests.slack_clicks import click, count, digest, env, marks
from tests.slack_data import NOW, STRATEGY, TOKEN, add_call, loaded
from tests.slack_socket import SocketSlack

slack = slack_clicks.slack  # the local Slack with Socket Mode (fixture)
runner = slack_clicks.runner  # fundradar's Socket Mode connection to it (fixture)


def test_a_click_stores_one_mark_and_updates_the_message(engine: Any, slack: SocketSlack,
                                                          runner: SocketRunner) -> None:
    first = add_call(engine, 1, score=0.7)
    add_call(engine, 2, score=0.5)
    posted = digest(engine, slack)
    original = [dict(b) for b in posted.blocks]
    assert payload_problems(original) == []

    envelope = slack.socket.send(click(posted, "relevant", first))
    assert slack.socket.wait_ack(envelope) is None
    assert runner.wait_handled(1)
    assert marks(engine) == [(first, None, "relevant", "mette")]  # as `calls mark ID relevant --by mette`
    (update,) = slack.updates
    assert update.ts == posted.ts and update.channel == posted.channel
    changed = [i for i, (old, new) in enumerate(zip(original, update.blocks, strict=True)) if old != new]
    assert [original[i]["block_id"] for i in changed] == [f"fr_call:{first}"]
    text = update.blocks[changed[0]]["text"]["text"]
    assert text == original[changed[0]]["text"]["text"] + f"\n{STATUS_MARK}✓ relevant — <@U0METTE>"

    # Slack redelivers the same envelope (no ack seen in time): nothing new
    again = slack.socket.send(click(posted, "relevant", first), envelope_id=envelope, retry_attempt=1)
    slack.socket.wait_ack(again)
    assert runner.wait_handled(2)
    # a double tap: a second click of the same button by the same person
    double = slack.socket.send(click(posted, "relevant", first, action_ts="1787000100.000900"))
    slack.socket.wait_ack(double)
    assert runner.wait_handled(3)
    assert marks(engine) == [(first, None, "relevant", "mette")]
    # the double tap is kept as unchanged, so that its own redelivery is answered once
    with Session(engine) as session:
        assert [r.kind for r in session.exec(select(SlackInteraction).order_by(SlackInteraction.id))] == \
            ["relevant", "unchanged"]
    assert len(slack.updates) == 1

    # changing one's mind is a new mark, and the line shows it instead
    slack.socket.send(click(slack.posted_to("#eu-fundraising")[0], "irrelevant", first,
                            action_ts="1787000200.000100"))
    assert runner.wait_handled(4)
    assert marks(engine)[-1] == (first, None, "irrelevant", "mette")
    line = next(b for b in slack.updates[-1].blocks if b.get("block_id") == f"fr_call:{first}")
    text = line["text"]["text"]
    assert text.endswith(f"\n{STATUS_MARK}✗ not for us — <@U0METTE>") and "✓ relevant" not in text


def test_a_click_from_another_channel_or_for_another_strategy_is_refused(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    first = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "relevant", first, channel="C0RANDOM03"))  # the message shared there
    slack.socket.send(click(posted, "follow", first, strategy="foodbio-dk"))
    other = add_call(engine, 2, score=0.1)  # below the channel's min score: not in this message
    slack.socket.send(click(posted, "mute", other))
    assert runner.wait_handled(3)
    assert marks(engine) == [] and count(engine, CallFollow) == 0 and count(engine, SlackInteraction) == 0
    assert slack.updates == []
    told = sorted((e["channel"], e["user"], e["text"]) for e in slack.ephemeral)  # handled in any order
    assert told == sorted([
        ("C0RANDOM03", "U0METTE",
         "This channel is not one of strategy greentech-dk's channels (#eu-fundraising, #energy-projects); "
         "use the buttons in those (slack.digests, slack.alerts). Nothing was stored."),
        (posted.channel, "U0METTE", "This button belongs to strategy 'foodbio-dk', which this fundradar "
                                    "does not serve; nothing was stored."),
        (posted.channel, "U0METTE",
         f"This message does not show call {other} for strategy 'greentech-dk'; nothing was stored.")])


def test_follow_and_mute_from_slack(engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    first = add_call(engine, 1, score=0.7)
    second = add_call(engine, 2, score=0.5)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "follow", first))
    assert runner.wait_handled(1)
    slack.socket.send(click(posted, "follow", first, action_ts="1787000100.000500"))  # double tap
    assert runner.wait_handled(2)
    with Session(engine) as session:
        rows = session.exec(select(CallFollow)).all()
    assert [(r.strategy, r.call_id, r.kind, r.by, r.at) for r in rows] == [
        (STRATEGY, first, "follow", "<@U0METTE>", NOW)]
    (update,) = slack.updates
    buttons = next(b for b in update.blocks if b.get("block_id") == f"fr_actions:{STRATEGY}:{first}")
    assert [e.get("action_id") for e in buttons["elements"]] == [
        f"fr:relevant:{first}", f"fr:irrelevant:{first}", f"fr:unfollow:{first}", f"fr:mute:{first}",
        f"fr:more:{first}"]

    slack.socket.send(click(slack.posted_to("#eu-fundraising")[0], "mute", second, user="U0JENS",
                            username="jens"))
    assert runner.wait_handled(3)
    send_digests(engine, loaded(), NOW + timedelta(days=7), channel="#eu-fundraising", environ=env(slack))
    latest = slack.posted_to("#eu-fundraising")[-1]
    shown = {b["block_id"] for b in latest.blocks if b.get("block_id", "").startswith("fr_call:")}
    assert shown == {f"fr_call:{first}"}  # the muted call has left the digest


def test_start_idea_opens_a_prefilled_modal_and_the_submission_adds_the_idea(
        engine: Any, slack: SocketSlack, runner: SocketRunner) -> None:
    first = add_call(engine, 1, title="Floating offshore wind O&M", score=0.7)
    posted = digest(engine, slack)
    slack.socket.send(click(posted, "idea", first))
    assert runner.wait_handled(1)
    (view,) = slack.views
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert fields["title"]["initial_value"] == "Floating offshore wind O&M"
    assert fields["owner"]["initial_value"] == "mette"
    assert fields["focus"]["initial_option"]["value"] == "offshore_energy"

    submission = {"type": "view_submission", "team": {"id": "T0TEST"},
                  "user": {"id": "U0METTE", "username": "mette"},
                  "view": {"id": "V0TEST", "callback_id": view["callback_id"],
                           "private_metadata": view["private_metadata"], "state": {"values": {
                               "title": {"value": {"type": "plain_text_input", "value": "Wind O&M robots"}},
                               "owner": {"value": {"type": "plain_text_input", "value": "Mette"}},
                               "focus": {"value": {"type": "static_select",
                                                   "selected_option": {"value": "offshore_energy"}}}}}}}
    envelope = slack.socket.send(submission)
    assert slack.socket.wait_ack(envelope) is None
    slack.socket.send(submission, envelope_id=envelope, retry_attempt=1)  # redelivered
    assert runner.wait_handled(3)
    with Session(engine) as session:
        ideas = session.exec(select(Idea)).all()
    assert [(i.strategy, i.title, i.owner, i.focus_areas) for i in ideas] == [
        (STRATEGY, "Wind O&M robots", "Mette", ["offshore_energy"])]
    assert ideas[0].description.startswith(f"Started from call #{first}: Floating offshore wind O&M")
    assert slack.ephemeral[-1]["text"] == (f"Added idea #{ideas[0].id} for call {first}; "
                                           f"see `fundradar ideas show {ideas[0].id}`.")

    empty = {**submission, "view": {**submission["view"], "id": "V0OTHER", "state": {"values": {
        "title": {"value": {"type": "plain_text_input", "value": "  "}}}}}}
    assert slack.socket.wait_ack(slack.socket.send(empty)) == {
        "response_action": "errors", "errors": {"title": "Give the idea a title."}}


def test_the_ack_does_not_wait_for_the_clicks_write(engine: Any, slack: SocketSlack,
                                                    runner: SocketRunner) -> None:
    """Slack wants the ack within 3 s: it is sent before the click is stored, so a write waiting for
    the database (another process holding SQLite's write lock) never delays it."""
    import sqlite3

    call = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held until the ack is in
    try:
        envelope = slack.socket.send(click(posted, "relevant", call))
        assert slack.socket.wait_ack(envelope) is None
        assert runner.handled == 0 and marks(engine) == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert runner.wait_handled(1)
    assert marks(engine) == [(call, None, "relevant", "mette")]


def test_a_dropped_socket_reconnects_and_says_so(engine: Any, slack: SocketSlack, runner: SocketRunner,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    first = add_call(engine, 1, score=0.7)
    posted = digest(engine, slack)
    caplog.set_level(logging.INFO, logger="fundradar.slack")
    slack.socket.drop()
    slack.socket.wait_connected(total=2)
    envelope = slack.socket.send(click(posted, "relevant", first))
    slack.socket.wait_ack(envelope)
    assert runner.wait_handled(1)
    assert marks(engine) == [(first, None, "relevant", "mette")]
    messages = [r.getMessage() for r in caplog.records if r.name == "fundradar.slack"]
    assert "Slack Socket Mode connection lost; reconnecting" in messages
    assert "Slack Socket Mode reconnected (connection 2)" in messages
    assert slack.calls.count("apps.connections.open") == 2


def test_a_failed_connection_is_retried_with_backoff(engine: Any, slack: SocketSlack,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="fundradar.slack")
    config = loaded()
    interactions = Interactions(engine, lambda: config.strategies, lambda strategy: None)
    runner = SocketRunner("xapp-revoked", interactions, base_url=slack.api_url, backoff_start=0.05,
                          backoff_max=0.2)
    runner.start()
    try:
        for _ in range(100):
            if sum("retrying in" in r.getMessage() for r in caplog.records) >= 3:
                break
            runner.stopping.wait(0.05)
        failures = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
        assert len(failures) >= 3
        assert "(attempt 1: " in failures[0] and "invalid_auth" in failures[0]
        assert "(attempt 3: " in failures[2]
        assert slack.socket.connected_total == 0
    finally:
        runner.stop()


def test_no_app_token_no_socket(engine: Any, slack: SocketSlack) -> None:
    config = loaded()
    assert start_interactions(engine, lambda: config, environ={"SLACK_BOT_TOKEN": TOKEN}) == []


def test_a_relevant_click_reranks_the_next_digest_as_the_cli_mark_does(
        cli: Any, engine: Any, slack: SocketSlack, tmp_path: Any) -> None:
    from classifiers.scoring import score_pending
    from pipeline.core.config import DEFAULT_STRATEGY, load_config
    from pipeline.core.db import open_database
    from pipeline.notify.digest import collect_digest
    from tests.scoring_data import NOW as SCORED
    from tests.scoring_data import insert_calls
    from tests.test_scoring import TEXTS

    config = load_config(DEFAULT_STRATEGY)
    channel = config.strategy.slack.digests[0]
    by_slack = open_database(f"sqlite:///{tmp_path / 'slack.db'}")

    def order(db: Any) -> list[int]:
        with Session(db) as session:
            data = collect_digest(session, config.strategy, channel, SCORED, SCORED - timedelta(days=7))
        return [t.call_id for t in data.top]

    try:
        for db in (engine, by_slack):
            ids = insert_calls(db, TEXTS)
            score_pending(db, config, SCORED)
        before = order(engine)
        shipping = ids[1]
        assert order(by_slack) == before and before.index(shipping) > 0

        # the CLI's mark in one database ...
        result = cli("--config", str(DEFAULT_STRATEGY), "--as-of", SCORED.isoformat(), "calls", "mark",
                     str(shipping), "relevant", "--by", "mette")
        assert result.exit_code == 0
        # ... and a click on the digest's Relevant button in the other
        environ = env(slack)
        send_digests(by_slack, config, SCORED, channel=channel.channel, environ=environ)
        (posted,) = slack.posted_to(channel.channel)
        runners = start_interactions(by_slack, lambda: config, environ=environ, now=lambda: SCORED)
        try:
            slack.socket.wait_connected()
            slack.socket.wait_ack(slack.socket.send(click(posted, "relevant", shipping)))
            assert runners[0].wait_handled(1)
        finally:
            stop_interactions(runners)
        assert marks(by_slack) == marks(engine) == [(shipping, None, "relevant", "mette")]

        def scores(db: Any) -> list[tuple[int, str, float]]:
            from pipeline.core.models import Score
            with Session(db) as session:
                return sorted((s.call_id, s.focus_area, round(s.score, 6)) for s in session.exec(
                    select(Score).where(Score.strategy == config.strategy.name)))

        marked_before = scores(engine)
        for db in (engine, by_slack):
            score_pending(db, config, SCORED)
        # the click re-ranks exactly as the CLI's mark does: the same scores, the same digest order
        # (with the gated matcher these four calls keep their order; the marked one gains)
        assert scores(by_slack) == scores(engine) != marked_before
        assert order(by_slack) == order(engine)
        best = [max(s for c, _, s in rows if c == shipping) for rows in (marked_before, scores(engine))]
        assert best[1] >= best[0]
    finally:
        by_slack.dispose()


def test_serve_runs_the_socket_while_it_runs(engine: Any, slack: SocketSlack,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.serve import Service

    for name, value in env(slack).items():
        monkeypatch.setenv(name, value)
    service = Service(engine, loaded(), reload_seconds=None)
    service.start()
    try:
        slack.socket.wait_connected()
        assert len(service.interactions) == 1
    finally:
        service.stop()
    assert service.interactions == []


def test_buttons_keep_block_kit_limits_in_long_digests_and_alerts(engine: Any) -> None:
    from pipeline.core.models import Call, Score
    from pipeline.notify.actions import MAX_ACTIONS_ELEMENTS, add_actions, call_actions
    from pipeline.notify.alerts import new_call_message
    from pipeline.notify.digest import build_digest, collect_digest

    strategy = loaded().strategy
    channel = strategy.slack.digests[0].model_copy(update={"top": 45})
    for n in range(1, 46):
        add_call(engine, n, title="Long title " * 40, score=0.3 + n / 100)
    with Session(engine) as session:
        data = collect_digest(session, strategy, channel, NOW, NOW - timedelta(days=7))
    messages = build_digest(data)
    assert len(messages) > 1
    for message in messages:
        assert payload_problems(message.blocks) == []  # <= 50 blocks, unique ids, <= 25 per actions
    actions = [b for m in messages for b in m.blocks if b["type"] == "actions"]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert len(ids) == 45 * 5 and len(set(ids)) == len(ids)
    assert len(call_actions(STRATEGY, 1).elements) <= MAX_ACTIONS_ELEMENTS

    call = Call(id=7, source="eu_ft", external_id="X", title="A call", first_seen=NOW, last_seen=NOW)
    score = Score(call_id=7, strategy=STRATEGY, focus_area="offshore_energy", score=0.5, computed_at=NOW)
    alert = add_actions(new_call_message("#eu-fundraising", call, score, "Offshore", NOW), STRATEGY, 7)
    assert payload_problems(alert.blocks) == [] and alert.blocks[-1]["type"] == "actions"
    full = type(alert)(alert.channel, alert.text, [{"type": "divider"}] * 50)
    assert add_actions(full, STRATEGY, 7) is full  # at 50 blocks no room: left as it is
    problems = payload_problems([call_actions(STRATEGY, 1).to_dict(), call_actions(STRATEGY, 1).to_dict()])
    assert "action id fr:relevant:1 repeated" in problems

"""Defects found and left in round 6: commands in alerts naming the strategy of a config folder, the
source-recovery alert's count, a rate-limited source's error, ...; through the real clients against
local servers into a real SQLite file (and the real PostgreSQL server)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.db import session_scope
from pipeline.core.models import CallFollow
from tests.conftest import FIXTURES
from tests.slack_data import NOW, STRATEGY, TOKEN, add_call, move_deadline
from tests.slack_server import SlackServer


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _folder_of_two(tmp_path: Path) -> Any:
    from pipeline.core.config import load_config

    folder = tmp_path / "clusters"
    folder.mkdir()
    # foodbio-dk is the first by file name, the one a command answers for without --strategy
    (folder / "a-foodbio.yaml").write_text((FIXTURES / "strategies" / "foodbio.yaml").read_text("utf-8"),
                                           encoding="utf-8")
    (folder / "greentech.yaml").write_text((FIXTURES / "config" / "slack_strategy.yaml").read_text("utf-8"),
                                           encoding="utf-8")
    return load_config(folder).only(STRATEGY)


def _texts(slack: SlackServer) -> list[str]:
    return [e["text"] if isinstance(e, dict) else e for m in slack.messages for b in m.blocks
            for e in ([b["text"]["text"]] if b["type"] == "section" else
                      [x["text"] for x in b.get("elements", [])] if b["type"] == "context" else [])]


# In a config folder of several strategies the new-call alert's "`fundradar calls show ID`" and the
# followed call's "`fundradar calls unfollow ID`" answered for the first strategy by file name: the
# unfollow said "was not followed" and left the call followed.


def test_the_commands_of_a_folders_alerts_name_its_strategy(engine: Any, slack: SlackServer,
                                                            tmp_path: Path) -> None:
    from pipeline.notify.delivery import Pacer
    from pipeline.notify.jobs import send_alerts

    config = _folder_of_two(tmp_path)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    pacer = Pacer(sleep=lambda s: None)
    followed = add_call(engine, 1, days=40)
    with session_scope(engine) as session:
        session.add(CallFollow(strategy=STRATEGY, call_id=followed, kind="follow", by="Mette", at=NOW))
    assert send_alerts(engine, config, NOW, environ=env, pacer=pacer) == []  # the baseline
    at = NOW + timedelta(hours=1)
    new = add_call(engine, 2, score=0.9, first_seen=at)
    move_deadline(engine, followed, NOW + timedelta(days=50, hours=9), at)
    send_alerts(engine, config, at + timedelta(minutes=1), environ=env, pacer=pacer)
    text = "\n".join(_texts(slack))
    assert f"`fundradar --strategy {STRATEGY} calls show {new}`" in text, text
    assert f"Followed by Mette · `fundradar --strategy {STRATEGY} calls unfollow {followed}`" in text, text
    assert "`fundradar calls" not in text, text


# The source-recovery alert read "its run at 24 Aug 06:00 read 42 after 4 bad runs": 42 of what? It
# says calls (tests/test_slack_health.py pins the whole line).


def test_the_recovery_alert_counts_calls() -> None:
    from pipeline.core.models import FetchRun
    from pipeline.notify.alerts import source_message

    bad = [FetchRun(source="news", started_at=NOW - timedelta(days=d), outcome="failed") for d in (1, 2, 3)]
    back = FetchRun(source="news", started_at=NOW, outcome="ok", seen=1)
    message = source_message("#alerts", "news", bad, back, "Europe/Copenhagen")
    assert message.blocks[0]["text"]["text"] == (
        ":white_check_mark: *Source news is back*: its run at 24 Aug 08:00 read 1 call after 3 bad runs "
        "since 21 Aug 08:00.")


# A source answering 429 (too many requests) after every retry was reported "HTTP 429 from URL (after 2
# retries); the source is failing, try again later", the words of a server error: a 429 is the source
# limiting how often it is asked, and its Retry-After says when it will answer again.


def test_a_429_after_its_retries_says_rate_limited_and_when(server: Any) -> None:
    from pipeline.core.errors import FetchError
    from tests.localserver import Reply
    from watcher.http import fetch_text, make_client

    server.route("GET", "/wait", lambda request: Reply(429, "slow down", {"Retry-After": "1"}))
    server.route("GET", "/bare", lambda request: Reply(429, "slow down"))
    # a client each: a host that failed after its retries is not retried again in the same run
    with make_client(retries=2, backoff=0.01) as client, pytest.raises(FetchError) as told:
        fetch_text(client, server.url("/wait"), source="news")
    with make_client(retries=2, backoff=0.01) as client, pytest.raises(FetchError) as bare:
        fetch_text(client, server.url("/bare"), source="news")
    assert str(told.value) == (f"source 'news': HTTP 429 from {server.url('/wait')} (after 2 retries); the "
                               "source is rate-limiting these requests (too many requests), try again in "
                               "1 s (its Retry-After)")
    assert str(bare.value) == (f"source 'news': HTTP 429 from {server.url('/bare')} (after 2 retries); the "
                               "source is rate-limiting these requests (too many requests), try again "
                               "later (it gave no Retry-After)")


def test_a_429_raised_by_an_adapter_is_worded_alike() -> None:
    import httpx

    from watcher.runner import describe_exception

    request = httpx.Request("GET", "https://example.org/api")
    response = httpx.Response(429, headers={"Retry-After": "90"}, request=request)
    error = httpx.HTTPStatusError("429", request=request, response=response)
    assert describe_exception("api", error) == (
        "HTTP 429 from https://example.org/api; the source is rate-limiting these requests (too many "
        "requests), try again in 90 s (its Retry-After)")


# "15-Mar-2027" and "15‑March‑2027" (a non-breaking hyphen, U+2011, as word processors write it) gave
# no date: the call had no deadline. Both are read as 15 March 2027 (17:00 assumed), as "15-03-2027"
# with such hyphens is.


@pytest.mark.parametrize("written", ["15-Mar-2027", "15\u2011March\u20112027", "15\u2010mar\u20102027",
                                     "15\u201103\u20112027", "15-marts-2027"])
def test_a_date_written_with_hyphens_is_read(written: str) -> None:
    from datetime import UTC, datetime

    from watcher.dates import call_dates

    found = call_dates(f"Frist/Deadline: {written}. Read the call text.")
    assert [(d.at, d.time_assumed) for d in found.deadlines] == [(datetime(2027, 3, 15, 16, 0, tzinfo=UTC),
                                                                  True)]


# A PostgreSQL server that froze (a VM paused, a network path dropping packets, no reset sent) held a
# query, or a new connection, for ever: libpq waits on a silent peer by default. The engine and the
# read commands' own connection now set TCP keepalives, a TCP user timeout and a connect timeout, so a
# dead peer fails in bounded time with the engine's one-line error; a URL's own values win.

PG_LIMITS = {"keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10",
             "keepalives_count": "3", "tcp_user_timeout": "60000", "connect_timeout": "10"}


def _parameters(url: str) -> dict[str, str]:
    from pipeline.core.db import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return connection.connection.driver_connection.info.get_parameters()
    finally:
        engine.dispose()


def test_postgresql_connections_give_up_on_a_silent_server(pg_url: str) -> None:
    from pipeline.core.sql import connect

    assert PG_LIMITS.items() <= _parameters(pg_url).items()
    own = _parameters(f"{pg_url}?connect_timeout=3&keepalives_idle=5")
    assert (own["connect_timeout"], own["keepalives_idle"], own["keepalives_count"]) == ("3", "5", "3")
    database = connect(pg_url.replace("postgresql+psycopg://", "postgresql://"))
    assert database is not None
    try:
        assert PG_LIMITS.items() <= database.connection.info.get_parameters().items()
    finally:
        database.connection.close()


def test_a_server_that_never_answers_is_one_line() -> None:
    import socket

    from pipeline.core.db import open_database
    from pipeline.core.errors import StoreError

    silent = socket.socket()  # accepts the connection (the kernel's backlog) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    port = silent.getsockname()[1]
    url = f"postgresql+psycopg://fundradar@127.0.0.1:{port}/fundradar?connect_timeout=1&sslmode=disable"
    try:
        with pytest.raises(StoreError) as caught:
            open_database(url)
    finally:
        silent.close()
    assert str(caught.value) == (
        f"cannot open database {url}: connection timeout expired; the server did not answer within the "
        "connect timeout (it is frozen or unreachable, or a firewall drops the packets): check that it is "
        "up and reachable, and FUNDRADAR_DB or --db")


# home_country and target_countries took any two capital letters: "UK" or "EL" (the EU's own codes for
# the United Kingdom and Greece) or "XX" passed config check, and a home_country of EL was never among a
# programme's eligible countries (GR), so every call failed its eligible_country rule. Each is now an ISO
# 3166-1 alpha-2 code, the EU's own ones named as such; funding_rules.yaml's country lists alike.

EXAMPLE = (Path(__file__).resolve().parents[1] / "config" / "strategy.example.yaml").read_text("utf-8")


@pytest.mark.parametrize("change, message", [
    (("home_country: DK", "home_country: EL"),
     "10: home_country: 'EL' is the EU's code for Greece; ISO 3166 and this config write GR"),
    (("home_country: DK", "home_country: ZZ"),  # CLDR's "Unknown Region"
     "10: home_country: 'ZZ' is no ISO 3166 country code; write the two letters of a country, such as "
     "DK, SE or DE"),
    (("home_country: DK", "home_country: XX"),
     "10: home_country: 'XX' is no ISO 3166 country code; write the two letters of a country, such as "
     "DK, SE or DE"),
    (("target_countries: [DK, SE, NO, DE,", "target_countries: [DK, UK, NO, DE,"),
     "13: target_countries[1]: 'UK' is the EU's code for the United Kingdom; ISO 3166 and this config "
     "write GB"),
])
def test_a_country_code_is_an_iso_one(tmp_path: Path, cli: Any, change: tuple[str, str],
                                      message: str) -> None:
    assert EXAMPLE.count(change[0]) == 1
    path = tmp_path / "strategy.yaml"
    path.write_text(EXAMPLE.replace(*change), encoding="utf-8")
    result = cli("--config", str(path), "config", "check")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {path}:{message}\n")


def test_a_funding_rules_country_is_an_iso_one(tmp_path: Path) -> None:
    from pipeline.core.config import ConfigError, load_funding_rules

    rules = (Path(__file__).resolve().parents[1] / "config" / "funding_rules.yaml").read_text("utf-8")
    assert rules.count("eligible_countries: [DK, SE, NO]") == 1
    path = tmp_path / "funding_rules.yaml"
    path.write_text(rules.replace("eligible_countries: [DK, SE, NO]", "eligible_countries: [DK, SE, XK, QQ]"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_funding_rules(path)
    assert "eligible_countries[3]: 'QQ' is no ISO 3166 country code" in str(caught.value), str(caught.value)


# The redraw of a call's section after a tap made room for its status line by cutting the text at a
# fixed length: in a section near Slack's 3,000 characters the cut fell inside an "&amp;" (shown as
# "&am") or a "<url|title>" link (the rest of the message shown as raw markup). It is cut whole, as the
# digest's own truncate does.


@pytest.mark.parametrize("tail", ["R&amp;D", "<https://ec.europa.eu/topic/7|Offshore wind &amp; ports>"])
def test_a_redrawn_section_is_cut_on_a_safe_boundary(tail: str) -> None:
    from pipeline.notify.actions import MAX_SECTION_CHARS, call_block_id, redraw, status_line

    line = "\n\u2063" + status_line("follow", "U0METTE")
    for shift in range(len(tail) + 2):  # the cut falls at each place in the tail, and just past it
        body = "x" * (MAX_SECTION_CHARS - len(line) - shift) + " " + tail
        block = {"type": "section", "block_id": call_block_id(7), "text": {"type": "mrkdwn", "text": body}}
        (drawn,) = redraw([block], STRATEGY, 7, "follow", status_line("follow", "U0METTE"))
        text = drawn["text"]["text"]
        assert len(text) <= MAX_SECTION_CHARS and text.endswith(line), shift
        kept = text.removesuffix(line)
        assert kept == body or (kept.endswith("…") and tail not in kept and "&am" not in kept.replace(
            "&amp;", "") and "<https" not in kept), (shift, kept[-80:])


# A focus area's key is the Start idea form's option value, which Slack takes only up to 150
# characters: a strategy with a longer key (valid everywhere else) had every form refused
# (views.open: invalid_arguments), so the button did nothing but say so. Such a key's option carries a
# short stable id that the submission maps back; the idea gets the area.


def test_the_start_idea_form_opens_with_a_focus_area_key_past_150_characters(engine: Any,
                                                                            tmp_path: Path) -> None:
    import json

    from sqlmodel import Session, select

    from pipeline.core.config import load_config
    from pipeline.core.models import Call, Idea
    from pipeline.notify.idea_form import IDEA_CALLBACK, idea_modal
    from pipeline.notify.interact import Interactions

    long_key = "offshore_energy_" + "and_wind_" * 18  # 178 characters
    path = tmp_path / "strategy.yaml"
    path.write_text((FIXTURES / "config" / "slack_strategy.yaml").read_text("utf-8")
                    .replace("offshore_energy", long_key), encoding="utf-8")
    strategy = load_config(path).strategy
    call_id = add_call(engine, 1, score=0.7, area=long_key)
    with Session(engine) as session:
        call = session.get(Call, call_id)
    meta = {"s": strategy.name, "c": call_id, "ch": "C0EUFUND", "chn": "eu-fundraising", "ts": "1.2"}
    view = idea_modal(strategy, call, long_key, "mette", meta)
    (focus,) = [b["element"] for b in view["blocks"] if b.get("block_id") == "focus"]
    values = [o["value"] for o in focus["options"]]
    assert all(len(v) <= 150 for v in values) and len(set(values)) == len(values), values
    assert focus["initial_option"]["text"]["text"] == strategy.focus_areas[long_key].label

    submission = {"type": "view_submission", "team": {"id": "T0TEST"},
                  "user": {"id": "U0METTE", "username": "mette"},
                  "view": {"id": "V0LONG", "callback_id": IDEA_CALLBACK, "private_metadata": json.dumps(meta),
                           "state": {"values": {
                               "title": {"value": {"type": "plain_text_input", "value": "Wind robots"}},
                               "focus": {"value": {"type": "static_select",
                                                   "selected_option": focus["initial_option"]}}}}}}
    Interactions(engine, lambda: [strategy], lambda s: None).handle("interactive", submission)
    with Session(engine) as session:
        ideas = session.exec(select(Idea)).all()
    assert [(i.title, i.focus_areas) for i in ideas] == [("Wind robots", [long_key])]

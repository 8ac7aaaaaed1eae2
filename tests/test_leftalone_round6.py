"""Defects noticed in an earlier session and left alone then: a bare "<" in a feed's title, ...;
through the real client against local servers into a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from pipeline.core.config import FeedSource
from pipeline.core.models import Call
from tests.conftest import FIXTURES
from tests.localserver import LocalServer, Reply
from tests.slack_data import NOW as NOW_SLACK
from tests.slack_data import TOKEN, add_call
from tests.slack_server import SlackServer
from watcher.http import make_client
from watcher.runner import run_source
from watcher.sources.feed import FeedAdapter

NOW = datetime(2025, 10, 15, 9, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server

# the recorded interreg-baltic.eu/feed/ (WordPress RSS 2.0); its channel image holds a <width>, which a
# stray </width> put out of place so that feedparser itself fails and lxml's recovering parser reads it
BALTIC_FEED = (FIXTURES / "feed" / "interreg_baltic_feed.xml").read_text(encoding="utf-8")
TITLE = "<title>Project platforms: the call is open for applications</title>"

# A hand-made feed writing a bare "<" in a title ("Heat < 100 °C", "a<b") is not well-formed XML:
# feedparser's loose parser took "<b" for a tag and cut the title there, and when the feed also had a
# stray end tag, lxml's recovering parser dropped the "<" along with every "&lt;" and "&amp;".


@pytest.mark.parametrize("stray_end_tag", [False, True])
@pytest.mark.parametrize("title", [
    "Heat < 100 °C: the call is open for applications",
    "Call for heat pumps, COP>3 and T<90 °C, is open",
    "Call for a<b designs stays open (R&D, 5 &lt; 6)",
])
def test_a_bare_less_than_in_a_feed_title_keeps_the_whole_title(
    server: LocalServer, engine, title: str, stray_end_tag: bool
) -> None:
    feed = BALTIC_FEED.replace(TITLE, f"<title>{title}</title>")
    if stray_end_tag:
        feed = feed.replace("<width>32</width>", "<width>32</width></width>")
    server.route("GET", "/feed", lambda r: Reply(200, feed.encode(), RSS))
    adapter = FeedAdapter("news", FeedSource(type="feed", url=server.url("/feed")))
    with make_client(timeout=10, backoff=0.01) as client:
        result = run_source(engine, adapter, client, NOW)
    assert result.outcome == "ok", result.error
    written = title.replace("&lt;", "<")
    with Session(engine) as session:
        titles = set(session.exec(select(Call.title).where(Call.source == "news")).all())
    assert written in titles, titles


# The digest wrote a call's deadline "closes 14 Apr 2027 (233 d)", the alerts "deadline 2026-09-23 17:00
# Brussels time (30 days left)": two styles of one fact in one channel, read on a phone. Both now say it
# as pipeline.notify.blocks.closing_text does.


def test_the_digest_and_the_alerts_write_a_deadline_alike(engine: Any, slack: SlackServer) -> None:
    from tests.slack_data import add_application, run_alerts
    from tests.test_slack_round5 import _digest, call_lines

    assert run_alerts(engine, slack, NOW_SLACK) == []  # the baseline
    at = NOW_SLACK + timedelta(hours=1)
    new = add_call(engine, 1, score=0.9, days=30, first_seen=at)
    followed = add_call(engine, 2, score=0.6, days=1)
    add_application(engine, followed)
    run_alerts(engine, slack, at + timedelta(minutes=1))
    (alert,) = [b["text"]["text"] for m in slack.messages for b in m.blocks
                if b.get("block_id") == f"fr_call:{new}"]
    assert alert.split("\n")[2] == ("Horizon Europe · closes 23 Sep 2026 17:00 Brussels time (30 days left) "
                                    "· budget €12.0M"), alert
    slack.messages.clear()
    lines = call_lines(_digest(engine, slack))
    assert lines[f"fr_call:{new}"] == "Horizon Europe · closes 23 Sep 2026 17:00 (30 days left) · up to €3.0M"
    assert lines[f"fr_call:{followed}"] == \
        "Horizon Europe · closes 25 Aug 2026 17:00 (1 day left) · up to €3.0M"


# `fundradar sync` printed nothing of its sources when the scoring after them failed (a full disk, a
# locked table): the job raised before the table, so what the sources stored went unseen. The table is
# printed, then the scoring's failure in one line, and the command exits 1.


def _feed_config(tmp_path: Path, url: str) -> Path:
    strategy = Path("config/strategy.example.yaml").read_text(encoding="utf-8")
    start, end = strategy.index("sources:"), strategy.index("\nslack:")
    config = tmp_path / "strategy.yaml"
    source = f"sources:\n  news:\n    type: feed\n    url: {url}\n"
    config.write_text(strategy[:start] + source + strategy[end:], encoding="utf-8")
    return config


def test_sync_shows_its_sources_when_the_scoring_fails(
    cli: Any, engine: Any, server: LocalServer, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    server.route("GET", "/feed", lambda r: Reply(200, BALTIC_FEED.encode(), RSS))
    config = _feed_config(tmp_path, server.url("/feed"))
    with engine.begin() as conn:  # the database refuses the scores, as a full disk would
        conn.execute(sa.text("CREATE TRIGGER no_scores BEFORE INSERT ON verdict "
                             "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))
    result = cli("--config", str(config), "--as-of", "2025-10-15T09:00:00+00:00", "sync")
    assert result.exit_code == 1, result.output
    assert [line.rstrip() for line in result.stdout.splitlines()[:2]] == [
        "Source  Seen  New  Changed  Closed  Removed  Missing  Outcome  Error",
        "news       2    2        0       0        0        0  partial  a feed lists only",
    ]
    (line,) = [line for line in result.stderr.splitlines() if "scor" in line]
    assert line == (f"Error: scoring strategy 'greentech-dk' failed: the disk holding {engine.url} is full; "
                    "nothing of this write was stored, free some space and run the command again (the "
                    "sources' runs are stored; `fundradar score` finishes the scoring)"), result.stderr
    with Session(engine) as session:  # what the source read is stored
        assert len(session.exec(select(Call)).all()) == 2




# serve's hot reload logged an invalid edit as "file:line: key: problem (and 2 more problems); keeping
# the last good config" and nothing said where the other two were. The line names the command that
# lists them all, with the config serve was started on.


def test_a_reload_with_more_problems_says_how_to_see_them_all(tmp_path: Path, caplog) -> None:
    import logging

    from pipeline.core.config import load_config
    from pipeline.reload import ConfigWatch

    folder = tmp_path / "my clusters"
    folder.mkdir()
    good = (FIXTURES / "config" / "slack_strategy.yaml").read_text(encoding="utf-8")
    path = folder / "greentech.yaml"
    path.write_text(good, encoding="utf-8")
    watch = ConfigWatch(load_config(folder), settle_seconds=0)
    caplog.set_level(logging.INFO, logger="fundradar.serve")
    path.write_text(good.replace("name: greentech-dk", "name: greentech-dk\nkeywrds: [x]\ncolour: red\n"
                                 "lanugage: da"), encoding="utf-8")
    assert watch.check() is None
    (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "(and 2 more problems); keeping the last good config; " in line, line
    assert line.endswith(f"; `fundradar --config '{folder}' config check` lists them all"), line


# With a config folder of several strategies, the alerts' "… and 100 more new matches; `fundradar calls
# list --passing` lists them" and the digest's "`fundradar calls list` marks them ✗" named commands
# that answer for the first strategy by file name: another cluster's channel was sent to that one's
# calls. The commands name the strategy whose message it is.


def _folder_of_two(tmp_path: Path) -> Any:
    from pipeline.core.config import load_config

    folder = tmp_path / "clusters"
    folder.mkdir()
    # foodbio-dk is the first by file name, the one the commands answer for without --strategy
    (folder / "a-foodbio.yaml").write_text((FIXTURES / "strategies" / "foodbio.yaml").read_text("utf-8"),
                                           encoding="utf-8")
    (folder / "greentech.yaml").write_text((FIXTURES / "config" / "slack_strategy.yaml").read_text("utf-8"),
                                           encoding="utf-8")
    return load_config(folder).only("greentech-dk")


def test_the_hints_of_a_folders_strategy_name_it(engine: Any, slack: SlackServer, tmp_path: Path) -> None:
    from pipeline.notify.delivery import Pacer
    from pipeline.notify.jobs import send_alerts, send_digests

    config = _folder_of_two(tmp_path)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    pacer = Pacer(sleep=lambda s: None)
    add_call(engine, 40, score=0.9, passed=False)  # turned down by the strategy rules
    send_digests(engine, config, NOW_SLACK, channel="#eu-fundraising", environ=env, pacer=pacer)
    text = "\n".join(b["text"]["text"] for m in slack.messages for b in m.blocks if b["type"] == "section")
    assert "one (`fundradar --strategy greentech-dk calls list` marks it ✗, `fundradar --strategy " \
           "greentech-dk calls why ID` says which rule)" in text, text
    slack.messages.clear()
    assert send_alerts(engine, config, NOW_SLACK, environ=env, pacer=pacer) == []  # the baseline
    at = NOW_SLACK + timedelta(hours=1)
    for n in range(1, 26):
        add_call(engine, n, score=0.7, first_seen=at)
    send_alerts(engine, config, at + timedelta(minutes=1), environ=env, pacer=pacer)
    sections = [b["text"]["text"] for m in slack.messages for b in m.blocks if b["type"] == "section"]
    assert "_… and 5 more new matches; `fundradar --strategy greentech-dk calls list --passing` lists " \
           "them._" in sections, sections


# A programme renamed on euro-access.eu ("Interreg Germany-Denmark" listed as "Interreg Deutschland-
# Danmark"): its calls no longer passed the source's programme filter, were left out as another
# programme's, and were never updated again, without a word. The run now says which programme is
# listed under which name and what to write in the config.


def test_a_programme_renamed_on_euro_access_is_named_with_what_to_do(server: LocalServer, samples: Path,
                                                                      engine: Any) -> None:
    from pipeline.core.config import EuroAccessSource
    from watcher.sources import BuildContext
    from watcher.sources.euro_access import EuroAccessAdapter

    listing = (samples / "euro_access" / "calls_list_2025-10.html").read_text(encoding="utf-8")
    listing = listing.replace("https://www.euro-access.eu", server.base_url)
    answer = {"listing": listing}
    server.route("GET", "/en/calls", lambda r: Reply(200, answer["listing"], {"Content-Type": "text/html"}))
    server.route("GET", "/en/calls/2374/Interreg-DE-DK-Application-of-project-proposals-2025",
                 lambda r: Reply(200, (FIXTURES / "euro_access" / "call_detail_2374.html").read_bytes(),
                                 {"Content-Type": "text/html; charset=utf-8"}))
    cfg = EuroAccessSource(type="euro_access", url=server.url("/en/calls"),
                           programmes=["Interreg Germany-Denmark"])
    adapter = EuroAccessAdapter("euro_access", cfg, BuildContext(engine=engine))
    with make_client(timeout=10, backoff=0.01) as client:
        first = run_source(engine, adapter, client, NOW)
        assert (first.outcome, first.new, first.error) == ("ok", 1, None)
        answer["listing"] = listing.replace(">Interreg Germany-Denmark<", ">Interreg Deutschland-Danmark<")
        assert answer["listing"] != listing
        renamed = run_source(engine, adapter, client, NOW)
    assert (renamed.outcome, renamed.closed) == ("ok", 0)
    assert (renamed.error or "").startswith(
        "programme 'Interreg Germany-Denmark' is now listed as 'Interreg Deutschland-Danmark' (1 stored "
        "call(s), first 2374): its calls are no longer updated; add 'Interreg Deutschland-Danmark' to the "
        "programmes of source 'euro_access'"), renamed.error


# The search API declaring a totalResults short by a whole number of pages (700 for the 731 of the
# recording of 2026-08-21, 100 a page): seven pages came full as the total said, page 8 was never asked
# for, and the run was complete, so its 31 calls were missing and the next such answer removed them. A
# full last page is now followed by one more page: results on it make the run partial (and are read),
# an empty one confirms the total.


def test_a_total_short_by_whole_pages_is_seen_by_one_more_page(engine, server: LocalServer,
                                                               samples: Path) -> None:
    from tests.test_plausibility import Portal, eu_ft, good_sync, run, statuses

    portal = Portal(server, samples)
    before = good_sync(engine, server)
    portal.mutate = lambda number, data: {**data, "totalResults": 700}
    for hours in (6, 12):
        result = run(engine, eu_ft(server), datetime(2026, 8, 21, 10, 0, tzinfo=UTC) + timedelta(hours=hours))
        assert (result.outcome, result.complete, result.seen, result.closed) == ("ok", False, 731, 0)
        assert result.error == ("page 8 (all programmes), asked for after the full last page of the 7 that "
                                "totalResults 700 makes, has 31 results: the total is short, the next run "
                                "completes it")
    assert statuses(engine) == before


def test_a_full_last_page_followed_by_an_empty_one_is_complete(engine, server: LocalServer,
                                                               samples: Path) -> None:
    from tests.test_plausibility import Portal, eu_ft, run

    portal = Portal(server, samples)
    asked: list[int] = []
    portal.mutate = lambda number, data: asked.append(number) or data
    result = run(engine, eu_ft(server, page_size=43), datetime(2026, 8, 21, 10, 0, tzinfo=UTC))  # 17 × 43
    assert (result.outcome, result.complete, result.seen, result.error) == ("ok", True, 731, None)
    assert asked == list(range(1, 19))

"""Round 6's changes read together: cases one change did not think of, or two changes merged from
separate branches that meet in one message. Through the real client against the local Slack server
into a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from pipeline.core.db import session_scope
from pipeline.follow import set_state
from pipeline.notify.delivery import Pacer
from tests.slack_data import NOW, TOKEN, add_call, move_deadline
from tests.slack_server import SlackServer
from tests.test_leftalone_round6 import _folder_of_two


@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN) as server:
        yield server


def _sections(slack: SlackServer) -> list[str]:
    return [b["text"]["text"] for m in slack.messages for b in m.blocks if b["type"] == "section"]


# With a config folder of several strategies the alerts' hints name the strategy (`fundradar --strategy
# greentech-dk calls list --passing`), yet a followed call's "Deadline moved" alert still said
# `fundradar calls unfollow 12`, which unfollows it for the first strategy by file name (or says it is
# not followed there) and leaves this cluster's follow, and its reminders, in place.


def test_a_followed_calls_change_alert_in_a_folder_names_the_strategy_to_unfollow(
        engine: Any, slack: SlackServer, tmp_path: Any) -> None:
    from pipeline.notify.jobs import send_alerts

    config = _folder_of_two(tmp_path)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
    pacer = Pacer(sleep=lambda s: None)
    call = add_call(engine, 1, score=0.2)
    with session_scope(engine) as session:
        set_state(session, "greentech-dk", call, "follow", NOW - timedelta(days=3), "Mette")
    assert send_alerts(engine, config, NOW, environ=env, pacer=pacer) == []  # the baseline
    move_deadline(engine, call, NOW + timedelta(days=20, hours=9), NOW + timedelta(hours=3))
    send_alerts(engine, config, NOW + timedelta(hours=4), environ=env, pacer=pacer)
    (moved,) = [t for t in _sections(slack) if "*Deadline moved* for a call we follow" in t]
    assert moved.endswith(f"Followed by Mette · `fundradar --strategy greentech-dk calls unfollow {call}`"), \
        moved


# The one date style leaves out an hour the source did not give ("closes 23 Oct 2026 (60 days left)": the
# call may close at noon), and the digest's top call said so; its "Our applications" line beside it
# wrote the same deadline "closes 23 Oct 2026 17:00 (60 days left)", the assumed hour as a given one.


def test_an_applications_deadline_without_its_hour_is_written_as_the_calls_line_writes_it(
        engine: Any, slack: SlackServer) -> None:
    from pipeline.core.models import Call
    from tests.slack_data import add_application
    from tests.test_slack_round5 import _digest, call_lines

    call = add_call(engine, 1, score=0.9)
    with session_scope(engine) as session:  # the source gave the day alone: 17:00 is assumed
        row = session.get(Call, call)
        row.deadlines = [{**row.deadlines[0], "time_assumed": True}]
        row.deadline_time_assumed = True
    app = add_application(engine, call)
    posted = _digest(engine, slack)
    assert call_lines(posted)[f"fr_call:{call}"] == \
        "Horizon Europe · closes 23 Oct 2026 (60 days left) · up to €3.0M"
    (line,) = [t for b in posted.blocks if b["type"] == "section"
               for t in b["text"]["text"].split("\n") if t.startswith(f"• #{app} ")]
    assert line.endswith(": _writing_, closes 23 Oct 2026 (60 days left)"), line


def test_a_programme_calls_deadline_without_its_hour_leaves_the_hour_out() -> None:
    """The same call in 'Programmes we follow' (the digest's programmes of interest)."""
    from pipeline.notify.programmes import ProgrammeCall, programme_line

    due = NOW + timedelta(days=60, hours=9)
    line = programme_line(ProgrammeCall(call_id=7, programme="Interreg Baltic Sea Region", title="Seed money",
                                        url="https://interreg-baltic.eu/seed", status="open", deadline=due,
                                        days_left=60, passed=True, deadline_time_assumed=True))
    assert "closes 23 Oct 2026 (60 days left)" in line, line


# Today's matcher changes (a keyword phrase no call writes keeps its unit's norm; 'news' no longer
# stemmed to 'new') change what the stored corpus model holds and what every score is, yet the scoring
# method kept its name: a database scored before them counted as up to date, so after an upgrade the
# tourism area still ranked the circular-economy calls 3rd and 4th, and the stored vocabulary, fitted
# with 'news' as 'new', knew no 'news' at all. A model stored under the method before them is refitted.


def test_a_database_scored_before_the_phrase_unit_and_news_changes_is_refitted(engine: Any) -> None:
    from sqlmodel import select

    from classifiers.scoring import score_pending
    from pipeline.core.config import DEFAULT_STRATEGY, load_config
    from pipeline.core.models import CorpusModel
    from tests.test_scoring import NOW as SCORED
    from tests.test_scoring import TEXTS, add_calls

    config = load_config(DEFAULT_STRATEGY)
    add_calls(engine, TEXTS * 12)  # 60 calls: enough for a latent space
    score_pending(engine, config, SCORED)
    with session_scope(engine) as session:
        stored = session.exec(select(CorpusModel)).one()
        stored.method = "tfidf+lsa50+units+gate+novel+translated-both-ways"  # the name before them
        session.add(stored)
    result = score_pending(engine, config, SCORED)
    assert (result.refitted, result.reason, result.scored_calls) == (True, "scoring method changed", 60)


# The board report's table says 'unknown' (or '€0.5M + 1 unknown') for an area whose calls have no known
# expected value, and --json counts them; its --csv, the file a board's spreadsheet reads, still gave
# the area an expected_value of 0 and nothing more, the worthless €0 the table no longer shows.


def test_the_board_reports_csv_counts_the_calls_of_unknown_expected_value(cli: Any, engine: Any) -> None:
    import csv
    import io

    from sqlmodel import select

    from pipeline.core.models import Verdict
    from tests.slack_data import CONFIG

    add_call(engine, 1, score=0.9)
    unknown = add_call(engine, 2, score=0.8)
    with session_scope(engine) as session:  # a programme without rates in funding_rules.yaml
        verdict = session.exec(select(Verdict).where(Verdict.call_id == unknown)).one()
        verdict.expected_value = None
        session.add(verdict)
    base = ("--config", str(CONFIG), "--as-of", NOW.isoformat())
    table = cli(*base, "strategy", "report")
    assert table.exit_code == 0, table.output
    result = cli(*base, "strategy", "report", "--csv")
    assert result.exit_code == 0, result.output
    rows = {row["focus_area"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    energy = rows["offshore_energy"]
    assert (energy["matching_calls"], energy["expected_value"], energy.get("unknown_expected_value")) == \
        ("2", "480000.0", "1"), (energy, table.stdout)


# eval --judged now names the programmes of graded calls the replay does not read, with their labels as
# the recording's facets give them (the portal's text, URL-decoded), and printed its report with a bare
# echo: a label holding a terminal escape ("%1B]0;…%07", which sets the window title) reached the
# terminal as it was. The report's lines are printed with the control characters removed, as every
# other command prints scraped text.


@pytest.mark.slow
def test_eval_judged_prints_a_recorded_programme_label_without_its_control_characters(
        cli: Any, tmp_path: Any, samples: Any) -> None:
    import json
    import shutil

    from tests.test_other_cluster_round6 import JUDGED

    folder = tmp_path / "eu_ft" / "search_2026-08-22"
    shutil.copytree(samples / "eu_ft" / "search_2026-08-22", folder)
    facets = json.loads((folder / "facets.json").read_text(encoding="utf-8"))
    for item in facets["frameworkProgramme"]:
        if item["rawValue"] == "44181033":
            item["value"] = "European Defence Fund%1B]0;owned%07 (EDF)"
    (folder / "facets.json").write_text(json.dumps(facets), encoding="utf-8")
    judged = tmp_path / "judged.json"
    data = json.loads(JUDGED.read_text(encoding="utf-8"))
    judged.write_text(json.dumps({**data, "recording": str(folder)}), encoding="utf-8")
    result = cli("eval", "--judged", str(judged), "--feedback", "0")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    # the escape sequence removed whole, as pipeline.core.text.printable removes them
    assert "(European Defence Fund (EDF) 15)" in result.stdout.splitlines()[-1], result.stdout

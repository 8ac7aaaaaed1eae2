"""Each cluster's pipeline: with a config folder, ideas belong to the strategy that added them and
applications to their idea's strategy; listings, deadlines, reports, the iCal export, alerts and
digests of one strategy leave out the others' (shared ideas without a strategy count for all); a
single strategy file behaves as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from pipeline.applications import list_applications
from pipeline.core.db import open_database, session_scope
from pipeline.core.models import Application, Call, Idea
from pipeline.follow import set_state
from pipeline.ideas import list_ideas
from pipeline.reports import pipeline_report
from tests.slack_data import NOW, TOKEN, add_call, move_deadline
from tests.slack_server import SlackServer

FOLDER = Path(__file__).resolve().parent / "fixtures" / "strategies"
CHANNELS = {"greentech-funding": "C0GREEN001", "foodbio-funding": "C0FOODB002"}
AT = ("--as-of", NOW.isoformat())
FOLDER_ARGS = ("--config", str(FOLDER), *AT)
GREEN = (*FOLDER_ARGS, "--strategy", "greentech-dk")
FOOD = (*FOLDER_ARGS, "--strategy", "foodbio-dk")
SINGLE = ("--config", str(FOLDER / "greentech.yaml"), *AT)
SLACK_ENV = {"SLACK_BOT_TOKEN": TOKEN, "FOODBIO_SLACK_TOKEN": TOKEN}


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def ids(result) -> list[int]:
    return [row["id"] for row in json.loads(ok(result).stdout)]


def add_shared_idea(engine, title: str, focus_areas: list[str] | None = None) -> int:
    """An idea from before ideas had a strategy (NULL): every strategy sees it."""
    with session_scope(engine) as session:
        idea = Idea(title=title, focus_areas=focus_areas or [], created_at=NOW - timedelta(days=90),
                    updated_at=NOW - timedelta(days=90))
        session.add(idea)
        session.flush()
        return idea.id


@pytest.fixture
def pipeline(cli, engine) -> dict[str, int]:
    """Idea #1 and application #1 of greentech-dk, #2 of foodbio-dk, #3 shared (no strategy); calls 1-4
    with deadlines 60 days ahead."""
    calls = [add_call(engine, n) for n in range(1, 5)]
    ok(cli(*GREEN, "ideas", "add", "Floating wind O&M robots", "--focus", "offshore_energy",
           "--owner", "mette"))
    ok(cli(*FOOD, "ideas", "add", "Precision fermentation pilot", "--focus", "food_bio", "--owner", "lars"))
    shared = add_shared_idea(engine, "Shared cluster network", ["offshore_energy", "food_bio"])
    ok(cli(*GREEN, "applications", "add", "1", str(calls[0]), "--amount", "400000"))
    ok(cli(*FOOD, "applications", "add", "2", str(calls[1]), "--amount", "300000"))
    ok(cli(*GREEN, "applications", "add", str(shared), str(calls[2]), "--amount", "100000"))
    return {"call1": calls[0], "call2": calls[1], "call3": calls[2], "call4": calls[3], "shared": shared}


# --- ownership and listings ----------------------------------------------------------------------

def test_ideas_belong_to_the_strategy_that_added_them_and_lists_are_filtered(cli, engine, pipeline) -> None:
    with Session(engine) as session:
        owners = [(i.id, i.strategy) for i in session.exec(select(Idea).order_by(Idea.id))]
    assert owners == [(1, "greentech-dk"), (2, "foodbio-dk"), (3, None)]
    assert ids(cli(*GREEN, "ideas", "list", "--json")) == [1, 3]
    assert ids(cli(*FOOD, "ideas", "list", "--json")) == [2, 3]
    assert ids(cli(*FOLDER_ARGS, "ideas", "list", "--json")) == [2, 3]  # default: the first, foodbio-dk
    assert ids(cli(*FOLDER_ARGS, "ideas", "list", "--json", env={"FUNDRADAR_STRATEGY": "greentech-dk"})) \
        == [1, 3]
    assert [r["strategy"] for r in json.loads(cli(*GREEN, "ideas", "list", "--json").stdout)] == \
        ["greentech-dk", None]
    csv_out = ok(cli(*FOOD, "ideas", "list", "--csv")).stdout
    assert "Precision fermentation" in csv_out and "Floating wind" not in csv_out
    assert ids(cli(*GREEN, "applications", "list", "--json")) == [1, 3]
    assert ids(cli(*FOOD, "applications", "list", "--json")) == [2, 3]
    assert ids(cli(*FOOD, "applications", "list", "--status", "open", "--json")) == [2, 3]
    other = cli(*GREEN, "applications", "list", "--idea", "2", "--json")  # asked for by id: named
    assert (other.exit_code, other.stdout) == (2, "")
    assert "idea #2 belongs to strategy 'foodbio-dk'" in other.stderr
    assert ids(cli(*GREEN, "applications", "list", "--idea", "1", "--json")) == [1]
    missing = cli(*GREEN, "applications", "list", "--idea", "99")  # was 'No applications match.', exit 0
    assert (missing.exit_code, missing.stdout, missing.stderr) == (
        2, "", "Error: no idea with id 99; see `fundradar ideas list`\n")
    shown = ok(cli(*FOOD, "ideas", "show", "2")).stdout
    assert "Strategy:    foodbio-dk\n" in shown
    assert "Strategy:    shared (no strategy)\n" in ok(cli(*FOOD, "ideas", "show", "3")).stdout


@pytest.mark.parametrize("args, message", [
    (("ideas", "show", "2"), "idea #2"),
    (("ideas", "show", "#2", "--json"), "idea #2"),
    (("ideas", "edit", "2", "--status", "ready"), "idea #2"),
    (("ideas", "calls", "2"), "idea #2"),
    (("partners", "suggest", "--idea", "2"), "idea #2"),
    (("applications", "show", "2"), "application #2 (idea #2)"),
    (("applications", "move", "2", "consortium"), "application #2 (idea #2)"),
    (("applications", "ack", "2"), "application #2 (idea #2)"),
    (("applications", "consortium", "2", "--remove", "1"), "application #2 (idea #2)"),
    (("applications", "add", "2", "4"), "idea #2"),
    (("applications", "list", "--idea", "2"), "idea #2"),  # was 'No applications match.', exit 0
])
def test_another_strategys_idea_or_application_by_id_is_a_one_line_not_found(
        cli, engine, pipeline, args, message) -> None:
    result = cli(*GREEN, *args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: {message} belongs to strategy 'foodbio-dk', not to the selected "
                             "'greentech-dk'; select it with `fundradar --strategy foodbio-dk ...` "
                             "(or FUNDRADAR_STRATEGY=foodbio-dk)\n")
    with Session(engine) as session:  # nothing changed
        assert session.get(Application, 2).status == "draft"
        assert session.get(Idea, 2).status == "idea"
        assert len(session.exec(select(Application)).all()) == 3


def test_own_and_shared_items_are_editable_and_a_shared_idea_can_be_claimed(cli, engine, pipeline) -> None:
    ok(cli(*FOOD, "applications", "move", "3", "consortium", "--by", "lars"))  # shared: anyone
    ok(cli(*GREEN, "applications", "move", "1", "consortium", "--by", "mette"))
    assert ok(cli(*GREEN, "ideas", "edit", "3", "--claim")).stdout == \
        "Updated idea #3: Shared cluster network (idea)\n"
    assert ids(cli(*FOOD, "ideas", "list", "--json")) == [2]
    assert ids(cli(*FOOD, "applications", "list", "--json")) == [2]
    assert cli(*FOOD, "applications", "show", "3").stderr.startswith(
        "Error: application #3 (idea #3) belongs to strategy 'greentech-dk', not to the selected "
        "'foodbio-dk'")
    again = cli(*GREEN, "ideas", "edit", "3", "--claim")
    assert (again.exit_code, again.stderr) == (
        2, "Error: idea #3 already belongs to strategy 'greentech-dk'\n")


# --- deadlines, reports, export ------------------------------------------------------------------

def test_deadlines_reports_and_ical_are_per_strategy(cli, engine, pipeline, tmp_path: Path) -> None:
    with session_scope(engine) as session:  # greentech follows call 2, which only foodbio applied to
        set_state(session, "greentech-dk", pipeline["call2"], "follow", NOW)
    green = json.loads(ok(cli(*GREEN, "deadlines", "--weeks", "12", "--json")).stdout)
    food = json.loads(ok(cli(*FOOD, "deadlines", "--weeks", "12", "--json")).stdout)
    assert [(r["kind"], r["id"]) for r in green] == [("application", 1), ("application", 3),
                                                     ("call", pipeline["call2"])]  # same deadline
    assert [(r["kind"], r["id"]) for r in food] == [("application", 2), ("application", 3)]

    green_report = json.loads(ok(cli(*GREEN, "pipeline", "report", "--json")).stdout)
    food_report = json.loads(ok(cli(*FOOD, "pipeline", "report", "--json")).stdout)
    assert (green_report["total"], green_report["requested"]) == (2, 500_000)
    assert (food_report["total"], food_report["requested"]) == (2, 400_000)
    text = ok(cli(*FOOD, "pipeline", "report")).stdout
    assert text.startswith("Applications: 2 (draft 2, consortium 0, writing 0, submitted 0, granted 0, ")

    for args, name, count in ((GREEN, "green.ics", 3), (FOOD, "food.ics", 2)):
        result = ok(cli(*args, "export", "ical", str(tmp_path / name)))
        assert result.stdout == f"Wrote {count} deadlines to {tmp_path / name}\n"
    food_ics = (tmp_path / "food.ics").read_text()
    assert "application-2-deadline-1@fundradar" in food_ics and "application-3-deadline-1" in food_ics
    assert "application-1-deadline" not in food_ics


def test_strategy_report_counts_only_the_strategys_applications(cli, engine, pipeline) -> None:
    # a foodbio idea tagged with greentech's focus area key (e.g. from an older config) must not count
    with session_scope(engine) as session:
        idea = Idea(strategy="foodbio-dk", title="Offshore aquaculture", focus_areas=["offshore_energy"],
                    created_at=NOW, updated_at=NOW)
        session.add(idea)
        session.flush()
        session.add(Application(idea_id=idea.id, call_id=pipeline["call4"], created_at=NOW,
                                updated_at=NOW))
    rows = json.loads(ok(cli(*GREEN, "strategy", "report", "--json")).stdout)
    pipeline_counts = {r["focus_area"]: r["applications_in_pipeline"] for r in rows}
    assert pipeline_counts == {"offshore_energy": 2, "green_maritime": 0}  # its own #1 and the shared #3
    single = json.loads(ok(cli(*SINGLE, "strategy", "report", "--json")).stdout)
    assert {r["focus_area"]: r["applications_in_pipeline"] for r in single} == \
        {"offshore_energy": 3, "green_maritime": 0}  # one strategy file: every application, as before


# --- Slack ---------------------------------------------------------------------------------------

@pytest.fixture
def slack() -> Iterator[SlackServer]:
    with SlackServer(token=TOKEN, channels=dict(CHANNELS)) as server:
        yield server


def texts(slack: SlackServer, channel: str) -> list[str]:
    """The alerts posted to ``channel``: each one's section inside the batched messages."""
    return [b["text"]["text"] for m in slack.posted_to(channel) for b in m.raw["blocks"]
            if b["type"] == "section" and not b.get("block_id", "").startswith("heading-")]


def test_reminders_and_deadline_changes_go_only_to_the_owning_strategys_channel(cli, engine, slack) -> None:
    env = {**SLACK_ENV, "SLACK_API_URL": slack.api_url}
    calls = [add_call(engine, n, days=5) for n in (1, 2, 3)]  # deadlines 2026-08-29 17:00 Brussels
    ok(cli(*GREEN, "ideas", "add", "Floating wind O&M robots", "--focus", "offshore_energy"))
    ok(cli(*FOOD, "ideas", "add", "Precision fermentation pilot", "--focus", "food_bio"))
    shared = add_shared_idea(engine, "Shared cluster network")
    ok(cli(*GREEN, "applications", "add", "1", str(calls[0])))
    ok(cli(*FOOD, "applications", "add", "2", str(calls[1])))
    ok(cli(*FOOD, "applications", "add", str(shared), str(calls[2])))

    # the first run records the baseline and sends the reminders due: 5 days left, the 7-day reminder
    first = json.loads(ok(cli(*FOLDER_ARGS, "alerts", "--json", env=env)).stdout)
    # one batched message per channel; each reminder still logged under its own key
    assert sorted((item, o["channel"], o["status"]) for o in first for item in o["items"]) == [
        ("foodbio-dk:reminder:2:20260829T1500:7", "#foodbio-funding", "sent"),
        ("foodbio-dk:reminder:3:20260829T1500:7", "#foodbio-funding", "sent"),
        ("greentech-dk:reminder:1:20260829T1500:7", "#greentech-funding", "sent"),
        ("greentech-dk:reminder:3:20260829T1500:7", "#greentech-funding", "sent")]
    green, food = texts(slack, "#greentech-funding"), texts(slack, "#foodbio-funding")
    assert [t.split("\n")[0] for t in green] == [
        ":alarm_clock: *5 days left* for application #1 (Floating wind O&amp;M robots): _draft_",
        ":alarm_clock: *5 days left* for application #3 (Shared cluster network): _draft_"]
    assert [t.split("\n")[0] for t in food] == [
        ":alarm_clock: *5 days left* for application #2 (Precision fermentation pilot): _draft_",
        ":alarm_clock: *5 days left* for application #3 (Shared cluster network): _draft_"]

    # greentech's call and the shared one move; foodbio's channel hears only of the shared one
    at = NOW + timedelta(hours=3)
    green_change = move_deadline(engine, calls[0], NOW + timedelta(days=30, hours=9), at)
    shared_change = move_deadline(engine, calls[2], NOW + timedelta(days=30, hours=9), at)
    later = ("--config", str(FOLDER), "--as-of", (at + timedelta(minutes=1)).isoformat())
    outcomes = json.loads(ok(cli(*later, "alerts", "--json", env=env)).stdout)
    assert [(item, o["channel"]) for o in outcomes for item in o["items"]] == [
        (f"foodbio-dk:alert:change:{shared_change}", "#foodbio-funding"),
        (f"greentech-dk:alert:change:{green_change}", "#greentech-funding"),
        (f"greentech-dk:alert:change:{shared_change}", "#greentech-funding")]
    food_change = texts(slack, "#foodbio-funding")[-1]
    assert food_change.startswith(":warning: *Deadline moved* for a call we follow\n")
    assert food_change.endswith("Followed by application #3 (Shared cluster network)")
    assert texts(slack, "#greentech-funding")[-2].endswith(
        "Followed by application #1 (Floating wind O&amp;M robots)")
    assert json.loads(ok(cli(*later, "alerts", "--json", env=env)).stdout) == []
    assert len(slack.messages) == 4  # one message per channel and run


def test_digest_lists_only_the_strategys_applications(cli, engine, pipeline) -> None:
    outcomes = json.loads(ok(cli(*FOLDER_ARGS, "digest", "--dry-run", "--json")).stdout)
    blocks = {o["channel"]: json.dumps(o["blocks"]) for o in outcomes}
    assert set(blocks) == {"#foodbio-funding", "#greentech-funding"}
    assert "Precision fermentation pilot" in blocks["#foodbio-funding"]
    assert "Shared cluster network" in blocks["#foodbio-funding"]
    assert "Floating wind" not in blocks["#foodbio-funding"]
    assert "Floating wind O&amp;M robots" in blocks["#greentech-funding"]
    assert "Shared cluster network" in blocks["#greentech-funding"]
    assert "Precision fermentation" not in blocks["#greentech-funding"]


# --- a single strategy file: as before -----------------------------------------------------------

def test_single_file_mode_shows_every_idea_and_application_as_before(cli, engine, pipeline) -> None:
    assert ids(cli(*SINGLE, "ideas", "list", "--json")) == [1, 2, 3]
    assert ids(cli(*SINGLE, "applications", "list", "--json")) == [1, 2, 3]
    assert ok(cli(*SINGLE, "ideas", "show", "3")).stdout == (
        "Idea #3: Shared cluster network\n"
        "Status:      idea\n"
        "Focus areas: offshore_energy, food_bio\n"
        "Created:     2026-05-26\n"
        "Updated:     2026-05-26\n")
    ok(cli(*SINGLE, "applications", "move", "2", "consortium"))  # foodbio's, reachable as before
    report = json.loads(ok(cli(*SINGLE, "pipeline", "report", "--json")).stdout)
    assert report["total"] == 3 and report["counts"]["consortium"] == 1
    rows = json.loads(ok(cli(*SINGLE, "deadlines", "--weeks", "12", "--json")).stdout)
    assert [(r["kind"], r["id"]) for r in rows] == [("application", 1), ("application", 2),
                                                    ("application", 3)]
    # an idea added from a single file still records its strategy, so a later move to a folder keeps it
    assert ok(cli(*SINGLE, "ideas", "add", "Energy island pilot")).stdout == \
        "Added idea #4: Energy island pilot\n"
    with Session(engine) as session:
        assert session.get(Idea, 4).strategy == "greentech-dk"
    assert ids(cli(*FOOD, "ideas", "list", "--json")) == [2, 3]
    assert ids(cli(*GREEN, "ideas", "list", "--json")) == [1, 3, 4]


# --- the filter in SQL -----------------------------------------------------------------------------

def test_the_filter_uses_the_strategy_index(engine, pipeline) -> None:
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("idea")}
    assert indexes["ix_idea_strategy"] == ["strategy"]
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT id FROM idea WHERE strategy IS NULL OR "
                                    "strategy = 'greentech-dk'").fetchall()
    assert any("ix_idea_strategy" in str(row) for row in plan), plan


def test_scoped_queries_on_postgresql(pg_url: str) -> None:
    engine = open_database(pg_url)
    try:
        with session_scope(engine) as session:
            call = Call(source="eu_ft", external_id="REF-1", title="Offshore wind call", status="open",
                        deadline=NOW + timedelta(days=30), first_seen=NOW, last_seen=NOW)
            session.add(call)
            for strategy in ("greentech-dk", "foodbio-dk", None):
                session.add(Idea(strategy=strategy, title=f"Idea of {strategy}", created_at=NOW,
                                 updated_at=NOW))
            session.flush()
            for idea_id in (1, 2, 3):
                session.add(Application(idea_id=idea_id, call_id=call.id, requested_amount=100.0 * idea_id,
                                        created_at=NOW, updated_at=NOW))
        with Session(engine) as session:
            assert [i.id for i in list_ideas(session, scope="foodbio-dk")] == [2, 3]
            assert [i.id for i in list_ideas(session)] == [1, 2, 3]
            assert [a["id"] for a in list_applications(session, NOW, scope="greentech-dk")] == [1, 3]
            assert pipeline_report(session, NOW, scope="foodbio-dk")["requested"] == 500.0
            assert pipeline_report(session, NOW)["requested"] == 600.0
    finally:
        engine.dispose()
